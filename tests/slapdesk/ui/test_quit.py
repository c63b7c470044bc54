"""Ctrl+Q leaves the process promptly, even while a job is inside a call it cannot stop."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from slapdesk.ui.application import QUIT_GRACE_MS

# A job that sleeps through its cancel, as one inside a long model load or a slow disk read
# does. A module of its own, so that the worker process can import it too.
_DEAF_JOB = """
import time

def sleep_through_cancel(_control):
    time.sleep(60)
"""

# The real start-up (run_gui), the job started in a thread of the window's process or in its
# worker process, and a Ctrl+Q key press once the window is up.
_SCRIPT = """
import sys, time
from functools import partial
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
import slapdesk.ui.main_window as main_window
from slapdesk.app import run_gui
from deaf_job import sleep_through_cancel

built = main_window.MainWindow.__init__

def press_ctrl_q(window):
    window.activateWindow()
    QTest.qWaitForWindowActive(window)
    print("job running:", window.jobs.busy, flush=True)
    print("worker:", window.pipeline.worker.pid, flush=True)
    print(f"quit at {time.monotonic():.3f}", flush=True)
    QTest.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)

def init(self, ctx):
    built(self, ctx)
    job = sleep_through_cancel
    if sys.argv[2] == "worker":
        job = partial(self.pipeline.worker.call, sleep_through_cancel)
    self.jobs.start("Stuck job", job, pool="model")
    QTimer.singleShot(1500 if sys.argv[2] == "worker" else 500, lambda: press_ctrl_q(self))

main_window.MainWindow.__init__ = init
sys.exit(run_gui(sys.argv[1]))
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("where", ["thread", "worker"])
def test_ctrl_q_quits_within_two_seconds_while_a_job_runs(tmp_path: Path, where: str) -> None:
    (tmp_path / "deaf_job.py").write_text(_DEAF_JOB)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SLAPDESK_CONFIG=str(tmp_path / "cfg"),
               PYTHONPATH=os.pathsep.join([str(tmp_path), *sys.path]))
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", _SCRIPT, str(tmp_path / "lib.sqlite"), where],
                          env=env, capture_output=True, text=True, timeout=60)
    ended = time.monotonic()
    lines = done.stdout.splitlines()
    assert "job running: True" in lines, done.stdout + done.stderr
    quit_at = float(next(x for x in lines if x.startswith("quit at ")).split()[-1])
    assert done.returncode == 0, done.stderr
    assert ended - quit_at < 2.0  # the job would have held the process for 60 s
    assert ended - started < 30
    worker = next(x for x in lines if x.startswith("worker: ")).split()[-1]
    if where == "worker":
        assert worker != "None" and not _alive(int(worker))  # not left behind either
    else:
        assert ended - quit_at >= QUIT_GRACE_MS / 1000  # it was given its chance to stop
        assert "did not stop within" in done.stderr
