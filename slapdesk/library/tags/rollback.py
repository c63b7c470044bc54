"""In-place tag writes that are all-or-nothing after a crash, and the files that make them so.

A tag that fits its old room could be saved straight into the file, but one ``write()`` cut by a
kill or a power loss leaves a new tag header in front of old bytes: cut at every 4 KiB page,
most such files no longer opened. So an in-place write here goes:

1. mutagen saves into an :class:`Overlay` (the file opened read-only, seen through writes kept
   in memory); a save that would change the file's size stops with ``WouldResizeError`` (the
   caller then takes the verified copy). The caller verifies the new tag on the overlay.
2. The 4 KiB pages that differ are journaled, old and new bytes, into a hidden
   ``.slapdesk-tmp-*.rollback`` file beside the audio file with a checksum; file and folder
   are fsynced before the first byte of the audio file changes.
3. The new pages are written and fsynced; then the journal is deleted.

``recover_folder`` (run at start-up) puts back the old pages of any file with a complete
journal, so a cut write ends as the old file; a journal without a valid checksum was never
followed by a write and is simply removed. Stale temp files of the copy path go too.

Every byte this module or the writer puts into a user's folder goes through
:func:`open_for_write`, one place where tests cut writes short.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, cast

from engine.atomic_files import fsync_dir

log = logging.getLogger(__name__)

PAGE = 4096
TEMP_PREFIX = ".slapdesk-tmp-"  # hidden: starts with a dot
TEMP_SUFFIX = ".partial"  # a copy being tagged; no audio extension, so scanners skip it
JOURNAL_SUFFIX = ".rollback"  # old and new bytes of an in-place write
_MAGIC = b"SLAPDESK-ROLLBACK-1\n"
_HEAD = struct.Struct("<QqqI")  # the file's size, atime_ns, mtime_ns; number of runs
_RUN = struct.Struct("<QQ")  # offset, length


class WouldResizeError(Exception):
    """The save would change the file's size: not an in-place write (nothing was written)."""


def open_for_write(path: str | os.PathLike[str], mode: str) -> BinaryIO:
    """Open a file for writing; every write SlapDesk makes in a music folder starts here."""
    return cast(BinaryIO, open(path, mode))  # binary modes only


def unlink_quietly(path: str | os.PathLike[str]) -> None:
    """Remove a file of ours; a missing one is fine, any other failure is logged."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError:
        log.warning("could not remove %s", path, exc_info=True)


def is_temp_file(name: str | os.PathLike[str]) -> bool:
    """Whether a file name is one of the writer's own files (scanners must skip these)."""
    base = os.path.basename(os.fsdecode(name))
    return base.startswith(TEMP_PREFIX) and base.endswith((TEMP_SUFFIX, JOURNAL_SUFFIX))


# ------------------------------------------------------------------------------------ overlay


class Overlay(io.RawIOBase):
    """A file opened read-only, seen through writes that are kept in memory, page by page."""

    def __init__(self, source: BinaryIO) -> None:
        super().__init__()
        self._source = source
        self.size = source.seek(0, os.SEEK_END)
        self._pages: dict[int, bytearray] = {}
        self._pos = 0

    def readable(self) -> bool:  # noqa: D102
        return True

    def writable(self) -> bool:  # noqa: D102
        return True

    def seekable(self) -> bool:  # noqa: D102
        return True

    def tell(self) -> int:  # noqa: D102
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:  # noqa: D102
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def _page(self, index: int) -> bytearray:
        page = self._pages.get(index)
        if page is None:
            self._source.seek(index * PAGE)
            page = bytearray(self._source.read(min(PAGE, self.size - index * PAGE)))
            self._pages[index] = page
        return page

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]  # noqa: D102
        end = min(self.size, self._pos + len(buffer))
        done = 0
        while self._pos < end:
            index, start = divmod(self._pos, PAGE)
            take = min(PAGE - start, end - self._pos)
            chunk: bytes | bytearray
            if index in self._pages:
                chunk = self._pages[index][start : start + take]
            else:
                self._source.seek(self._pos)
                chunk = self._source.read(take)
            buffer[done : done + len(chunk)] = chunk
            done += len(chunk)
            self._pos += len(chunk)
        return done

    def write(self, data: bytes) -> int:  # type: ignore[override]  # noqa: D102
        view = memoryview(data).cast("B")
        if self._pos + len(view) > self.size:
            raise WouldResizeError
        written = 0
        while written < len(view):
            index, start = divmod(self._pos, PAGE)
            take = min(PAGE - start, len(view) - written)
            self._page(index)[start : start + take] = view[written : written + take]
            written += take
            self._pos += take
        return written

    def truncate(self, size: int | None = None) -> int:  # noqa: D102
        if (self._pos if size is None else size) != self.size:
            raise WouldResizeError
        return self.size

    def changed_runs(self) -> list[tuple[int, bytes, bytes]]:
        """``(offset, old, new)`` for each stretch of consecutive pages whose bytes changed."""
        runs: list[tuple[int, bytes, bytes]] = []
        for index in sorted(self._pages):
            self._source.seek(index * PAGE)
            old = self._source.read(len(self._pages[index]))
            new = bytes(self._pages[index])
            if old == new:
                continue
            offset = index * PAGE
            if runs and runs[-1][0] + len(runs[-1][1]) == offset:
                start, old_run, new_run = runs.pop()
                runs.append((start, old_run + old, new_run + new))
            else:
                runs.append((offset, old, new))
        return runs


# ----------------------------------------------------------------------------- the journal


def journal_path(target: Path) -> Path:
    """Where the rollback journal of ``target`` lives (same folder, fixed-length hidden name)."""
    digest = hashlib.sha256(os.fsencode(target.name)).hexdigest()[:24]
    return target.parent / f"{TEMP_PREFIX}{digest}{JOURNAL_SUFFIX}"


def _encode(target: Path, size: int, runs: list[tuple[int, bytes, bytes]]) -> Iterator[bytes]:
    name = os.fsencode(target.name)
    st = os.stat(target)
    head = _HEAD.pack(size, st.st_atime_ns, st.st_mtime_ns, len(runs))
    yield _MAGIC + struct.pack("<H", len(name)) + name + head
    for offset, old, new in runs:
        yield _RUN.pack(offset, len(old))
        yield old
        yield new


def write_in_place(target: Path, overlay: Overlay) -> int:
    """Journal the changed pages durably, then write them into ``target``; bytes written.

    Raises:
        OSError: the journal or the write failed. A failed journal leaves the file untouched;
            a failed write is undone from the journal before this returns.
    """
    runs = overlay.changed_runs()
    if not runs:
        return 0
    journal = journal_path(target)
    digest = hashlib.sha256()
    try:
        with open_for_write(journal, "wb") as out:
            for part in _encode(target, overlay.size, runs):
                digest.update(part)
                out.write(part)
            out.write(digest.digest())
            out.flush()
            os.fsync(out.fileno())
        fsync_dir(target.parent)
    except BaseException:
        unlink_quietly(journal)  # incomplete: recovery would drop it anyway
        raise
    try:
        _put(target, [(offset, new) for offset, _old, new in runs])
    except Exception:
        _recover_journal(journal, FolderRecovery())  # put the old bytes (and times) back
        raise
    unlink_quietly(journal)
    fsync_dir(target.parent)
    return sum(len(new) for _offset, _old, new in runs)


def _put(target: Path, pieces: list[tuple[int, bytes]]) -> None:
    with open_for_write(target, "r+b") as out:
        for offset, data in pieces:
            out.seek(offset)
            out.write(data)
        out.flush()
        os.fsync(out.fileno())


@dataclass
class _Journal:
    target: Path
    size: int
    times_ns: tuple[int, int]  # atime, mtime before the write
    runs: list[tuple[int, bytes, bytes]]


def _parse(path: Path) -> _Journal | None:
    """A complete journal, or None when it was cut short (its write never followed)."""
    data = path.read_bytes()
    body, checksum = data[:-32], data[-32:]
    if not data.startswith(_MAGIC) or hashlib.sha256(body).digest() != checksum:
        return None
    view = memoryview(body)
    pos = len(_MAGIC)
    (name_length,) = struct.unpack_from("<H", view, pos)
    name = bytes(view[pos + 2 : pos + 2 + name_length])
    pos += 2 + name_length
    size, atime_ns, mtime_ns, count = _HEAD.unpack_from(view, pos)
    pos += _HEAD.size
    runs = []
    for _ in range(count):
        offset, length = _RUN.unpack_from(view, pos)
        pos += _RUN.size
        old = bytes(view[pos : pos + length])
        runs.append((offset, old, bytes(view[pos + length : pos + 2 * length])))
        pos += 2 * length
    return _Journal(path.parent / os.fsdecode(name), size, (atime_ns, mtime_ns), runs)


def _holds_old_or_new(target: Path, journal: _Journal) -> bool:
    """Whether every journaled byte of ``target`` is its old or its new value (a cut write)."""
    if target.stat().st_size != journal.size:
        return False
    with open(target, "rb") as source:
        for offset, old, new in journal.runs:
            source.seek(offset)
            now = source.read(len(old))
            if now in (old, new):
                continue
            if len(now) != len(old):
                return False
            if any(c not in (o, n) for c, o, n in zip(now, old, new, strict=True)):
                return False
    return True


@dataclass
class FolderRecovery:
    """What recovery did in one folder."""

    restored: list[Path] = field(default_factory=list)  # cut in-place writes put back to old
    removed: list[Path] = field(default_factory=list)  # stale temp files and empty journals
    left: list[tuple[Path, str]] = field(default_factory=list)  # not restored, and why


def recover_folder(folder: str | os.PathLike[str]) -> FolderRecovery:
    """Undo every in-place write a crash cut short in ``folder``; remove stale temp files.

    Restoring is idempotent: a crash during recovery is recovered from by the next one.
    """
    report = FolderRecovery()
    try:
        entries = [Path(e.path) for e in os.scandir(folder) if e.is_file(follow_symlinks=False)]
    except OSError:
        return report
    for path in sorted(entries):
        if not is_temp_file(path.name):
            continue
        if path.name.endswith(JOURNAL_SUFFIX):
            _recover_journal(path, report)
        else:
            unlink_quietly(path)
            report.removed.append(path)
    return report


def recover_file(target: Path) -> bool:
    """Undo an interrupted in-place write of ``target`` if one is journaled; True if undone.

    The writer calls this before it reads or writes a file, so that a new journal never
    replaces one that still holds the way back.
    """
    journal = journal_path(target)
    if not journal.exists():
        return False
    report = FolderRecovery()
    _recover_journal(journal, report)
    if report.left:
        raise OSError(f"an interrupted tag write cannot be undone: {report.left[0][1]}")
    return bool(report.restored)


def _recover_journal(path: Path, report: FolderRecovery) -> None:
    try:
        journal = _parse(path)
        if journal is None:
            unlink_quietly(path)
            report.removed.append(path)
            return
        if not _holds_old_or_new(journal.target, journal):
            # Someone changed the file since: restoring would destroy their change.
            report.left.append((journal.target, "changed since an interrupted tag write"))
            log.warning("%s: changed since an interrupted tag write; left as is", journal.target)
            return
        _put(journal.target, [(offset, old) for offset, old, _new in journal.runs])
        # The file is its old self again, times included, so the library's stamp holds.
        os.utime(journal.target, ns=journal.times_ns)
    except OSError as exc:
        report.left.append((path, f"cannot restore: {exc.strerror or exc}"))
        log.warning("cannot restore from %s", path, exc_info=True)
        return
    unlink_quietly(path)
    fsync_dir(path.parent)
    report.restored.append(journal.target)
    log.warning("%s: an interrupted tag write was undone", journal.target)
