"""The undo journal around the safe writer: journal first, then write, then mark the outcome.

For every file, so that any crash can be undone: the old value of every field about to change
is stored in ``tag_changes`` in state ``pending`` and committed *before* the file is touched;
then the file is written through ``tagwrite.write_fields``; then the rows become ``applied`` or
``failed`` and the track's size / mtime_ns are updated so the next scan skips the file. A kill
at any point leaves rows ``pending``; ``recover`` (run at start-up and before every run)
reconciles them with the file.

``undo`` restores the old values of a run through the same path; it is itself a run (policy
``undo``), so an undo can be undone. Every function runs on the caller's thread, which must be
the app's single writer thread, takes a cancel ``threading.Event`` and reports ``Progress``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

from slapdesk.library.progress import Progress
from slapdesk.library.tags import read as tagread
from slapdesk.library.tags import write as tagwrite
from slapdesk.library.tags.plan import PlannedChange, check_policy, fields_for, plan_fields
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


# ------------------------------------------------------------------------------------- apply


def _group(changes: Sequence[PlannedChange]) -> dict[Path, list[PlannedChange]]:
    grouped: dict[Path, list[PlannedChange]] = {}
    for change in changes:
        grouped.setdefault(Path(os.path.abspath(change.path)), []).append(change)
    return grouped


def _plan_file(
    db: Database, path: Path, changes: list[PlannedChange], policy: str
) -> _FileJob | str | None:
    """Read the file and plan its writes: a job, a reason to skip it (str), or None (no change)."""
    track_id = _track_id(db, path, changes[0].track_id)
    try:
        stamp = FileStamp.of(os.path.realpath(path))
    except OSError as exc:
        raise TagWriteError(path, exc) from exc
    indexed = _indexed_stamp(db, path, track_id)
    if indexed is not None and indexed != (stamp.size, stamp.mtime_ns):
        return "changed on disk since it was indexed; rescan it, then tag again"
    fields = list(dict.fromkeys(f for c in changes for f in fields_for(c.vocab, policy)))
    state = tagwrite.read_tags(path, fields)
    new: dict[str, list[str]] = {}
    for change in changes:
        current = {**state.values, **new}
        for name, values in plan_fields(change, current, policy).items():
            new[name] = state.encode(values)
    new = {k: v for k, v in new.items() if v != state.values.get(k, [])}
    if not new:
        return None
    old = {k: state.values.get(k, []) for k in new}
    return _FileJob(path, track_id, new, old, stamp)


def apply_changes(
    db: Database,
    changes: Sequence[PlannedChange],
    policy: str = "own-fields",
    *,
    model_id: str | None = None,
    vocab: str | None = None,
    cancel: threading.Event | None = None,
    progress: ProgressFn | None = None,
) -> RunResult:
    """Write planned tags into the files, journaled and undoable, as one run.

    Args:
        db: the library (its writer connection; call from the single writer thread).
        changes: what to write; several changes for one file are written in one go.
        policy: ``own-fields`` (default), ``fill-empty``, ``merge`` or ``replace``.
        model_id: the model that proposed the tags (stored with the run).
        vocab: the vocabulary name(s) for the run list; default: those of ``changes``.
        cancel: set it to stop after the current file.
        progress: called after every file.

    Returns:
        The run's id and what happened to every file. Per-file problems never raise.

    Raises:
        JournalBusyError: another process is writing tags to this library.
        ValueError: an unknown policy.
    """
    check_policy(policy)
    grouped = _group(changes)
    if vocab is None:
        vocab = ",".join(dict.fromkeys(c.vocab for c in changes))
    with writer_lock(db):
        _recover_locked(db)
        result = RunResult(_new_run(db, vocab, policy, model_id, {}))
        for done, (path, file_changes) in enumerate(grouped.items()):
            if cancel is not None and cancel.is_set():
                result.cancelled = True
                break
            try:
                job = _plan_file(db, path, file_changes, policy)
            except TagWriteError as exc:
                result.failed.append((path, exc.reason))
                log.warning("%s", exc)
                job = None
            if isinstance(job, str):
                result.skipped.append((path, job))
                log.warning("%s: skipped: %s", path, job)
            elif job is None:
                if not any(p == path for p, _ in result.failed):
                    result.unchanged.append(path)
            else:
                _write_job(db, result.run_id, job, result)
            _report(progress, done + 1, len(grouped), os.fsdecode(path.name))
        _finish_run(db, result, {})
    return result


# ----------------------------------------------------------------------------------- undo


def _undo_target(db: Database, run_id: int | None) -> int:
    if run_id is None:
        row = db.execute("SELECT MAX(run_id) FROM tag_changes WHERE state = 'applied'").fetchone()
        if row is None or row[0] is None:
            raise NothingToUndoError("there is no tagging run to undo")
        return int(row[0])
    if db.execute("SELECT 1 FROM tag_runs WHERE id = ?", (run_id,)).fetchone() is None:
        raise NothingToUndoError(f"there is no run {run_id} (see `slapdesk runs`)")
    row = db.execute(
        "SELECT 1 FROM tag_changes WHERE run_id = ? AND state = 'applied' LIMIT 1", (run_id,)
    ).fetchone()
    if row is None:
        raise NothingToUndoError(f"run {run_id} has no applied changes left to undo")
    return run_id


def _undo_plan(db: Database, path: Path, rows: list[tuple]) -> _FileJob | str:
    """Plan restoring one file: a job, or why it is skipped (it changed since the run)."""
    track_id = rows[0][1]
    stamp = FileStamp.of(os.path.realpath(path))
    indexed = _indexed_stamp(db, path, track_id)
    if indexed is not None and indexed != (stamp.size, stamp.mtime_ns):
        return "changed on disk since it was indexed; not overwritten (rescan it first)"
    state = tagwrite.read_tags(path, [r[2] for r in rows])
    new, old = {}, {}
    for _row_id, _track, name, old_json, new_json in rows:
        if state.values[name] != state.encode(json.loads(new_json)):
            return f"its {name} changed since the run wrote it; not overwritten"
        new[name] = json.loads(old_json)
        old[name] = state.values[name]
    return _FileJob(path, track_id, new, old, stamp)


def undo(
    db: Database,
    run_id: int | None = None,
    *,
    cancel: threading.Event | None = None,
    progress: ProgressFn | None = None,
) -> RunResult:
    """Restore the previous tags written by a run (default: the last run with applied changes).

    The restore is itself a run (policy ``undo``), so it can be undone in turn. Files changed
    on disk since they were indexed, or whose fields changed since the run, are skipped.

    Args:
        db: the library.
        run_id: the run to undo; None for the most recent one.
        cancel: set it to stop after the current file (the rest stays applied, undoable later).
        progress: called after every file.

    Returns:
        The undo run's id and what happened to every file.

    Raises:
        NothingToUndoError: no such run, or nothing of it left to undo.
        JournalBusyError: another process is writing tags to this library.
    """
    with writer_lock(db):
        _recover_locked(db)
        target = _undo_target(db, run_id)
        vocab_row = db.execute("SELECT vocab FROM tag_runs WHERE id = ?", (target,)).fetchone()
        rows = db.execute(
            "SELECT id, track_id, field, old, new, path FROM tag_changes "
            "WHERE run_id = ? AND state = 'applied' ORDER BY id",
            (target,),
        ).fetchall()
        by_file: dict[Path, list[tuple]] = {}
        for row in rows:
            by_file.setdefault(Path(os.fsdecode(row[5])), []).append(tuple(row[:5]))
        extra = {"undo_of": target}
        result = RunResult(_new_run(db, vocab_row[0] if vocab_row else None, UNDO_POLICY, None,
                                    extra))  # fmt: skip
        for done, (path, file_rows) in enumerate(by_file.items()):
            if cancel is not None and cancel.is_set():
                result.cancelled = True
                break
            _undo_file(db, result, path, file_rows)
            _report(progress, done + 1, len(by_file), os.fsdecode(path.name))
        _finish_run(db, result, extra)
    return result


def _undo_file(db: Database, result: RunResult, path: Path, rows: list[tuple]) -> None:
    try:
        job = _undo_plan(db, path, rows)
    except TagWriteError as exc:
        result.failed.append((path, exc.reason))
        return
    except OSError as exc:
        result.failed.append((path, tagwrite.TagWriteError(path, exc).reason))
        return
    if isinstance(job, str):
        result.skipped.append((path, job))
        log.warning("%s: skipped: %s", path, job)
        return
    if _write_job(db, result.run_id, job, result) is not None:
        with db.transaction() as conn:
            _mark(conn, [r[0] for r in rows], "undone")


# ------------------------------------------------------------------------------- recovery


@dataclass
class Recovery:
    """What start-up recovery found and did."""

    applied: int = 0  # pending rows whose new value is in the file
    failed: int = 0  # pending rows whose file still holds the old value (or something else)
    temp_files_removed: list[Path] = field(default_factory=list)


def recover(db: Database) -> Recovery:
    """Start-up recovery after a crash: remove stale temp files, reconcile ``pending`` rows.

    A row whose file holds the new value becomes ``applied`` (and the track's stamp is updated);
    one holding the old value becomes ``failed``; runs left ``running`` become ``interrupted``.

    Raises:
        JournalBusyError: another process is writing tags right now (its rows are not stale).
    """
    with writer_lock(db):
        return _recover_locked(db)


def _recover_locked(db: Database) -> Recovery:
    report = Recovery()
    rows = db.execute(
        "SELECT c.id, c.run_id, c.track_id, c.path, c.field, c.old, c.new, r.policy, r.summary "
        "FROM tag_changes c JOIN tag_runs r ON r.id = c.run_id "
        "WHERE c.state = 'pending' ORDER BY c.id"
    ).fetchall()
    folders = {os.path.dirname(os.path.realpath(os.fsdecode(r[3]))) for r in rows}
    for folder in sorted(folders):
        report.temp_files_removed.extend(tagwrite.remove_stale_temp_files(folder))
    for row_id, _run, track_id, path_blob, name, _old, new_json, policy, summary in rows:
        path = Path(os.fsdecode(path_blob))
        try:
            state = tagwrite.read_tags(path, [name])
            current = state.values[name]
            applied = current == state.encode(json.loads(new_json))
        except (OSError, TagWriteError) as exc:
            current, applied = None, False
            log.warning("recovery: %s", exc)
        track = _track_update(track_id, path) if applied else None
        with db.transaction() as conn:
            if applied:
                _mark(conn, [row_id], "applied")
                _store_track(conn, track_id, track)
                if policy == UNDO_POLICY:
                    _mark_undone(conn, json.loads(summary or "{}").get("undo_of"), path_blob, name)
                report.applied += 1
            else:
                _mark(conn, [row_id], "failed", "interrupted before the file was written")
                report.failed += 1
    with db.transaction() as conn:
        conn.execute("UPDATE tag_runs SET status = 'interrupted' WHERE status = 'running'")
    if rows or report.temp_files_removed:
        log.warning(
            "recovered %d interrupted tag writes (%d applied, %d not), removed %d temp files",
            len(rows), report.applied, report.failed, len(report.temp_files_removed),
        )  # fmt: skip
    return report


def _mark_undone(conn: object, run_id: int | None, path_blob: bytes, name: str) -> None:
    if run_id is None:
        return
    conn.execute(  # type: ignore[attr-defined]
        "UPDATE tag_changes SET state = 'undone', updated_at = ? "
        "WHERE run_id = ? AND path = ? AND field = ? AND state = 'applied'",
        (_now(), run_id, path_blob, name),
    )
