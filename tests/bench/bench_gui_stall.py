"""How responsive the window stays while it scans and embeds a library, and how fast it opens.

A 10 ms QTimer runs in the GUI thread while the window scans (and, given a model bundle,
embeds) a folder of a few thousand generated files through its real TaskRunner; each timer
tick records how late it fired. The longest gap is the longest the window could not repaint
or react. A second measurement starts a fresh process and times it to a visible window.

    .venv/bin/python tests/bench/bench_gui_stall.py --files 3000
    .venv/bin/python tests/bench/bench_gui_stall.py --files 2000 --bundle runs/x/bundle

Targets: longest stall < 50 ms (a person sees a hitch above that), cold start < 3 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from slapdesk.library.demo.audio_files import FORMATS, make_track  # noqa: E402

_START_SNIPPET = """
import os, sys, time
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
started = float(sys.argv[1])
from pathlib import Path
from slapdesk.ui.application import qapplication
app = qapplication()
from slapdesk.app import build_context
from slapdesk.ui.main_window import MainWindow
ctx = build_context(sys.argv[2], settings_file=Path(sys.argv[3]))
window = MainWindow(ctx)
window.show()
app.processEvents()
window.grab()
print(f"{time.time() - started:.3f}")
ctx.runner.shutdown(1000)
"""


def make_files(folder: Path, count: int, seconds: float) -> float:
    """``count`` real audio files: a few encoded tracks, copied under many names."""
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    seeds = []
    for index, name in enumerate(sorted(FORMATS)):
        seeds.append(make_track(folder / f"seed_{index}", name, freq_hz=110.0 * (index + 1),
                                seconds=seconds,
                                tags={"title": f"Seed {index}", "artist": f"Band {index}"}))
    for i in range(count):
        source = seeds[i % len(seeds)]
        target = folder / f"album_{i // 50:03d}" / f"track_{i:05d}{source.suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    for seed in seeds:
        seed.unlink()
    return time.perf_counter() - started


def _tick_gaps():
    """A 10 ms GUI timer and the list of milliseconds between its ticks (a stall shows)."""
    from PySide6.QtCore import QElapsedTimer, QTimer

    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def tick() -> None:
        now = clock.nsecsElapsed()
        gaps.append((now - last[0]) / 1e6)
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    return gaps, timer


def measure_stalls(library: Path, music: Path, bundle: str | None, settings: Path) -> dict:
    """Scan (+ embed) through the window and record the GUI timer's lateness."""
    from slapdesk.settings import Settings, save_settings
    from slapdesk.ui.application import qapplication

    app = qapplication()
    from slapdesk.app import build_context
    from slapdesk.ui.main_window import MainWindow

    save_settings(Settings(active_model=bundle or ""), settings)
    ctx = build_context(library, settings_file=settings)
    window = MainWindow(ctx)
    window.show()
    app.processEvents()
    gaps, timer = _tick_gaps()
    # Baseline: the same timer with nothing to do, on the same (possibly busy) machine.
    idle_until = time.perf_counter() + 3.0
    while time.perf_counter() < idle_until:
        app.processEvents()
        time.sleep(0.001)
    idle = np.asarray(gaps[1:] or [0.0])
    gaps.clear()
    phases: dict[str, float] = {}
    finished: list[str] = []
    window.jobs.started.connect(
        lambda title: phases.setdefault(title, time.perf_counter() - started))
    window.jobs.finished.connect(lambda title, _result: finished.append(title))
    window.jobs.failed.connect(lambda title, _message: finished.append(title))
    started = time.perf_counter()
    window.start_scan([str(music)])
    while "Listening to tracks" not in finished:
        app.processEvents()
        time.sleep(0.001)
    total = time.perf_counter() - started
    # Browse and search while idle, then stop.
    window.search.run_now("band")
    for _ in range(50):
        app.processEvents()
        time.sleep(0.01)
    timer.stop()
    tracks = window.track_count()
    status = window.status_label.text()
    window.close()
    arr = np.asarray(gaps[1:] or [0.0])
    return {
        "tracks": tracks, "seconds": total, "phases": phases, "status": status,
        "ticks": len(arr), "max_ms": float(arr.max()), "p99_ms": float(np.percentile(arr, 99)),
        "median_ms": float(np.median(arr)), "over_50ms": int((arr > 50).sum()),
        "idle_max_ms": float(idle.max()), "idle_p99_ms": float(np.percentile(idle, 99)),
    }


def cold_start(library: Path, settings: Path, runs: int) -> list[float]:
    """Seconds from process start to a painted window, for ``runs`` fresh processes."""
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _START_SNIPPET, repr(time.time()), str(library), str(settings)],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return times


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=3000, help="audio files to scan")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each file")
    parser.add_argument("--bundle", help="model bundle to embed with (default: the active one)")
    parser.add_argument("--starts", type=int, default=3, help="cold starts to time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="slapdesk-bench-") as tmp:
        folder = Path(tmp)
        made = make_files(folder / "music", args.files, args.seconds)
        print(f"files: {args.files:,} generated in {made:.1f} s")
        result = measure_stalls(folder / "lib.sqlite", folder / "music", args.bundle,
                                folder / "settings.toml")
        phases = ", ".join(f"{k} at {v:.1f} s" for k, v in result["phases"].items())
        print(f"jobs: {phases}; all done after {result['seconds']:.1f} s "
              f"({result['tracks']:,} tracks); status: {result['status']}")
        print(f"event loop while working: {result['ticks']:,} ticks of a 10 ms timer; "
              f"longest gap {result['max_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
              f"median {result['median_ms']:.1f} ms, gaps > 50 ms: {result['over_50ms']}")
        print(f"same timer idle (baseline, same machine): longest gap {result['idle_max_ms']:.1f} "
              f"ms, p99 {result['idle_p99_ms']:.1f} ms; load average {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} CPUs")
        starts = cold_start(folder / "lib.sqlite", folder / "settings.toml", args.starts)
        print("cold start to a painted window (populated library): "
              + ", ".join(f"{s:.2f} s" for s in starts) + f"; best {min(starts):.2f} s")


if __name__ == "__main__":
    main()
