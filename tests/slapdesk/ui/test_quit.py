"""Ctrl+Q leaves the process promptly, even while a job is inside a call it cannot stop."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from slapdesk.ui.application import QUIT_GRACE_MS

# The real start-up (run_gui), plus one job that sleeps through its cancel (as a worker inside
# a long model load or a slow disk read does) and a Ctrl+Q key press once the window is up.
_SCRIPT = """
import sys, time
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
import slapdesk.ui.main_window as main_window
from slapdesk.app import run_gui

built = main_window.MainWindow.__init__

def deaf_to_cancel(_control):
    time.sleep(60)

def press_ctrl_q(window):
    window.activateWindow()
    print("active:", QTest.qWaitForWindowActive(window), flush=True)
    print("job running:", window.jobs.busy, flush=True)
    print(f"quit at {time.monotonic():.3f}", flush=True)
    QTest.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)

def init(self, ctx):
    built(self, ctx)
    self.jobs.start("Stuck job", deaf_to_cancel, pool="model")
    QTimer.singleShot(500, lambda: press_ctrl_q(self))

main_window.MainWindow.__init__ = init
sys.exit(run_gui(sys.argv[1]))
"""


def test_ctrl_q_quits_within_two_seconds_while_a_job_runs(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SLAPDESK_CONFIG=str(tmp_path / "cfg"),
               SLAPDESK_DATA=str(tmp_path / "data"))
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", _SCRIPT, str(tmp_path / "lib.sqlite")],
                          env=env, capture_output=True, text=True, timeout=60)
    ended = time.monotonic()
    lines = done.stdout.splitlines()
    assert "job running: True" in lines, done.stdout + done.stderr
    quit_at = float(next(x for x in lines if x.startswith("quit at ")).split()[-1])
    assert done.returncode == 0, done.stderr
    assert ended - quit_at < 2.0  # the job would have held the process for 60 s
    assert ended - quit_at >= QUIT_GRACE_MS / 1000  # it was given its chance to stop
    assert "did not stop within" in done.stderr
    assert ended - started < 30
