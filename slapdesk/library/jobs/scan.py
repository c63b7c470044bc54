"""The scan job: index folders into the library (tags only; embedding is the next job)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from slapdesk.library.jobs.control import JobControl, JobResult
from slapdesk.library.progress import Progress

if TYPE_CHECKING:
    from slapdesk.library.store.database import Database


def scan_folders(database: Database, folders: Sequence[str], control: JobControl) -> JobResult:
    """Scan ``folders`` into the library; what was indexed stays when it is cancelled."""
    from slapdesk.library.scan import scanner

    control.report(Progress(0, None, "Looking for music…"), force=True)
    report = scanner.run_scan(database, list(folders), cancel=control.cancel,
                              on_progress=control.report)
    return JobResult(
        "Scan",
        counts={"added": report.added, "updated": report.updated, "removed": report.removed,
                "unchanged": report.unchanged},
        errors=[f"{e.display_path}: {e.reason}" for e in report.errors],
        cancelled=report.cancelled,
    )
