"""A worker process for the window's heavy jobs, so that its event loop never waits for them.

A thread in the window's process cannot keep decoding and model work from stalling the event
loop: importing torch, loading a model and some extension calls hold the interpreter lock for
hundreds of milliseconds at a time (a 355 ms stall measured while the window embedded 40
tracks on an idle machine). A spawned process shares no lock with the window. One
``WorkerProcess`` starts on first use and is kept, so the model it loads stays loaded from one
job to the next.

A job is a picklable callable ``fn(control) -> result`` (a module-level function, or a
``functools.partial`` of one with plain arguments: paths, names). ``WorkerProcess.call`` runs
it in the worker and blocks the calling thread (a task runner's, never the GUI's) until it
ends; meanwhile the worker's progress reports reach the caller's ``JobControl`` and the
caller's cancel flag reaches the worker's. The result or the exception comes back pickled.
A job that writes the library opens its own connection in the worker (``BEGIN IMMEDIATE``
and a busy timeout serialise it with the window's writer, as for two processes on one file).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from slapdesk.library.jobs.control import JobControl
from slapdesk.library.progress import Progress

log = logging.getLogger(__name__)

Job = Callable[[JobControl], Any]
# The worker yields the CPU to the window and to the user's other programs: it is background work.
_NICENESS = 10
# Progress crosses the process boundary at most this often (the window shows ~30 updates/s).
_PROGRESS_INTERVAL_S = 0.033
# How often the waiting thread looks at its cancel flag and at the worker's health.
_POLL_S = 0.05


class WorkerStoppedError(RuntimeError):
    """The worker process ended while it ran a job (killed, out of memory, a crash)."""


class _PipeControl(JobControl):
    """The worker side of a job's control: reports go down the pipe, throttled."""

    def __init__(self, cancel: threading.Event, conn: Connection, lock: threading.Lock) -> None:
        super().__init__(cancel)
        self._conn = conn
        self._lock = lock
        self._last = 0.0

    def report(self, progress: Progress, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= _PROGRESS_INTERVAL_S:
            self._last = now
            with self._lock:
                self._conn.send(("progress", progress))


def _relay_cancel(flag: Any, cancel: threading.Event, done: threading.Event) -> None:
    """Set ``cancel`` when the cross-process ``flag`` is set, until the job is ``done``."""
    while not done.is_set():
        if flag.wait(_POLL_S):
            cancel.set()
            return


def _run_one(conn: Connection, flag: Any, fn: Job) -> None:
    cancel, done, lock = threading.Event(), threading.Event(), threading.Lock()
    relay = threading.Thread(target=_relay_cancel, args=(flag, cancel, done), daemon=True)
    relay.start()
    try:
        result = fn(_PipeControl(cancel, conn, lock))
    except BaseException as exc:  # every failure goes back to the caller as its exception
        log.debug("worker job failed", exc_info=True)
        message: tuple[str, Any] = ("error", exc)
    else:
        message = ("done", result)
    finally:
        done.set()
        relay.join()
    with lock:
        try:
            conn.send(message)
        except Exception as exc:  # the outcome could not be pickled: say what it was
            kind = "error" if message[0] == "error" else "unpicklable"
            text = f"the worker's {kind} result: {message[1]!r} ({exc})"
            conn.send(("error", RuntimeError(text)))


def _serve(conn: Connection, flag: Any) -> None:
    """The worker's loop: run each job sent, until told to quit or the window's end closes."""
    # Ctrl-C in a terminal belongs to the window, which cancels the job; SIGTERM must kill.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with contextlib.suppress(OSError):  # not allowed here: run at the window's priority
        os.nice(_NICENESS)
    while True:
        try:
            kind, payload = conn.recv()
        except (EOFError, OSError):  # the window went away
            break
        if kind == "quit":
            break
        _run_one(conn, flag, payload)
    # Every job's writes are committed by now. Skip the interpreter's teardown: extension
    # modules (torch, PyAV) have crashed in it, and it only costs time.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


class WorkerProcess:
    """One spawned worker process, started on first use, running one job at a time."""

    def __init__(self, start_method: str = "spawn") -> None:
        """Prepare (start nothing yet).

        Args:
            start_method: ``spawn`` (the default: the window's threads and locks are not
                copied) or ``forkserver``.
        """
        self._context: Any = multiprocessing.get_context(start_method)  # spawn or forkserver
        self._process: Any = None
        self._conn: Connection | None = None
        self._flag: Any = None
        self._lock = threading.Lock()  # one job at a time

    @property
    def pid(self) -> int | None:
        """The worker's process id while it runs (None before the first job or after close)."""
        process = self._process
        return process.pid if process is not None and process.is_alive() else None

    def _ensure_started(self) -> tuple[Any, Connection]:
        if self._process is None or not self._process.is_alive():
            ours, theirs = self._context.Pipe()
            self._flag = self._context.Event()
            process = self._context.Process(
                target=_serve, args=(theirs, self._flag), name="slapdesk-worker", daemon=True)
            try:
                process.start()
            finally:
                theirs.close()
            self._process, self._conn = process, ours
        assert self._conn is not None
        return self._process, self._conn

    def call(self, fn: Job, control: JobControl) -> Any:
        """Run ``fn`` in the worker; relay progress and cancel; return its result.

        Args:
            fn: the job (picklable; it gets a ``JobControl`` in the worker).
            control: the caller's side: its cancel flag is passed on, reports come back to it.

        Returns:
            What ``fn`` returned.

        Raises:
            The exception ``fn`` raised, or ``WorkerStoppedError`` when the worker died meanwhile.
        """
        with self._lock:
            process, conn = self._ensure_started()
            self._flag.clear()
            conn.send(("run", fn))
            while True:
                if control.cancelled:
                    self._flag.set()
                try:
                    if not conn.poll(_POLL_S):
                        if process.is_alive():
                            continue
                        raise EOFError
                    kind, payload = conn.recv()
                except (EOFError, OSError):
                    raise self._stopped(process) from None
                if kind == "progress":
                    control.report(payload, force=True)
                elif kind == "done":
                    return payload
                else:
                    raise payload

    def _stopped(self, process: Any) -> WorkerStoppedError:
        process.join(1.0)  # for its exit code
        self._forget()
        return WorkerStoppedError(f"the worker process stopped (exit code {process.exitcode})")

    def _forget(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._process, self._conn = None, None

    def close(self, timeout_s: float = 3.0) -> None:
        """Stop the running job, end the worker (killing it after ``timeout_s``)."""
        process = self._process
        if process is None:
            return
        self._flag.set()  # a running job stops at its next check
        if self._lock.acquire(timeout=timeout_s):
            try:
                if self._conn is not None and process.is_alive():
                    with contextlib.suppress(OSError):
                        self._conn.send(("quit", None))
                process.join(timeout_s)
            finally:
                self._lock.release()
        if process.is_alive():
            process.terminate()
            process.join(1.0)
        if process.is_alive():
            process.kill()
            process.join(1.0)
        if self._lock.acquire(blocking=False):
            try:
                self._forget()
                self._flag = None  # its semaphore is released now, not at exit
            finally:
                self._lock.release()
