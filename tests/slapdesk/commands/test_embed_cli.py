"""``slapdesk embed`` on a terminal: a progress bar at once, Ctrl-C stops after the batch."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from slapdesk.library.demo.audio_files import make_track
from slapdesk.library.scan.scanner import run_scan
from slapdesk.library.store.database import Database

ROOT = Path(__file__).resolve().parents[3]


def _on_terminal(args: list[str], env: dict[str, str], until: bytes,
                 timeout: float = 120) -> tuple[subprocess.Popen, bytes, int]:
    """Start ``args`` on a 30x120 pseudo-terminal; read until ``until`` matches (or timeout)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    process = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env)
    os.close(slave)
    shown = b""
    deadline = time.monotonic() + timeout
    while not re.search(until, shown) and time.monotonic() < deadline:
        if select.select([master], [], [], 0.1)[0]:
            try:
                shown += os.read(master, 65536)
            except OSError:  # the process ended and closed the terminal
                break
    return process, shown, master


def _read_rest(process: subprocess.Popen, master: int) -> bytes:
    rest = b""
    while True:
        if select.select([master], [], [], 0.1)[0]:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""
            if not data:
                break
            rest += data
        elif process.poll() is not None:
            break
    os.close(master)
    return rest


@pytest.mark.slow
def test_embed_shows_progress_and_stops_cleanly_on_ctrl_c(
    tmp_path: Path, tiny_bundle: Path
) -> None:
    source = make_track(tmp_path / "src", "flac", tags={"title": "Copy"})
    music = tmp_path / "music"
    music.mkdir()
    total = 240  # long enough that the signal lands mid-job on an idle machine too
    for index in range(total):
        os.link(source, music / f"{index:04d}.flac")
    library = tmp_path / "lib.sqlite"
    with Database(library) as db:
        run_scan(db, [music])
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "cfg"), PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "slapdesk", "--library", str(library), "embed",
               "--model", str(tiny_bundle), "--device", "cpu", "--batch", "4"]

    # Interrupt once the bar counts finished tracks ("  3/240 [").
    process, shown, master = _on_terminal(command, env, until=rb" [1-9]\d*/%d \[" % total)
    if process.poll() is not None:
        pytest.skip("the job ended before it could be interrupted")
    process.send_signal(signal.SIGINT)
    text = (shown + _read_rest(process, master)).decode(errors="replace")
    assert process.wait(timeout=60) == 130, text
    assert f"0/{total} [" in text and "loading the model" in text  # before torch loads
    assert "Embedding:" in text and re.search(r"\d(track/s|s/track)", text)
    assert "Stopping after the current batch" in text
    assert "Stopped early; run slapdesk embed again to continue." in text
    with sqlite3.connect(library) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        kept = conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
    assert 0 < kept < total
    assert f"Embedded {kept} track(s)." in text  # what it reports is what it stored

    resumed = subprocess.run([*command, "--json"], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["embedded"] == total - kept
    again = subprocess.run([*command, "--json"], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=60)
    assert json.loads(again.stdout) == {
        "embedded": 0, "abstained": 0, "errors": [], "failed_before": 0, "cancelled": False
    }
    assert "torch" not in again.stderr  # nothing to embed: the model was never loaded
