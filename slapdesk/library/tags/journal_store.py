"""The undo journal's rows and the library state a tag write keeps current.

Shared by ``journal`` (apply and undo) and ``recovery``: the run and change rows, the
single-writer lock, where a write may go (only inside the library's folders), and what a
written file's track row must hold afterwards (stamp, content fingerprint, tag columns) so a
rescan skips it and a move keeps its identity.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from slapdesk.library.progress import Progress
from slapdesk.library.tags import read as tagread
from slapdesk.library.tags.write import FileStamp

if TYPE_CHECKING:
    from slapdesk.library.store.database import Database

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


class JournalBusyError(Exception):
    """Another process is writing tags to the same library."""


@dataclass(frozen=True)
class FileJob:
    """One file of a run: the fields to write and the rows that journal them."""

    path: Path  # as given (reported back to the caller)
    track_id: int | None
    new: dict[str, list[str]]  # field -> raw values to write
    old: dict[str, list[str]]  # field -> raw values now in the file
    expect: FileStamp  # the file as read just before journaling
    real: Path | None = None  # the checked file the write goes to (symlinks resolved)

    @property
    def target(self) -> Path:
        """The file to write: the checked real path, never a link to follow again."""
        return self.real if self.real is not None else Path(os.path.realpath(self.path))


def now() -> float:
    """Seconds since the epoch, for the journal's timestamps."""
    return time.time()


def blob(path: str | os.PathLike[str]) -> bytes:
    """A path as the library stores it (absolute, bytes)."""
    return os.fsencode(os.path.abspath(path))


try:
    import fcntl
except ImportError:  # Windows: the single writer thread is all we have
    fcntl = None  # type: ignore[assignment]

# Whether another process's run in progress can be told apart from a crashed one: only then
# may a command that writes no tags recover (elsewhere tag, undo and the window do).
CAN_LOCK = fcntl is not None


@contextlib.contextmanager
def writer_lock(db: Database) -> Iterator[None]:
    """Hold the library's tag-writer lock (one tag-writing process per library at a time).

    Raises:
        JournalBusyError: another process holds it.
    """
    if fcntl is None:
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


# ------------------------------------------------------------------------ where writes go


def library_roots(db: Database) -> list[str]:
    """The library's folders with symlinks resolved: a write must land inside one of them."""
    roots = []
    for (path,) in db.execute("SELECT path FROM folders"):
        roots.append(os.path.realpath(os.fsdecode(path)))
    return roots


def outside_library(path: Path, real: str, roots: Sequence[str]) -> str | None:
    """Why writing ``path`` (resolving to ``real``) would leave the library, or None.

    A library without folders (files added by hand) still never follows a symbolic link:
    only a path that is its own real file may be written.
    """
    if roots:
        if any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots):
            return None
    elif real == os.path.abspath(path):
        return None
    return (
        f"it is a symbolic link to {real}, outside the library's folders; "
        "SlapDesk writes only inside them (not followed)"
    )


# --------------------------------------------------------------------------- track rows

# Columns of tracks refreshed from the file after a write (tagread.ReadResult field names).
_TAG_COLUMNS = (
    "title", "artist", "album", "albumartist", "genre", "mood", "year", "track_number",
    "comment", "bpm", "tags",
)  # fmt: skip


def track_id_for(db: Database, path: Path, track_id: int | None) -> int | None:
    """The track's id: the one given, else the row at ``path`` (None when not indexed)."""
    if track_id is not None:
        return track_id
    row = db.execute("SELECT id FROM tracks WHERE path = ?", (blob(path),)).fetchone()
    return int(row[0]) if row else None


def indexed_stamp(db: Database, path: Path, track_id: int | None) -> tuple[int, int] | None:
    """The (size, mtime_ns) the library holds for this file, or None when it is not indexed."""
    if track_id is not None:
        row = db.execute("SELECT size, mtime_ns FROM tracks WHERE id = ?", (track_id,)).fetchone()
    else:
        row = db.execute(
            "SELECT size, mtime_ns FROM tracks WHERE path = ?", (blob(path),)
        ).fetchone()
    return (int(row[0]), int(row[1])) if row else None


def track_update(track_id: int | None, path: Path) -> dict[str, object] | None:
    """After a write: the file's identity as a scan would store it, and its tag columns.

    Size, mtime_ns and inode make the next scan skip the file; the content fingerprint (the
    scanner's own, from the same reader) lets a later move of the file keep its row, and so
    its id, vectors and journal history. None when the file is not indexed or is gone.
    """
    if track_id is None:
        return None
    try:
        stamp = FileStamp.of(os.path.realpath(path))
    except OSError:
        return None
    sets: dict[str, object] = {"size": stamp.size, "mtime_ns": stamp.mtime_ns}
    sets["inode"] = stamp.inode
    read = tagread.read_file(blob(path))
    if read.fingerprint is not None:
        sets["fingerprint"] = read.fingerprint
    if read.status != "error":
        sets.update({name: getattr(read, name) for name in _TAG_COLUMNS})
    sets["updated_at"] = now()
    return sets


def store_track(conn: sqlite3.Connection, track_id: int | None, sets: dict | None) -> None:
    """Write ``track_update``'s values into the track's row (inside the caller's transaction)."""
    if track_id is None or not sets:
        return
    assignments = ", ".join(f"{k} = ?" for k in sets)
    conn.execute(f"UPDATE tracks SET {assignments} WHERE id = ?", (*sets.values(), track_id))


# ----------------------------------------------------------------------------- run rows


def _row_id(cursor: sqlite3.Cursor) -> int:
    if cursor.lastrowid is None:  # an INSERT always sets it; this keeps the type exact
        raise sqlite3.DatabaseError("INSERT returned no row id")
    return cursor.lastrowid


def new_run(db: Database, vocab: str | None, policy: str, model_id: str | None,
            extra: dict) -> int:  # fmt: skip
    """Insert a run in state ``running``; returns its id."""
    with db.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO tag_runs (created_at, model_id, vocab, policy, status, summary) "
            "VALUES (?, ?, ?, ?, 'running', ?)",
            (now(), model_id, vocab, policy, json.dumps(extra)),
        )
        return _row_id(cursor)


def finish_run(db: Database, result: RunResult, extra: dict) -> None:
    """Mark a run ``done`` (or ``cancelled``) with its counts."""
    status = "cancelled" if result.cancelled else "done"
    with db.transaction() as conn:
        conn.execute(
            "UPDATE tag_runs SET status = ?, finished_at = ?, summary = ? WHERE id = ?",
            (status, now(), json.dumps({**extra, **result.summary()}), result.run_id),
        )


def journal_job(db: Database, run_id: int, job: FileJob) -> list[int]:
    """Store the old and new value of every field as ``pending``; committed before the write."""
    ids = []
    with db.transaction() as conn:
        for name, new in job.new.items():
            cursor = conn.execute(
                "INSERT INTO tag_changes (run_id, track_id, path, field, old, new, state, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
                (
                    run_id, job.track_id, blob(job.path), name,
                    json.dumps(job.old.get(name, [])), json.dumps(new), now(),
                ),
            )  # fmt: skip
            ids.append(_row_id(cursor))
    return ids


def mark(conn: sqlite3.Connection, ids: Sequence[int], state: str,
         error: str | None = None) -> None:  # fmt: skip
    """Set the state (and error) of change rows."""
    marks = [(state, error, now(), i) for i in ids]
    conn.executemany(
        "UPDATE tag_changes SET state = ?, error = ?, updated_at = ? WHERE id = ?", marks
    )


def mark_undone(conn: sqlite3.Connection, run_id: int | None, path_blob: bytes,
                track_id: int | None, name: str) -> None:  # fmt: skip
    """Mark the original run's applied row for this file and field ``undone``.

    The file is matched by path, or by track when the file moved since the run.
    """
    if run_id is None:
        return
    conn.execute(
        "UPDATE tag_changes SET state = 'undone', updated_at = ? "
        "WHERE run_id = ? AND field = ? AND state = 'applied' "
        "AND (path = ? OR (track_id IS NOT NULL AND track_id = ?))",
        (now(), run_id, name, path_blob, track_id),
    )
