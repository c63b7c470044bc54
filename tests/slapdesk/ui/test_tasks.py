from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QObject, QThread, Slot

from slapdesk.library.progress import Progress
from slapdesk.ui.tasks import TaskContext, TaskRunner


class Receiver(QObject):
    """Collects outcomes, recording which thread delivered them."""

    def __init__(self) -> None:
        super().__init__()
        self.results: list[object] = []
        self.errors: list[BaseException] = []
        self.progress: list[object] = []
        self.threads: list[QThread] = []

    @Slot(object)
    def done(self, result: object) -> None:
        self.threads.append(QThread.currentThread())
        self.results.append(result)

    @Slot(object)
    def failed(self, error: BaseException) -> None:
        self.errors.append(error)

    @Slot(object)
    def progressed(self, progress: object) -> None:
        self.progress.append(progress)


def count_to(n: int):
    def work(ctx: TaskContext) -> int:
        done = 0
        for done in range(1, n + 1):
            if ctx.cancelled:
                break
            ctx.report(Progress(done, n), force=True)
        return done

    return work


def test_fake_pool_delivers_result_and_progress_synchronously(runner: TaskRunner) -> None:
    receiver = Receiver()
    handle = runner.run(count_to(3), receiver.done, receiver.failed,
                        on_progress=receiver.progressed)
    assert handle.finished
    assert receiver.results == [3]
    assert [p.done for p in receiver.progress] == [1, 2, 3]
    assert runner.running == 0


def test_errors_reach_on_error_not_the_event_loop(runner: TaskRunner) -> None:
    receiver = Receiver()

    def broken(ctx: TaskContext) -> None:
        raise ValueError("bad.mp3: not an audio file")

    runner.run(broken, receiver.done, receiver.failed)
    assert receiver.results == []
    assert str(receiver.errors[0]) == "bad.mp3: not an audio file"


def test_progress_is_throttled_unless_forced(runner: TaskRunner) -> None:
    receiver = Receiver()

    def chatty(ctx: TaskContext) -> None:
        for i in range(1000):
            ctx.report(Progress(i, 1000))

    runner.run(chatty, on_progress=receiver.progressed)
    assert 1 <= len(receiver.progress) < 50


def test_real_thread_result_arrives_in_gui_thread(qtbot) -> None:
    runner = TaskRunner()
    receiver = Receiver()
    worker_threads: list[int] = []

    def work(ctx: TaskContext) -> str:
        worker_threads.append(threading.get_ident())
        return "ok"

    with qtbot.waitSignal(runner.task_done, timeout=5000):
        runner.run(work, receiver.done)
    qtbot.waitUntil(lambda: receiver.results == ["ok"], timeout=2000)
    assert worker_threads[0] != threading.get_ident()
    assert receiver.threads == [QThread.currentThread()]
    assert runner.shutdown(2000)


def test_cancel_stops_a_real_worker(qtbot) -> None:
    runner = TaskRunner()
    receiver = Receiver()
    started = threading.Event()

    def wait_for_cancel(ctx: TaskContext) -> str:
        started.set()
        assert ctx.cancel.wait(5), "never cancelled"
        return "stopped"

    handle = runner.run(wait_for_cancel, receiver.done, pool="io")
    assert started.wait(5)
    with qtbot.waitSignal(runner.task_done, timeout=5000):
        handle.cancel()
    qtbot.waitUntil(lambda: receiver.results == ["stopped"], timeout=2000)
    assert runner.shutdown(2000)


@pytest.mark.parametrize("pool", ["cpu", "io", "model"])
def test_every_pool_runs(runner: TaskRunner, pool: str) -> None:
    receiver = Receiver()
    runner.run(count_to(1), receiver.done, pool=pool)
    assert receiver.results == [1]


def test_task_context_honours_the_library_job_contract() -> None:
    from slapdesk.library.jobs.control import JobControl

    posted: list[object] = []
    context = TaskContext(threading.Event(), posted.append)
    assert isinstance(context, JobControl)
    context.report(Progress(1, 3))
    context.report(Progress(2, 3))  # within the throttle interval: dropped
    context.report(Progress(3, 3), force=True)
    assert posted == [Progress(1, 3), Progress(3, 3)]
    context.cancel.set()
    assert context.cancelled


def test_a_task_that_outlives_its_runner_ends_quietly(capfd) -> None:
    # A window that closes while a task runs past the grace period deletes its runner; the
    # task's outcome then has nowhere to go and must not raise in the worker thread.
    import shiboken6
    from PySide6.QtCore import QThreadPool

    from slapdesk.ui.tasks import POOLS

    pool = QThreadPool()
    runner = TaskRunner(pools={name: pool for name in POOLS})
    started, release = threading.Event(), threading.Event()

    def work(_ctx: TaskContext) -> str:
        started.set()
        release.wait(5)
        return "late"

    runner.run(work, lambda _result: None)
    assert started.wait(5)
    shiboken6.delete(runner)
    release.set()
    assert pool.waitForDone(5000)
    assert "Signal source has been deleted" not in capfd.readouterr().err
