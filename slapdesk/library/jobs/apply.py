"""The tag-writing jobs: write accepted proposals into the files as one run, undo the last run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from slapdesk.library.jobs.control import JobControl, JobResult
from slapdesk.library.tags.plan import PlannedChange

if TYPE_CHECKING:
    from slapdesk.library.store.database import Database
    from slapdesk.library.store.track_rows import ProposalRow


def accepted_changes(accepted: Sequence[ProposalRow], vocab: str) -> list[PlannedChange]:
    """One change per track from the proposals the user accepted: its tags, strongest first."""
    per_track: dict[int, list[ProposalRow]] = {}
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
    from slapdesk.library.tags import journal
    from slapdesk.library.tags.runs import latest_undoable_run

    run_id = latest_undoable_run(database)
    if run_id is None:
        return JobResult("Undo", note="Nothing to undo: no tagging run has tags left to restore.")
    result = journal.undo(database, run_id, cancel=control.cancel, progress=control.report)
    return _run_result(f"Undo of run {run_id}", result)


def _run_result(title: str, result: Any) -> JobResult:
    return JobResult(
        title,
        counts={"files changed": len(result.written), "already up to date": len(result.unchanged),
                "skipped (changed on disk)": len(result.skipped)},
        errors=[f"{path}: {reason}" for path, reason in result.failed],
        cancelled=result.cancelled,
    )
