"""The job bar moves at most every BAR_INTERVAL_S: each move repaints the window there and then."""

from __future__ import annotations

from slapdesk.library.progress import Progress
from slapdesk.ui import jobs
from slapdesk.ui.jobs import BAR_INTERVAL_S, JobTracker
from slapdesk.ui.tasks import POOLS, TaskRunner
from slapdesk.ui.views.job_bar import JobBarView


class _HeldPool:
    """Keeps the job running: its tasks are never run."""

    def start(self, runnable, priority: int = 0) -> None:
        self.runnable = runnable

    def waitForDone(self, msecs: int = -1) -> bool:  # noqa: N802 (Qt name)
        return True


def test_reports_between_moves_are_shown_as_the_newest_one(qtbot, monkeypatch) -> None:
    clock = [100.0]
    monkeypatch.setattr(jobs.time, "monotonic", lambda: clock[0])
    bar = JobBarView()
    qtbot.addWidget(bar)
    moves: list[tuple[int, int | None, str]] = []
    monkeypatch.setattr(bar, "update_progress", lambda *args: moves.append(args))
    tracker = JobTracker(TaskRunner({name: _HeldPool() for name in POOLS}), bar)
    reported: list[Progress] = []
    tracker.progressed.connect(reported.append)
    assert tracker.start("Writing tags", lambda _context: None)
    tracker._progress(Progress(1, 64, "track 1"))  # the first report moves the bar at once
    for done in (2, 3, 4):  # 30 reports a second: these wait for the bar's next move
        clock[0] += 0.03
        tracker._progress(Progress(done, 64, f"track {done}"))
    assert moves == [(1, 64, "track 1")] and tracker._bar_timer.isActive()
    assert [p.done for p in reported] == [1, 2, 3, 4]  # listeners still hear every report
    clock[0] = 100.0 + BAR_INTERVAL_S
    tracker._show_latest()  # the timer's turn: one move, to the newest report
    assert moves == [(1, 64, "track 1"), (4, 64, "track 4")]
    clock[0] += BAR_INTERVAL_S
    tracker._progress(Progress(5, 64, "track 5"))  # a report after a quiet spell: at once
    assert moves[-1] == (5, 64, "track 5")
    clock[0] += 0.01
    tracker._progress(Progress(6, 64, "track 6"))
    tracker._done(None)  # the job ends before the bar's next move: nothing moves after it
    tracker._show_latest()
    assert moves[-1] == (5, 64, "track 5") and not tracker.busy
    assert not tracker._bar_timer.isActive()
