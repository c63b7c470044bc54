"""The worker process: jobs run elsewhere, progress and cancel cross over, failures come back."""

from __future__ import annotations

import os
import signal
import threading
import time
from functools import partial

import pytest

from slapdesk.library.jobs.control import JobControl
from slapdesk.library.jobs.worker import WorkerProcess, WorkerStoppedError
from slapdesk.library.progress import Progress


def _pid(_control: JobControl) -> int:
    return os.getpid()


def _count(n: int, control: JobControl) -> int:
    for i in range(1, n + 1):
        control.report(Progress(i, n, f"item {i}"), force=True)
    return n * 10


def _fail(_control: JobControl) -> None:
    raise ValueError("no such vocabulary: colours")


def _until_cancelled(control: JobControl) -> str:
    control.report(Progress(0, None, "waiting"), force=True)
    deadline = time.monotonic() + 30
    while not control.cancelled and time.monotonic() < deadline:
        time.sleep(0.01)
    return "stopped" if control.cancelled else "never cancelled"


def _die(_control: JobControl) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.fixture(scope="module")
def worker():
    """One worker for the module's tests (each start costs an interpreter)."""
    process = WorkerProcess()
    yield process
    process.close()


def test_a_job_runs_in_another_process_that_is_kept_for_the_next(worker: WorkerProcess) -> None:
    first = worker.call(_pid, JobControl())
    assert first != os.getpid()
    assert worker.call(_pid, JobControl()) == first == worker.pid


def test_progress_reaches_the_caller_and_the_result_comes_back(worker: WorkerProcess) -> None:
    seen: list[Progress] = []
    assert worker.call(partial(_count, 3), JobControl(progress=seen.append)) == 30
    assert [(p.done, p.total, p.message) for p in seen] == [
        (1, 3, "item 1"), (2, 3, "item 2"), (3, 3, "item 3")]


def test_the_jobs_exception_is_raised_in_the_caller(worker: WorkerProcess) -> None:
    with pytest.raises(ValueError, match="no such vocabulary: colours"):
        worker.call(_fail, JobControl())
    assert worker.call(partial(_count, 0), JobControl()) == 0  # the worker lives on


def test_cancel_in_the_caller_stops_the_job_in_the_worker(worker: WorkerProcess) -> None:
    control = JobControl()
    # Cancel once the job has reported that it waits.
    control.progress = lambda _p: threading.Timer(0.1, control.cancel.set).start()
    assert worker.call(_until_cancelled, control) == "stopped"
    # The next job starts with the flag cleared.
    assert worker.call(partial(_count, 1), JobControl()) == 10


def test_a_worker_that_dies_is_reported_and_replaced(worker: WorkerProcess) -> None:
    before = worker.call(_pid, JobControl())
    with pytest.raises(WorkerStoppedError, match="exit code -9"):
        worker.call(_die, JobControl())
    after = worker.call(_pid, JobControl())
    assert after not in (before, os.getpid())


def test_close_ends_the_worker() -> None:
    process = WorkerProcess()
    pid = process.call(_pid, JobControl())
    process.close()
    assert process.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
