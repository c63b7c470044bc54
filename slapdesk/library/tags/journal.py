"""The undo journal around the safe writer: journal first, then write, then mark the outcome.

For every file, so that any crash can be undone: the old value of every field about to change
is stored in ``tag_changes`` in state ``pending`` and committed *before* the file is touched;
then the file is written through ``tagwrite.write_fields``; then, in one transaction, the rows
become ``applied`` and the track's identity (size, mtime_ns, inode, content fingerprint) is
updated, so the next scan skips the file and a later move keeps its row. A kill at any point
leaves rows ``pending``; ``recover`` (run by every command that opens the library for writing,
and before every run) reconciles them with the file.

``undo`` restores the old values of a run through the same path; it is itself a run (policy
``undo``), so an undo can be undone. A file's restore, its stamp and the original rows'
``undone`` mark commit together: no crash leaves a file restored but its run still applied.

Writes go only to files inside the library's folders: a symlink is resolved first and a target
outside is reported, never followed. Every function runs on the caller's thread, which must be
the app's single writer thread, takes a cancel ``threading.Event`` and reports ``Progress``.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from slapdesk.library.progress import Progress
from slapdesk.library.tags import write as tagwrite
from slapdesk.library.tags.journal_store import (
    UNDO_POLICY,
    FileJob,
    JournalBusyError,
    ProgressFn,
    RunResult,
    finish_run,
    indexed_stamp,
    journal_job,
    library_roots,
    mark,
    new_run,
    outside_library,
    store_track,
    track_id_for,
    track_update,
    writer_lock,
)
from slapdesk.library.tags.plan import PlannedChange, check_policy, fields_for, plan_fields
from slapdesk.library.tags.recovery import Recovery, recover, recover_locked
from slapdesk.library.tags.write import FileStamp, TagWriteError

if TYPE_CHECKING:
    from slapdesk.library.store.database import Database

log = logging.getLogger(__name__)

__all__ = [
    "UNDO_POLICY", "JournalBusyError", "NothingLeftToUndoError", "NothingToUndoError",
    "Progress", "Recovery", "RunResult", "apply_changes", "recover", "undo",
]  # fmt: skip

# The names tests and the window's start-up path used before the journal was split.
_FileJob = FileJob
_new_run = new_run
_journal = journal_job


class NothingToUndoError(Exception):
    """There is no applied run (or the given run has nothing left to undo)."""


class NothingLeftToUndoError(NothingToUndoError):
    """The run exists and nothing of it is applied any more (undone already, or never written)."""


def _write_job(
    db: Database,
    run_id: int,
    job: FileJob,
    result: RunResult,
    then: Callable[[sqlite3.Connection], None] | None = None,
) -> bool:
    """Journal, write, mark; ``then`` joins the marking transaction. True when written."""
    ids = journal_job(db, run_id, job)
    try:
        tagwrite.write_fields(job.target, job.new, expect=job.expect)
    except TagWriteError as exc:
        with db.transaction() as conn:
            mark(conn, ids, "failed", exc.reason)
        result.failed.append((job.path, exc.reason))
        log.warning("%s", exc)
        return False
    track = track_update(job.track_id, job.target)
    with db.transaction() as conn:
        mark(conn, ids, "applied")
        store_track(conn, job.track_id, track)
        if then is not None:
            then(conn)
    result.written.append(job.path)
    return True


def _report(progress: ProgressFn | None, done: int, total: int, message: str) -> None:
    if progress is not None:
        progress(Progress(done, total, message))


def _checked_real(path: Path, roots: Sequence[str]) -> tuple[Path, FileStamp] | str:
    """The real file behind ``path`` and its stamp, or why it must not be written."""
    real = os.path.realpath(path)
    why = outside_library(path, real, roots)
    if why is not None:
        return why
    try:
        return Path(real), FileStamp.of(real)
    except OSError as exc:
        raise TagWriteError(path, exc) from exc


# ------------------------------------------------------------------------------------- apply


def _group(changes: Sequence[PlannedChange]) -> dict[Path, list[PlannedChange]]:
    grouped: dict[Path, list[PlannedChange]] = {}
    for change in changes:
        grouped.setdefault(Path(os.path.abspath(change.path)), []).append(change)
    return grouped


def _plan_file(
    db: Database, path: Path, changes: list[PlannedChange], policy: str, roots: Sequence[str]
) -> FileJob | str | None:
    """Read the file and plan its writes: a job, a reason to skip it (str), or None (no change)."""
    track_id = track_id_for(db, path, changes[0].track_id)
    checked = _checked_real(path, roots)
    if isinstance(checked, str):
        return checked
    real, stamp = checked
    indexed = indexed_stamp(db, path, track_id)
    if indexed is not None and indexed != (stamp.size, stamp.mtime_ns):
        return "changed on disk since it was indexed; rescan it, then tag again"
    fields = list(dict.fromkeys(f for c in changes for f in fields_for(c.vocab, policy)))
    state = tagwrite.read_tags(real, fields)
    new: dict[str, list[str]] = {}
    for change in changes:
        current = {**state.values, **new}
        for name, values in plan_fields(change, current, policy).items():
            new[name] = state.encode(values)
    new = {k: v for k, v in new.items() if v != state.values.get(k, [])}
    if not new:
        return None
    old = {k: state.values.get(k, []) for k in new}
    return FileJob(path, track_id, new, old, stamp, real)


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
        The run's id and what happened to every file. Per-file problems never raise; a file
        outside the library's folders (through a symlink) is skipped with the reason.

    Raises:
        JournalBusyError: another process is writing tags to this library.
        ValueError: an unknown policy.
    """
    check_policy(policy)
    grouped = _group(changes)
    if vocab is None:
        vocab = ",".join(dict.fromkeys(c.vocab for c in changes))
    with writer_lock(db):
        recover_locked(db)
        roots = library_roots(db)
        result = RunResult(new_run(db, vocab, policy, model_id, {}))
        for done, (path, file_changes) in enumerate(grouped.items()):
            if cancel is not None and cancel.is_set():
                result.cancelled = True
                break
            _apply_file(db, result, path, file_changes, policy, roots)
            _report(progress, done + 1, len(grouped), os.fsdecode(path.name))
        finish_run(db, result, {})
    return result


def _apply_file(
    db: Database,
    result: RunResult,
    path: Path,
    changes: list[PlannedChange],
    policy: str,
    roots: Sequence[str],
) -> None:
    try:
        job = _plan_file(db, path, changes, policy, roots)
    except TagWriteError as exc:
        result.failed.append((path, exc.reason))
        log.warning("%s", exc)
        return
    if isinstance(job, str):
        result.skipped.append((path, job))
        log.warning("%s: skipped: %s", path, job)
    elif job is None:
        result.unchanged.append(path)
    else:
        _write_job(db, result.run_id, job, result)


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
        raise NothingLeftToUndoError(f"run {run_id} has no applied changes left to undo")
    return run_id


def _undo_rows(db: Database, target: int) -> dict[Path, list[tuple]]:
    """The run's applied rows by file: where the file is now (it may have moved since)."""
    rows = db.execute(
        "SELECT c.id, c.track_id, c.field, c.old, c.new, COALESCE(t.path, c.path) "
        "FROM tag_changes c LEFT JOIN tracks t ON t.id = c.track_id "
        "WHERE c.run_id = ? AND c.state = 'applied' ORDER BY c.id",
        (target,),
    ).fetchall()
    by_file: dict[Path, list[tuple]] = {}
    for row in rows:
        by_file.setdefault(Path(os.fsdecode(row[5])), []).append(tuple(row[:5]))
    return by_file


def _undo_plan(db: Database, path: Path, rows: list[tuple], roots: Sequence[str]) -> FileJob | str:
    """Plan restoring one file: a job, or why it is skipped (it changed since the run).

    A job with nothing to write means the file holds the old values already (a restore whose
    marking a crash cut off): the rows only need marking.
    """
    track_id = rows[0][1]
    checked = _checked_real(path, roots)
    if isinstance(checked, str):
        return checked
    real, stamp = checked
    indexed = indexed_stamp(db, path, track_id)
    if indexed is not None and indexed != (stamp.size, stamp.mtime_ns):
        return "changed on disk since it was indexed; not overwritten (rescan it first)"
    state = tagwrite.read_tags(real, [r[2] for r in rows])
    new, old = {}, {}
    for _row_id, _track, name, old_json, new_json in rows:
        now_in_file = state.values[name]
        if now_in_file == state.encode(json.loads(old_json)):
            continue  # restored already
        if now_in_file != state.encode(json.loads(new_json)):
            return f"its {name} changed since the run wrote it; not overwritten"
        new[name] = json.loads(old_json)
        old[name] = now_in_file
    return FileJob(path, track_id, new, old, stamp, real)


def undo(
    db: Database,
    run_id: int | None = None,
    *,
    cancel: threading.Event | None = None,
    progress: ProgressFn | None = None,
) -> RunResult:
    """Restore the previous tags written by a run (default: the last run with applied changes).

    The restore is itself a run (policy ``undo``), so it can be undone in turn. Files changed
    on disk since they were indexed, or whose fields changed since the run, are skipped; a
    file that moved within the library is found through its track.

    Args:
        db: the library.
        run_id: the run to undo; None for the most recent one.
        cancel: set it to stop after the current file (the rest stays applied, undoable later).
        progress: called after every file.

    Returns:
        The undo run's id and what happened to every file.

    Raises:
        NothingToUndoError: no such run, or nothing of it left to undo
            (``NothingLeftToUndoError`` when the run exists).
        JournalBusyError: another process is writing tags to this library.
    """
    with writer_lock(db):
        recover_locked(db)
        target = _undo_target(db, run_id)
        vocab_row = db.execute("SELECT vocab FROM tag_runs WHERE id = ?", (target,)).fetchone()
        by_file = _undo_rows(db, target)
        roots = library_roots(db)
        extra = {"undo_of": target}
        result = RunResult(new_run(db, vocab_row[0] if vocab_row else None, UNDO_POLICY, None,
                                   extra))  # fmt: skip
        for done, (path, file_rows) in enumerate(by_file.items()):
            if cancel is not None and cancel.is_set():
                result.cancelled = True
                break
            _undo_file(db, result, path, file_rows, roots)
            _report(progress, done + 1, len(by_file), os.fsdecode(path.name))
        finish_run(db, result, extra)
    return result


def _undo_file(
    db: Database, result: RunResult, path: Path, rows: list[tuple], roots: Sequence[str]
) -> None:
    try:
        job = _undo_plan(db, path, rows, roots)
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

    def mark_original(conn: sqlite3.Connection) -> None:
        mark(conn, [r[0] for r in rows], "undone")

    if not job.new:  # the file holds the old values: only the marks were missing
        with db.transaction() as conn:
            store_track(conn, job.track_id, track_update(job.track_id, job.target))
            mark_original(conn)
        result.unchanged.append(path)
        return
    _write_job(db, result.run_id, job, result, then=mark_original)

