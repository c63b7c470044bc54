"""The journal's rows and the pieces every tagging run shares: runs, stamps, the writer lock.

``journal`` (apply and undo) and ``recovery`` build on these: a file's old values are
journaled ``pending`` before it is written, then marked ``applied`` or ``failed``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

from slapdesk.library.progress import Progress
from slapdesk.library.tags import read as tagread
from slapdesk.library.tags import write as tagwrite
from slapdesk.library.tags.write import FileStamp, TagWriteError

if TYPE_CHECKING:
    from slapdesk.library.store.database import Database

log = logging.getLogger(__name__)

UNDO_POLICY = "undo"  # tag_runs.policy of a run made by undo()


ProgressFn = Callable[[Progress], None]


@dataclass
class RunResult:
    """What one run (apply or undo) did."""

    run_id: int  # tag_runs.id
    written: list[Path] = field(default_factory=list)  # files whose tags changed
    unchanged: list[Path] = field(default_factory=list)  # files that already had the values
    failed: list[tuple[Path, str]] = field(default_factory=list)  # (file, reason)
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # changed on disk: not touched
    cancelled: bool = False  # the cancel event stopped the run early

    def summary(self) -> dict[str, int | bool]:
        """Counts for tag_runs.summary and for reports."""
        return {
            "written": len(self.written),
            "unchanged": len(self.unchanged),
            "failed": len(self.failed),
            "skipped": len(self.skipped),
            "cancelled": self.cancelled,
        }


class NothingToUndoError(Exception):
    """There is no applied run (or the given run has nothing left to undo)."""


class JournalBusyError(Exception):
    """Another process is writing tags to the same library."""


@dataclass(frozen=True)
class _FileJob:
    """One file of a run: the fields to write and the rows that journal them."""

    path: Path  # as given (the writer resolves symlinks)
    track_id: int | None
    new: dict[str, list[str]]  # field -> raw values to write
    old: dict[str, list[str]]  # field -> raw values now in the file
    expect: FileStamp  # the file as read just before journaling


# ----------------------------------------------------------------------------------- helpers


def _now() -> float:
    return time.time()


def _blob(path: str | os.PathLike[str]) -> bytes:
    return os.fsencode(os.path.abspath(path))


@contextlib.contextmanager
def writer_lock(db: Database) -> Iterator[None]:
    """Hold the library's tag-writer lock (one tag-writing process per library at a time).

    Raises:
        JournalBusyError: another process holds it.
    """
    try:
        import fcntl
    except ImportError:  # Windows: the single writer thread is all we have
        yield
        return
    lock_path = Path(f"{db.path}-tagwrite.lock")
    with open(lock_path, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise JournalBusyError(
                "another SlapDesk process is writing tags to this library; "
                "wait for it to finish, then try again"
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _indexed_stamp(db: Database, path: Path, track_id: int | None) -> tuple[int, int] | None:
    """The (size, mtime_ns) the library holds for this file, or None when it is not indexed."""
    if track_id is not None:
        row = db.execute("SELECT size, mtime_ns FROM tracks WHERE id = ?", (track_id,)).fetchone()
    else:
        row = db.execute(
            "SELECT size, mtime_ns FROM tracks WHERE path = ?", (_blob(path),)
        ).fetchone()
    return (int(row[0]), int(row[1])) if row else None


def _track_id(db: Database, path: Path, track_id: int | None) -> int | None:
    if track_id is not None:
        return track_id
    row = db.execute("SELECT id FROM tracks WHERE path = ?", (_blob(path),)).fetchone()
    return int(row[0]) if row else None


# Columns of tracks refreshed from the file after a write (tagread.ReadResult field names).
_TAG_COLUMNS = (
    "title", "artist", "album", "albumartist", "genre", "mood", "year", "track_number",
    "comment", "bpm", "tags",
)  # fmt: skip


def _track_update(track_id: int | None, path: Path) -> dict[str, object] | None:
    """After a write: the file's new stamp (so the next scan skips it) and its tag columns.

    Reads the file with the scanner's own reader, so the row matches what a rescan would store.
    """
    if track_id is None:
        return None
    try:
        stamp = FileStamp.of(os.path.realpath(path))
    except OSError:
        return None
    sets: dict[str, object] = {"size": stamp.size, "mtime_ns": stamp.mtime_ns}
    sets["inode"] = stamp.inode
    read = tagread.read_file(_blob(path))
    if read.status != "error":
        sets.update({name: getattr(read, name) for name in _TAG_COLUMNS})
    sets["updated_at"] = _now()
    return sets


def _store_track(conn: sqlite3.Connection, track_id: int | None, sets: dict | None) -> None:
    if track_id is None or not sets:
        return
    assignments = ", ".join(f"{k} = ?" for k in sets)
    conn.execute(f"UPDATE tracks SET {assignments} WHERE id = ?", (*sets.values(), track_id))


def _new_run(
    db: Database, vocab: str | None, policy: str, model_id: str | None, extra: dict
) -> int:
    with db.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO tag_runs (created_at, model_id, vocab, policy, status, summary) "
            "VALUES (?, ?, ?, ?, 'running', ?)",
            (_now(), model_id, vocab, policy, json.dumps(extra)),
        )
        return cast(int, cursor.lastrowid)  # an INSERT always sets it


def _finish_run(db: Database, result: RunResult, extra: dict) -> None:
    status = "cancelled" if result.cancelled else "done"
    with db.transaction() as conn:
        conn.execute(
            "UPDATE tag_runs SET status = ?, finished_at = ?, summary = ? WHERE id = ?",
            (status, _now(), json.dumps({**extra, **result.summary()}), result.run_id),
        )


def _journal(db: Database, run_id: int, job: _FileJob) -> list[int]:
    """Store the old and new value of every field as ``pending``; committed before the write."""
    ids = []
    with db.transaction() as conn:
        for name, new in job.new.items():
            cursor = conn.execute(
                "INSERT INTO tag_changes (run_id, track_id, path, field, old, new, state, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
                (
                    run_id, job.track_id, _blob(job.path), name,
                    json.dumps(job.old.get(name, [])), json.dumps(new), _now(),
                ),
            )  # fmt: skip
            ids.append(cast(int, cursor.lastrowid))  # an INSERT always sets it
    return ids


def _mark(conn: object, ids: Sequence[int], state: str, error: str | None = None) -> None:
    marks = [(state, error, _now(), i) for i in ids]
    conn.executemany(  # type: ignore[attr-defined]
        "UPDATE tag_changes SET state = ?, error = ?, updated_at = ? WHERE id = ?", marks
    )


def _write_job(db: Database, run_id: int, job: _FileJob, result: RunResult) -> list[int] | None:
    """Journal, write, mark. Returns the row ids when the file was written, else None."""
    ids = _journal(db, run_id, job)
    try:
        tagwrite.write_fields(job.path, job.new, expect=job.expect)
    except TagWriteError as exc:
        with db.transaction() as conn:
            _mark(conn, ids, "failed", exc.reason)
        result.failed.append((job.path, exc.reason))
        log.warning("%s", exc)
        return None
    track = _track_update(job.track_id, job.path)
    with db.transaction() as conn:
        _mark(conn, ids, "applied")
        _store_track(conn, job.track_id, track)
    result.written.append(job.path)
    return ids


def _report(progress: ProgressFn | None, done: int, total: int, message: str) -> None:
    if progress is not None:
        progress(Progress(done, total, message))
