"""The file-level safe tag writer: every write is verified first and all-or-nothing after a crash.

mutagen saving in place damaged files when a write was cut (a tag header followed by old bytes),
and converted frames the user owned when it loaded ID3v2.3; so:

1. Resolve symlinks; remember size, mtime_ns and inode; undo an interrupted write of ours first.
2. Load the file by its content (the format registry's sniffer, as the scanner does), ID3 tags
   exactly as stored: no v2.3 -> v2.4 translation and no ID3v1 merge, so only our frames change.
3. In place when the new tag fits the old tag's room: mutagen saves into an overlay (nothing
   touches the file), the result is verified there, and ``rollback`` journals the old and new
   bytes of the changed pages durably before writing them. A crash leaves old or new.
4. Otherwise the atomic rewrite in a hidden temp file beside the original
   (``.slapdesk-tmp-*.partial``, a name no scanner picks up): copy, tag the copy, verify it
   (our values, every other field, the audio packets), fsync, ``os.replace``, fsync the folder.

Callers (``journal``) store the old values first; this module only touches files.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from engine.atomic_files import replace_file
from slapdesk.library.tags import containers as tagformats
from slapdesk.library.tags import formats, rollback
from slapdesk.library.tags.audio_check import ffmpeg_metadata, packet_md5
from slapdesk.library.tags.containers import container_key, container_kind, to_container
from slapdesk.library.tags.formats import Format
from slapdesk.library.tags.rollback import (
    TEMP_PREFIX,
    TEMP_SUFFIX,
    FolderRecovery,
    is_temp_file,
    recover_folder,
)
from slapdesk.library.tags.write_result import (
    FileChangedError,
    FileStamp,
    TagWriteError,
    WriteResult,
)

log = logging.getLogger(__name__)

__all__ = [
    "TEMP_PREFIX", "TEMP_SUFFIX", "FileChangedError", "FileStamp", "FolderRecovery", "TagState",
    "TagWriteError", "WriteResult", "ffmpeg_metadata", "is_temp_file", "load", "packet_md5",
    "read_fields", "read_tags", "recover_folder", "remove_stale_temp_files", "write_fields",
]  # fmt: skip
_COPY_CHUNK = 1 << 20
_ID3V1 = 128  # an ID3v1 tag: the last 128 bytes, starting with b"TAG"


class _NoRoomError(Exception):
    """Raised from the padding callback: the new tag does not fit; nothing was written."""


def _keep_size(info: Any) -> int:
    # mutagen calls this before writing; keeping the padding that makes the tag the same size
    # means no byte of audio moves. Less than zero means it would have to grow.
    if info.padding < 0:
        raise _NoRoomError
    return info.padding


# ---------------------------------------------------------------------------------- reading


def load(path: str | os.PathLike[str]) -> Any:
    """Open ``path`` with mutagen by its content, ID3 frames as stored (see the module doc).

    Raises:
        TagWriteError: when the file cannot be read as a known audio format.
    """
    return _open_audio(path, detect(path))


def detect(path: str | os.PathLike[str]) -> Format:
    """The file's format as the scanner sees it: content first, extension as the hint.

    Raises:
        TagWriteError: unreadable, or no known format.
    """
    try:
        fmt = formats.detect(path)
    except OSError as exc:
        raise TagWriteError(path, exc) from exc
    if fmt is None:
        raise TagWriteError(path, "not an audio file whose tags can be read")
    return fmt


def _open_audio(source: str | os.PathLike[str] | BinaryIO, fmt: Format) -> Any:
    path = source if isinstance(source, str | os.PathLike) else "the new tag"
    # translate=False: mutagen's v2.3 <-> v2.4 translation rewrites frames the user owns
    # (TMOO dropped, TDRC <-> TYER); load_v1=False: ID3v1 values never leak into the v2 tag.
    options = {"translate": False, "load_v1": False} if fmt.tags == "id3" else {}
    try:
        audio = fmt.mutagen_class(source, **options)
        tags = audio.tags
        if fmt.tags == "id3" and tags is not None and tags.version < (2, 3, 0):
            # ID3v2.2 frames cannot be written back: such a file is upgraded to v2.4.
            if not isinstance(source, str | os.PathLike):
                source.seek(0)
            audio = fmt.mutagen_class(source, load_v1=False)
    except Exception as exc:  # on damaged files mutagen raises far more than MutagenError
        reason = f"not an audio file whose tags can be read (as {fmt.name}: {exc!r})"
        raise TagWriteError(path, reason) from exc
    return audio


@dataclass(frozen=True)
class TagState:
    """Some logical fields of one file, with what is needed to compare values to them."""

    kind: str  # "id3", "vorbis" or "mp4"
    version: int  # ID3v2 minor version the file is saved with (3 or 4; 4 for non-ID3)
    values: dict[str, list[str]]  # logical field -> raw values (empty list: absent)

    def encode(self, values: Sequence[str]) -> list[str]:
        """How ``values`` will read back from this file (ID3v2.3 joins them with "; ")."""
        return to_container(self.kind, values, self.version)


def read_tags(path: str | os.PathLike[str], fields: Sequence[str]) -> TagState:
    """Read logical fields (``genre``, ``mood``, ``slapdesk_*``) as raw lists.

    Raises:
        TagWriteError: when the file cannot be read or its tag type is not supported.
    """
    for field in fields:
        tagformats.check_field(field)
    _recover(Path(os.path.realpath(path)))
    audio = load(path)
    try:
        kind = container_kind(audio)
        version = tagformats.id3_version(audio)
        values = {f: tagformats.get_field(audio, kind, f, version) for f in fields}
    except Exception as exc:  # on damaged files mutagen raises far more than MutagenError
        raise TagWriteError(path, exc) from exc
    return TagState(kind, version, values)


def read_fields(path: str | os.PathLike[str], fields: Sequence[str]) -> dict[str, list[str]]:
    """Read logical fields as raw lists (empty if absent); see ``read_tags``."""
    return read_tags(path, fields).values


# ---------------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class _Plan:
    """One file's write: what to set, and what must stay as it is."""

    real: Path
    fmt: Format
    kind: str  # tag family: id3, vorbis or mp4
    version: int  # ID3v2 minor version to save with (4 for other families)
    wanted: dict[str, list[str]]  # logical field -> raw values
    keys: list[str]  # the frames / keys our fields live in
    user_fields: list[tuple[str, str]]  # snapshot of every other field
    trailer: bytes  # the file's ID3v1 tag, kept byte for byte (b"" when none)


def write_fields(
    path: str | os.PathLike[str],
    values: Mapping[str, Sequence[str]],
    *,
    expect: FileStamp | tuple[int, int] | None = None,
    force_atomic: bool = False,
) -> WriteResult:
    """Set logical fields in one file safely; every other field stays byte-identical.

    Args:
        path: the audio file (a symlink is followed to the real file).
        values: logical field -> new raw values, stored as given (``TagState.encode`` gives
            ID3v2.3's joined form); an empty list removes the field.
        expect: the file's (size, mtime_ns) when it was indexed; a file that differs is not
            written (``FileChangedError``).
        force_atomic: skip the in-place path (tests; files on flaky storage).

    Returns:
        What was done and the file's new stamp.

    Raises:
        TagWriteError: nothing was written; the message says why and what to do.
    """
    real = Path(os.path.realpath(path))
    for field in values:
        tagformats.check_field(field)
    _recover(real)
    try:
        before = FileStamp.of(real)
    except OSError as exc:
        raise TagWriteError(real, exc) from exc
    if isinstance(expect, FileStamp):
        expect = (expect.size, expect.mtime_ns)
    if expect is not None and (before.size, before.mtime_ns) != tuple(expect):
        raise FileChangedError(
            real, "the file changed on disk since it was indexed; rescan it, then write again"
        )
    if not os.access(real, os.W_OK):
        raise TagWriteError(real, "the file is read-only; make it writable to write tags")
    plan, audio = _plan(real, {f: [str(v) for v in vs] for f, vs in values.items()})
    current = {f: tagformats.get_field(audio, plan.kind, f, plan.version) for f in plan.wanted}
    if current == plan.wanted:
        return WriteResult(real, "unchanged", before, before)
    if not force_atomic and _write_in_place(plan, audio, before):
        return WriteResult(real, "in-place", before, FileStamp.of(real))
    _atomic_rewrite(plan, before)
    return WriteResult(real, "atomic", before, FileStamp.of(real))


def _recover(real: Path) -> None:
    try:
        rollback.recover_file(real)
    except OSError as exc:
        raise TagWriteError(real, exc) from exc


def _plan(real: Path, wanted: dict[str, list[str]]) -> tuple[_Plan, Any]:
    fmt = detect(real)
    audio = _open_audio(real, fmt)
    try:
        kind = container_kind(audio)
    except tagformats.UnsupportedFieldError as exc:
        raise TagWriteError(real, str(exc)) from exc
    version = tagformats.id3_version(audio)
    keys = [container_key(kind, f, version) for f in wanted]
    user_fields = tagformats.snapshot(audio, kind, keys)
    plan = _Plan(real, fmt, kind, version, wanted, keys, user_fields, _id3v1(real, fmt))
    return plan, audio


def _id3v1(real: Path, fmt: Format) -> bytes:
    if fmt.key != "mp3":
        return b""
    with open(real, "rb") as source:
        if source.seek(0, os.SEEK_END) < _ID3V1:
            return b""
        source.seek(-_ID3V1, os.SEEK_END)
        tail = source.read(_ID3V1)
    return tail if tail.startswith(b"TAG") else b""


def _save_kwargs(kind: str, version: int) -> dict[str, Any]:
    if kind != "id3":
        return {}
    # v23_sep=None keeps multi-value frames NUL-separated as they were loaded (no join).
    return {"v2_version": version, "v23_sep": None} if version == 3 else {"v2_version": 4}


def _save(audio: Any, plan: _Plan, target: BinaryIO, **extra: Any) -> None:
    """Set our fields on ``audio`` and save it into ``target``, the ID3v1 tag left as it was."""
    for field, raw in plan.wanted.items():
        tagformats.set_field(audio, plan.kind, field, raw, plan.version)
    audio.save(target, **_save_kwargs(plan.kind, plan.version), **extra)
    if plan.trailer:
        # mutagen rewrites an ID3v1 tag from the v2 frames; it is the user's, not ours.
        target.seek(-_ID3V1, os.SEEK_END)
        if target.read(3) == b"TAG":
            target.seek(-_ID3V1, os.SEEK_END)
            target.write(plan.trailer)


def _write_in_place(plan: _Plan, audio: Any, before: FileStamp) -> bool:
    """Write in place through the rollback journal; False when the tag does not fit."""
    try:
        with open(plan.real, "rb") as source:
            overlay = rollback.Overlay(source)
            try:
                _save(audio, plan, overlay, padding=_keep_size)  # type: ignore[arg-type]
            except (_NoRoomError, rollback.WouldResizeError):
                return False
            overlay.seek(0)
            _check(plan, _open_audio(overlay, plan.fmt))  # type: ignore[arg-type]
            if FileStamp.of(plan.real) != before:
                raise FileChangedError(plan.real, "the file changed on disk while it was tagged")
            rollback.write_in_place(plan.real, overlay)
    except TagWriteError:
        raise
    except Exception as exc:
        raise TagWriteError(plan.real, exc) from exc
    return True


def _atomic_rewrite(plan: _Plan, before: FileStamp) -> None:
    """Copy, tag the copy, verify it, then swap it in: the original is whole until the swap."""
    real = plan.real
    st = os.stat(real)
    if st.st_nlink > 1:
        raise TagWriteError(
            real,
            f"the file has {st.st_nlink} hard links and its tag does not fit in place; "
            "a safe rewrite would split them",
        )
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=real.parent)
        os.close(fd)
    except OSError as exc:
        raise TagWriteError(real, exc) from exc
    tmp = Path(tmp_name)
    try:
        audio_md5 = packet_md5(real)
        with rollback.open_for_write(tmp, "wb") as out, open(real, "rb") as src:
            shutil.copyfileobj(src, out, _COPY_CHUNK)
        shutil.copystat(real, tmp)
        _copy_owner(st, tmp)
        copy = _open_audio(tmp, plan.fmt)
        with rollback.open_for_write(tmp, "r+b") as out:
            _save(copy, plan, out)
        _check(plan, _open_audio(tmp, plan.fmt))
        if packet_md5(tmp) != audio_md5:
            raise TagWriteError(real, "verification failed: the audio data would have changed")
        if FileStamp.of(real) != before:
            raise FileChangedError(real, "the file changed on disk while its tags were written")
        replace_file(tmp, real)
    except BaseException as exc:
        rollback.unlink_quietly(tmp)
        if isinstance(exc, TagWriteError) or not isinstance(exc, Exception):
            raise  # KeyboardInterrupt / SystemExit: the temp file is gone, the original intact
        raise TagWriteError(real, exc) from exc


def _check(plan: _Plan, check: Any) -> None:
    """The new tag as read back: our values, every other field as it was, same tag version."""
    real, kind = plan.real, plan.kind
    if container_kind(check) != kind or tagformats.id3_version(check) != plan.version:
        raise TagWriteError(real, "verification failed: the tag type or version changed")
    for field, raw in plan.wanted.items():
        got = tagformats.get_field(check, kind, field, plan.version)
        if got != raw:
            raise TagWriteError(real, f"verification failed: {field} reads back as {got!r}")
    if tagformats.snapshot(check, kind, plan.keys) != plan.user_fields:
        raise TagWriteError(real, "verification failed: another tag field would have changed")


def _copy_owner(st: os.stat_result, tmp: Path) -> None:
    # os.replace gives the file the temp file's owner; keep the original's where we may.
    if (st.st_uid, st.st_gid) == (os.getuid(), os.getgid()):
        return
    try:
        os.chown(tmp, st.st_uid, st.st_gid)
    except OSError:
        log.debug("cannot keep the owner of %s", tmp, exc_info=True)


def remove_stale_temp_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Recover ``folder`` after a crash; returns the stale files removed.

    Interrupted in-place writes are undone from their journals first (``rollback``), so a
    file read afterwards is whole: exactly its old tags. ``recover_folder`` also names the
    files it put back, for a report that says what happened to them.
    """
    return recover_folder(folder).removed
