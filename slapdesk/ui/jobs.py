"""Long library jobs (scan, embed, tag): one at a time, shown in the job bar, cancellable."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from slapdesk.library.progress import Progress
from slapdesk.library.tags.reasons import plain_reason
from slapdesk.ui.tasks import TaskContext, TaskHandle, TaskRunner
from slapdesk.ui.views.job_bar import JobBarView

log = logging.getLogger(__name__)
# The job bar moves at most this often. Its progress bar repaints synchronously (setValue), and
# that paints whatever else in the window is waiting to be painted, there and then: 30 times a
# second, that was the GUI thread's work in the worst stalls of long jobs.
BAR_INTERVAL_S = 0.1


def describe_error(error: BaseException) -> str:
    """A one-line sentence for an exception: no traceback, exception name or errno number."""
    if isinstance(error, MemoryError):
        return "there was not enough memory"
    if isinstance(error, OSError) and error.filename:
        return f"{error.filename}: {plain_reason(error.strerror or str(error))}"
    text = plain_reason(" ".join(str(error).split()))
    if not text:
        return "an unexpected error (the details are in the log)"
    return text if len(text) < 600 else text[:600] + "…"


class JobTracker(QObject):
    """Runs one long job at a time on the runner and mirrors it in a ``JobBarView``.

    Signals: ``started(title)``, ``progressed(progress)``, ``finished(title, result)`` (also
    after a cancel that returned normally), ``failed(title, message)``.
    """

    started = Signal(str)
    progressed = Signal(object)
    finished = Signal(str, object)
    failed = Signal(str, str)

    def __init__(self, runner: TaskRunner, bar: JobBarView, parent: QObject | None = None) -> None:
        """Track jobs for ``bar``."""
        super().__init__(parent)
        self._runner = runner
        self._bar = bar
        self._handle: TaskHandle | None = None
        self._title = ""
        self._on_done: Callable[[Any], None] | None = None
        self._latest: Progress | None = None  # the newest report the bar does not show yet
        self._shown_at = 0.0  # when the bar last moved (time.monotonic)
        self._bar_timer = QTimer(self, singleShot=True, timeout=self._show_latest)
        bar.cancel_clicked.connect(self.cancel)

    @property
    def busy(self) -> bool:
        """True while a job runs."""
        return self._handle is not None

    @property
    def title(self) -> str:
        """The running job's title ("" when idle)."""
        return self._title if self.busy else ""

    def start(self, title: str, fn: Callable[[TaskContext], Any],
              on_done: Callable[[Any], None] | None = None, pool: str = "io") -> bool:
        """Start ``fn`` unless another job runs; returns whether it started."""
        if self._handle is not None:
            return False
        self._title = title
        self._on_done = on_done
        self._bar.start(title)
        self.started.emit(title)
        # Set before run(): a synchronous pool finishes the job inside run().
        self._handle = TaskHandle(0, title)
        handle = self._runner.run(fn, self._done, self._error, on_progress=self._progress,
                                  pool=pool, name=title)
        if self._handle is not None:
            self._handle = handle
        return True

    @Slot()
    def cancel(self) -> None:
        """Ask the running job to stop."""
        if self._handle is not None:
            self._handle.cancel()
            self._bar.stopping()

    @Slot(object)
    def _progress(self, progress: Progress) -> None:
        self._latest = progress
        wait_s = self._shown_at + BAR_INTERVAL_S - time.monotonic()
        if wait_s <= 0:
            self._show_latest()
        elif not self._bar_timer.isActive():
            self._bar_timer.start(int(wait_s * 1000) + 1)
        self.progressed.emit(progress)

    @Slot()
    def _show_latest(self) -> None:
        """Move the bar to the newest report (one repaint for all that came since the last)."""
        progress, self._latest = self._latest, None
        if progress is None or self._handle is None:
            return
        self._shown_at = time.monotonic()
        self._bar.update_progress(progress.done, progress.total or None, progress.message)

    @Slot(object)
    def _done(self, result: object) -> None:
        title, on_done = self._title, self._on_done
        self._handle, self._on_done, self._latest = None, None, None
        self._bar_timer.stop()
        self._bar.finish()
        if on_done is not None:
            on_done(result)
        self.finished.emit(title, result)

    @Slot(object)
    def _error(self, error: BaseException) -> None:
        title = self._title
        self._handle, self._on_done, self._latest = None, None, None
        self._bar_timer.stop()
        self._bar.finish()
        log.warning("%s failed: %r", title, error)
        self.failed.emit(title, describe_error(error))
