"""The command line honours the job contract: Ctrl-C cancels, Progress reports move the bar."""

from __future__ import annotations

import io
import os
import signal
import sys

import pytest

from slapdesk.commands.terminal_job import terminal_job
from slapdesk.library.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_ctrl_c_sets_the_cancel_flag_and_the_handler_is_put_back() -> None:
    before = signal.getsignal(signal.SIGINT)
    with terminal_job("file") as control:
        assert not control.cancelled
        os.kill(os.getpid(), signal.SIGINT)
        assert control.cancelled
    assert signal.getsignal(signal.SIGINT) is before


def test_reports_move_a_bar_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with terminal_job("track", "Embedding") as control:
        control.report(Progress(3, 8, "tone_flac.flac"))
        control.report(Progress(8, 8, "tone_wav.wav"))
    shown = terminal.getvalue()
    assert "Embedding" in shown and "8/8" in shown and "tone_wav.wav" in shown


def test_no_bar_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    with terminal_job("file") as control:
        control.report(Progress(1, 2, "reading: a.flac"))
    assert pipe.getvalue() == ""
