"""The contract every long job honours, and the account it gives when it ends.

A job gets a ``JobControl``: a cancel flag it checks between units of work, and ``report`` for
where it stands (``Progress``). The window's task runner hands jobs a throttled subclass that
posts to the GUI thread; the command line hands them one whose reports move a terminal bar.
Both see the same ``JobResult`` at the end. Imports only ``slapdesk.library.progress``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from slapdesk.library.progress import Progress, ProgressCallback


@dataclass
class JobControl:
    """A cancel flag to honour and a place to report progress."""

    cancel: threading.Event = field(default_factory=threading.Event)
    progress: ProgressCallback | None = None  # receives every report (None: nobody listens)

    @property
    def cancelled(self) -> bool:
        """True once someone asked the job to stop."""
        return self.cancel.is_set()

    def report(self, progress: Progress, *, force: bool = False) -> None:
        """Tell the listener where the job stands.

        Args:
            progress: what to show.
            force: the report must not be dropped (a subclass may throttle the others).
        """
        if self.progress is not None:
            self.progress(progress)


@dataclass
class JobResult:
    """What a long job did, in the words a status bar or a terminal shows."""

    title: str
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    cancelled: bool = False
    note: str = ""  # replaces the counts in the summary (e.g. why nothing could be done)

    def summary(self) -> str:
        """One line for the status bar."""
        if self.note:
            return self.note
        parts = [f"{value:,} {key}" for key, value in self.counts.items() if value]
        if self.errors:
            parts.append(f"{len(self.errors):,} problem{'s' if len(self.errors) != 1 else ''}")
        text = f"{self.title}: " + (", ".join(parts) if parts else "nothing to do")
        return text + (" (stopped)" if self.cancelled else "")
