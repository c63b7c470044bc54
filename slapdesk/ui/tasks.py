"""Run library work off the GUI thread; results come back as signals to GUI-thread slots.

One ``TaskRunner`` serves the whole window (Anki ``taskman.py``, Picard ``run_task``). Worker
functions are plain Python from ``slapdesk.library`` / ``engine``: they receive a ``TaskContext``,
the library's ``JobControl`` contract (a ``threading.Event`` to honour, ``report`` for progress),
whose reports are throttled and posted to the GUI thread. Results, errors and
progress reach the caller's callbacks only through the runner's own signals, which Qt queues to
the GUI thread, so no widget is ever touched from a worker.

Pools: ``"cpu"`` (decoding, searches; one thread per core), ``"io"`` (database and tag writes:
a single thread, so writes never interleave) and ``"model"`` (one model worker: embedding,
tagging). Tests pass ``FakeThreadPool`` to run every task synchronously (Picard's pattern).
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, SignalInstance, Slot

from slapdesk.library.jobs.control import JobControl
from slapdesk.library.progress import Progress

log = logging.getLogger(__name__)

POOLS = ("cpu", "io", "model")
# Progress is posted to the GUI at most this often (about 30 updates per second).
_PROGRESS_INTERVAL_S = 0.033


class Pool(Protocol):
    """The part of ``QThreadPool`` the runner uses (so tests can pass a fake)."""

    def start(self, runnable: QRunnable, priority: int = 0) -> None:
        """Run ``runnable`` some time soon."""

    def waitForDone(self, msecs: int = -1) -> bool:  # noqa: N802 (Qt name)
        """Block until every started runnable has returned."""


class FakeThreadPool:
    """Runs each task at once in the calling thread: deterministic tests, no event-loop waits."""

    def start(self, runnable: QRunnable, priority: int = 0) -> None:
        """Run ``runnable`` now."""
        runnable.run()

    def waitForDone(self, msecs: int = -1) -> bool:  # noqa: N802 (Qt name)
        """Nothing is ever pending."""
        return True


@dataclass
class TaskContext(JobControl):
    """The library's job contract as the window honours it: reports are throttled and posted.

    ``cancel`` is the task handle's event; ``progress`` posts to the GUI thread.
    """

    _last_post: float = 0.0

    def report(self, progress: Progress, *, force: bool = False) -> None:
        """Post ``progress`` to the GUI, throttled.

        Args:
            progress: what to show; the latest one wins when reports come faster than ~30/s.
            force: post even if the previous report was very recent (use for the last one).
        """
        now = time.monotonic()
        if force or now - self._last_post >= _PROGRESS_INTERVAL_S:
            self._last_post = now
            super().report(progress)


@dataclass
class TaskHandle:
    """The caller's grip on a running task."""

    task_id: int
    name: str
    cancel_event: threading.Event = field(default_factory=threading.Event)
    finished: bool = False

    def cancel(self) -> None:
        """Ask the worker to stop at its next check."""
        self.cancel_event.set()


@dataclass
class _Callbacks:
    handle: TaskHandle
    on_done: Callable[[Any], None] | None
    on_error: Callable[[BaseException], None] | None
    on_progress: Callable[[object], None] | None


class _Runnable(QRunnable):
    def __init__(self, runner: TaskRunner, task_id: int, fn: Callable[[TaskContext], Any],
                 context: TaskContext) -> None:
        super().__init__()
        self._runner = runner
        self._task_id = task_id
        self._fn = fn
        self._context = context

    def run(self) -> None:
        try:
            result = self._fn(self._context)
        except BaseException as exc:  # every failure must reach the GUI as a message
            log.debug("task %d failed", self._task_id, exc_info=True)
            self._deliver(self._runner.task_failed, exc)
        else:
            self._deliver(self._runner.task_done, result)

    def _deliver(self, signal: SignalInstance, outcome: object) -> None:
        try:
            signal.emit(self._task_id, outcome)
        except RuntimeError:
            # The window closed (and its runner went) while this task ran past the grace
            # period (a device listing, say): nobody is left to tell.
            log.debug("task %d finished after its runner was deleted", self._task_id)


class TaskRunner(QObject):
    """Schedules worker functions on thread pools and delivers their outcome in the GUI thread.

    Signals ``task_done``, ``task_failed`` and ``task_progress`` are emitted from worker threads;
    because the runner lives in the GUI thread, Qt queues them to the runner's slots there, which
    then call the callbacks that ``run`` was given. ``busy_changed`` reports the number of running
    tasks (for a status bar spinner).
    """

    task_done = Signal(int, object)
    task_failed = Signal(int, object)
    task_progress = Signal(int, object)
    busy_changed = Signal(int)

    def __init__(self, pools: dict[str, Pool] | None = None, parent: QObject | None = None) -> None:
        """Create the runner.

        Args:
            pools: pool per name in ``POOLS``; missing ones get real ``QThreadPool`` objects.
            parent: Qt parent.
        """
        super().__init__(parent)
        self._pools: dict[str, Pool] = dict(pools or {})
        for name in POOLS:
            if name not in self._pools:
                pool = QThreadPool(self)
                pool.setMaxThreadCount(max(2, os.cpu_count() or 2) if name == "cpu" else 1)
                self._pools[name] = pool
        self._ids = itertools.count(1)
        self._tasks: dict[int, _Callbacks] = {}
        self._closed = False
        self.task_done.connect(self._deliver_done)
        self.task_failed.connect(self._deliver_error)
        self.task_progress.connect(self._deliver_progress)

    @classmethod
    def synchronous(cls, parent: QObject | None = None) -> TaskRunner:
        """A runner whose every pool is a ``FakeThreadPool`` (for tests)."""
        return cls({name: FakeThreadPool() for name in POOLS}, parent)

    # ---- scheduling --------------------------------------------------------------------------
    def run(
        self,
        fn: Callable[[TaskContext], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        *,
        on_progress: Callable[[object], None] | None = None,
        pool: str = "cpu",
        name: str = "",
    ) -> TaskHandle:
        """Run ``fn(context)`` on ``pool``; call the callbacks in the GUI thread.

        Args:
            fn: worker function; must not touch Qt widgets. Returns the result for ``on_done``.
            on_done: called with the result (also after a cancel, if ``fn`` returned normally).
            on_error: called with the exception ``fn`` raised; logged when not given.
            on_progress: called with each (throttled) progress report.
            pool: one of ``POOLS``.
            name: shown in logs.

        Returns:
            A handle whose ``cancel()`` sets the worker's cancel event.
        """
        task_id = next(self._ids)
        handle = TaskHandle(task_id, name or getattr(fn, "__name__", "task"))
        if self._closed:  # the window is closing: start nothing new
            handle.cancel()
            handle.finished = True
            return handle
        self._tasks[task_id] = _Callbacks(handle, on_done, on_error, on_progress)
        self.busy_changed.emit(len(self._tasks))
        context = TaskContext(handle.cancel_event, self._poster(task_id))
        self._pools[pool].start(_Runnable(self, task_id, fn, context))
        return handle

    def _poster(self, task_id: int) -> Callable[[object], None]:
        signal = self.task_progress

        def post(progress: object) -> None:
            signal.emit(task_id, progress)

        return post

    @property
    def running(self) -> int:
        """Tasks started and not yet delivered."""
        return len(self._tasks)

    def cancel_all(self) -> None:
        """Ask every running task to stop."""
        for callbacks in self._tasks.values():
            callbacks.handle.cancel()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel everything, wait for the workers, and accept no new task (window closing).

        Returns:
            True if every pool drained within ``timeout_ms`` (for all pools together).
        """
        self._closed = True
        self.cancel_all()
        deadline = time.monotonic() + timeout_ms / 1000
        drained = True
        for pool in self._pools.values():
            left_ms = max(0, round((deadline - time.monotonic()) * 1000))
            drained = pool.waitForDone(left_ms) and drained
        # Outcomes still queued in the event loop must not reach callbacks of closed windows.
        self._tasks.clear()
        self.busy_changed.emit(0)
        return drained

    # ---- delivery (GUI thread) ---------------------------------------------------------------
    def _finish(self, task_id: int) -> _Callbacks | None:
        callbacks = self._tasks.pop(task_id, None)
        if callbacks is not None:
            callbacks.handle.finished = True
            self.busy_changed.emit(len(self._tasks))
        return callbacks

    @Slot(int, object)
    def _deliver_done(self, task_id: int, result: object) -> None:
        callbacks = self._finish(task_id)
        if callbacks is not None and callbacks.on_done is not None:
            callbacks.on_done(result)

    @Slot(int, object)
    def _deliver_error(self, task_id: int, error: object) -> None:
        callbacks = self._finish(task_id)
        if callbacks is None:
            return
        if callbacks.on_error is not None:
            callbacks.on_error(error)  # type: ignore[arg-type]
        else:
            log.error("%s failed: %s", callbacks.handle.name, error)

    @Slot(int, object)
    def _deliver_progress(self, task_id: int, progress: object) -> None:
        callbacks = self._tasks.get(task_id)
        if callbacks is not None and callbacks.on_progress is not None:
            callbacks.on_progress(progress)
