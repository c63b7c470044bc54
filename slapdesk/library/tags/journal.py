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

import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from slapdesk.library.progress import Progress
from slapdesk.library.tags import write as tagwrite
from slapdesk.library.tags.journal_rows import (
    UNDO_POLICY,
    JournalBusyError,
    NothingToUndoError,
    ProgressFn,
    RunResult,
    _FileJob,
    _finish_run,
    _indexed_stamp,
    _mark,
    _new_run,
    _report,
    _track_id,
    _write_job,
    writer_lock,
)
from slapdesk.library.tags.plan import PlannedChange, check_policy, fields_for, plan_fields
from slapdesk.library.tags.recovery import Recovery, _recover_locked, recover
from slapdesk.library.tags.write import FileStamp, TagWriteError

if TYPE_CHECKING:
    from slapdesk.library.store.database import Database


log = logging.getLogger(__name__)

__all__ = [
    "JournalBusyError",
    "NothingToUndoError",
    "Progress",
    "Recovery",
    "RunResult",
    "apply_changes",
    "recover",
    "undo",
]


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
