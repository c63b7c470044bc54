"""The tag-writing jobs: write accepted proposals into the files as one run, undo the last run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slapdesk.library.jobs.control import JobControl, JobResult
from slapdesk.library.tags.plan import PlannedChange

if TYPE_CHECKING:
    from slapdesk.library.autotag.review import AcceptedTag
    from slapdesk.library.store.database import Database
    from slapdesk.library.tags.runs import RunChange, RunInfo


def accepted_changes(accepted: Sequence[AcceptedTag], vocab: str) -> list[PlannedChange]:
    """One change per track from the proposals the user accepted: its tags, strongest first."""
    per_track: dict[int, list[AcceptedTag]] = {}
    for row in accepted:
        per_track.setdefault(row.track_id, []).append(row)
    return [
        PlannedChange.make(rows[0].path, vocab,
                           [r.tag for r in sorted(rows, key=lambda r: -r.score)], track_id)
        for track_id, rows in per_track.items()
    ]


def apply_tags(database: Database, changes: Sequence[PlannedChange], policy: str,
               model_id: str | None, vocab: str, control: JobControl) -> JobResult:
    """Write accepted tags into the files (journaled, undoable) as one run."""
    from slapdesk.library.tags import journal

    result = journal.apply_changes(database, changes, policy, model_id=model_id, vocab=vocab,
                                   cancel=control.cancel, progress=control.report)
    return _run_result("Tags written", result)


def undo_last_run(database: Database, control: JobControl) -> JobResult:
    """Restore the tags the most recent tagging run wrote (never re-do an undone run)."""
    from slapdesk.library.tags.runs import latest_undoable_run

    return undo_run(database, latest_undoable_run(database), control)


def undo_run(database: Database, run_id: int | None, control: JobControl) -> JobResult:
    """Restore the tags run ``run_id`` wrote (None: nothing to undo)."""
    from slapdesk.library.tags import journal

    if run_id is None:
        return JobResult("Undo", note="Nothing to undo: no tagging run has tags left to restore.")
    try:
        result = journal.undo(database, run_id, cancel=control.cancel, progress=control.report)
    except journal.NothingToUndoError:
        return JobResult("Undo", note=f"Nothing to undo: run {run_id} has no tags left to restore.")
    return _run_result(f"Undo of run {run_id}", result)


def read_runs(library_path: Path, limit: int, _control: JobControl | None = None
              ) -> list[tuple[RunInfo, list[RunChange]]]:
    """The newest ``limit`` runs, each with its first changes (what the window lists), read-only."""
    from slapdesk.library.store.database import open_readonly
    from slapdesk.library.tags.runs import list_runs, run_changes

    conn = open_readonly(library_path)
    try:
        return [(info, run_changes(conn, info.run_id, 20)) for info in list_runs(conn, limit)]
    finally:
        conn.close()


def _run_result(title: str, result: Any) -> JobResult:
    return JobResult(
        title,
        counts={"files changed": len(result.written), "already up to date": len(result.unchanged),
                "skipped (changed on disk)": len(result.skipped)},
        errors=[f"{path}: {reason}" for path, reason in result.failed],
        cancelled=result.cancelled,
    )
