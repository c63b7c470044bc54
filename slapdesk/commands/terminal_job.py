"""The command line's side of the library's job contract.

A long command runs its job with the ``JobControl`` that ``terminal_job`` yields: Ctrl-C sets
its cancel flag (the job stops after its current batch, a second Ctrl-C stops at once), and
its ``Progress`` reports move a tqdm bar on stderr when stderr is a terminal.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from slapdesk.commands.common import cancel_on_interrupt
from slapdesk.library.jobs.control import JobControl
from slapdesk.library.progress import Progress


class TerminalBar:
    """A progress bar moved by ``Progress`` reports; draws nothing when stderr is no terminal."""

    def __init__(self, unit: str, title: str | None = None, *, leave: bool = True) -> None:
        """Make a bar counting ``unit``s.

        Args:
            unit: what one step is ("file", "track").
            title: the bar's fixed label; None labels it with the phase each report names
                (the part of its message before a colon).
            leave: keep the finished bar on screen.
        """
        self._unit, self._title, self._leave = unit, title, leave
        self._bar: Any = None

    def __call__(self, progress: Progress) -> None:
        """Show ``progress``."""
        if self._bar is None:
            if not sys.stderr.isatty() or progress.total == 0:
                return
            from tqdm import tqdm

            self._bar = tqdm(total=progress.total, unit=self._unit, desc=self._title,
                             file=sys.stderr, dynamic_ncols=True, leave=self._leave)
        bar = self._bar
        bar.total = progress.total or None
        bar.n = progress.done
        if self._title is None:
            bar.set_description_str(progress.message.split(":")[0], refresh=False)
        else:
            bar.set_postfix_str(progress.message[-30:], refresh=False)
        bar.refresh()

    def close(self) -> None:
        """Finish the bar (if one was drawn)."""
        if self._bar is not None:
            self._bar.close()


@contextmanager
def terminal_job(unit: str, title: str | None = None, *, leave: bool = True
                 ) -> Iterator[JobControl]:
    """A ``JobControl`` for one command: Ctrl-C cancels, reports move a ``TerminalBar``."""
    bar = TerminalBar(unit, title, leave=leave)
    with cancel_on_interrupt() as cancel:
        try:
            yield JobControl(cancel, bar)
        finally:
            bar.close()
