"""How responsive the window stays while it works on a library, and how fast it opens.

A 10 ms QTimer runs in the GUI thread while the window, through its real jobs, scans a folder
of generated files, embeds them and finds their moments (chained after the scan), searches,
proposes genre tags, writes every proposal into the files, undoes that run, and launches a
3-step CPU training run from its training panel (device listing included) and watches it to
the end. Each timer tick records how late it fired, under the job running then; the longest
gap is the longest the window could not repaint or react ("idle" is the window just opened,
before any job). ``--trace`` samples the GUI thread's stack during every stall over 50 ms and
prints where it was (``stall_trace.py``). A second measurement starts fresh processes and
times each to a painted window.

    .venv/bin/python tests/bench/bench_gui_stall.py --files 3000
    .venv/bin/python tests/bench/bench_gui_stall.py --files 2000 --bundle runs/x/bundle
    .venv/bin/python tests/bench/bench_gui_stall.py --files 40 --starts 0 --trace

Targets: longest stall < 50 ms in every phase (a person sees a hitch above that), cold start
<= 2 s. The load average is printed with the figures: on a shared machine it is part of them.
"""

from __future__ import annotations

import argparse
import json
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
from slapdesk.library.demo.synth import SAMPLE_RATE, STYLES, render  # noqa: E402

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
    styles = sorted(STYLES)
    for index, name in enumerate(sorted(FORMATS)):
        # Arrangements, not test tones: the model marks tones as nothing to tag.
        style = styles[index % len(styles)]
        samples = render(STYLES[style], 110, seconds, np.random.default_rng(index))
        seeds.append(make_track(folder / f"seed_{index}", name, samples=samples,
                                sample_rate=SAMPLE_RATE,
                                tags={"title": f"Seed {index}", "artist": f"Band {index}",
                                      "genre": [style]}))
    for i in range(count):
        source = seeds[i % len(seeds)]
        target = folder / f"album_{i // 50:03d}" / f"track_{i:05d}{source.suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    for seed in seeds:
        seed.unlink()
    return time.perf_counter() - started


class StallRecorder:
    """A 10 ms GUI timer; each tick records how late it fired, under the phase running then."""

    def __init__(self, tracer=None) -> None:
        from PySide6.QtCore import QElapsedTimer, QTimer

        self.phase = "idle"
        self.tracer = tracer  # a StallTracer, when stalls are to be traced to their code
        self.gaps: list[tuple[str, float]] = []
        self._clock = QElapsedTimer()
        self._clock.start()
        self._last = self._clock.nsecsElapsed()
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = self._clock.nsecsElapsed()
        self.gaps.append((self.phase, (now - self._last) / 1e6))
        self._last = now
        if self.tracer is not None:
            self.tracer.beat(self.phase)

    def summary(self) -> dict[str, dict[str, float]]:
        """Per phase (and "all work"): ticks, longest gap, p99, gaps over 50 ms."""
        phases: dict[str, list[float]] = {}
        for phase, gap in self.gaps[1:]:
            phases.setdefault(phase, []).append(gap)
            if phase != "idle":
                phases.setdefault("all work", []).append(gap)
        return {name: {"ticks": len(g), "max_ms": float(np.max(g)),
                       "p99_ms": float(np.percentile(g, 99)),
                       "over_50ms": int((np.asarray(g) > 50).sum())}
                for name, g in phases.items()}


def _spin(app, until, timeout_s: float = 1800.0) -> None:
    """Run the event loop as a window does until ``until()`` is true."""
    deadline = time.perf_counter() + timeout_s
    while not until():
        if time.perf_counter() > deadline:
            raise TimeoutError("the window's work did not finish in time")
        app.processEvents()
        time.sleep(0.001)


def _build_window(library: Path, bundle: str | None, settings: Path):
    from slapdesk.settings import Settings, save_settings
    from slapdesk.ui.application import qapplication

    app = qapplication()
    from slapdesk.app import build_context
    from slapdesk.ui.main_window import MainWindow

    save_settings(Settings(active_model=bundle or ""), settings)
    window = MainWindow(build_context(library, settings_file=settings))
    window.show()
    app.processEvents()
    return app, window


def _run_jobs(app, window, recorder: StallRecorder, music: Path, train: bool) -> dict:
    """Scan (embedding and moments follow), propose, apply, then launch a short training."""
    phases: dict[str, float] = {}
    finished: list[str] = []

    def started_job(title: str) -> None:
        recorder.phase = "Undoing tags" if title.startswith("Undoing") else title
        phases[recorder.phase] = time.perf_counter() - begun

    def ended_job(title: str, *_rest) -> None:
        # The phase stays until the next one starts: what the window does when a job ends
        # (its done callback, the reloads it starts) is part of that job.
        finished.append(title)

    window.jobs.started.connect(started_job)
    window.jobs.finished.connect(ended_job)
    window.jobs.failed.connect(ended_job)
    window.jobs.failed.connect(lambda title, why: print(f"{title} failed: {why}", flush=True))
    begun = time.perf_counter()
    window.start_scan([str(music)])
    _spin(app, lambda: "Finding moments" in finished)
    recorder.phase = "Searching"
    answers: list = []
    window.search.results_ready.connect(answers.append)
    window.search.run_now("band")
    _spin(app, lambda: any(a.query == "band" for a in answers), 120)
    tagging = window.show_tab("tagging").controller
    recorder.phase = "Proposing tags"
    tagging.propose()
    _spin(app, lambda: "Proposing tags" in finished)
    _spin(app, lambda: tagging.model.rowCount() > 0, 60)
    tagging.view.threshold.setValue(0.0)
    tagging.accept_above_threshold()
    tagging.confirm = lambda _text, _action: True  # the person clicks "Write"
    tagging.apply()
    _spin(app, lambda: "Writing tags" in finished)
    tagging.undo()
    _spin(app, lambda: any(title.startswith("Undoing") for title in finished))
    if train:
        _launch_training(app, window, recorder)
    recorder.phase = "done"
    return {"phases": phases, "seconds": time.perf_counter() - begun,
            "tracks": window.track_count(), "status": window.status_label.text()}


def _launch_training(app, window, recorder: StallRecorder, steps: int = 3) -> None:
    """The training panel: list devices, start a CPU run of a few steps, watch it to the end."""
    from slapdesk.library.jobs.training import TrainOptions

    recorder.phase = "Training panel"
    training = window.show_tab("training").controller
    training.detect_devices()
    out = window.ctx.data_dir / "runs" / "bench"
    options = TrainOptions(out=out, source="library", library=window.ctx.library_path,
                           steps=steps, batch_size=8, device="cpu", eval_every=0)
    assert training.start(options), "the training run did not start"
    began = time.perf_counter()
    _spin(app, lambda: time.perf_counter() - began > 1.0)  # the panel settles, the run starts
    recorder.phase = "Training run"
    _spin(app, lambda: not training.running, 900)
    if not (out / "bundle").is_dir():
        log = training.view.log.toPlainText().splitlines()
        print("training did not finish:\n  " + "\n  ".join(log[-12:]), flush=True)


def measure_stalls(library: Path, music: Path, bundle: str | None, settings: Path,
                   train: bool = True, trace: bool = False) -> dict:
    """Run the window's jobs and record the GUI timer's lateness per phase."""
    app, window = _build_window(library, bundle, settings)
    tracer = None
    if trace:
        from stall_trace import StallTracer

        tracer = StallTracer()
    recorder = StallRecorder(tracer)
    # Baseline: the same timer with nothing to do, on the same (possibly busy) machine.
    _spin(app, lambda: len(recorder.gaps) > 300)
    load_before = os.getloadavg()
    result = _run_jobs(app, window, recorder, music, train)
    for _ in range(50):
        app.processEvents()
        time.sleep(0.01)
    recorder.timer.stop()
    if tracer is not None:
        tracer.stop()
        tracer.report()
        result["traced"] = tracer.worst_per_phase()
    window.close()
    result.update(stalls=recorder.summary(), load_before=load_before, load_after=os.getloadavg())
    return result


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


def _print(result: dict) -> None:
    phases = ", ".join(f"{k} at {v:.1f} s" for k, v in result["phases"].items())
    print(f"jobs: {phases}; all done after {result['seconds']:.1f} s "
          f"({result['tracks']:,} tracks); status: {result['status']}")
    print("load average before: " + " ".join(f"{x:.1f}" for x in result["load_before"])
          + ", after: " + " ".join(f"{x:.1f}" for x in result["load_after"])
          + f" ({os.cpu_count()} CPUs)")
    print(f"{'phase':24}{'ticks':>8}{'longest gap':>14}{'p99':>10}{'gaps > 50 ms':>14}")
    for name, row in sorted(result["stalls"].items(), key=lambda item: item[0] == "all work"):
        print(f"{name:24}{row['ticks']:>8,}{row['max_ms']:>11.1f} ms{row['p99_ms']:>7.1f} ms"
              f"{row['over_50ms']:>14}")


PHASES = ("idle", "Scanning", "Listening to tracks", "Finding moments", "Searching",
          "Proposing tags", "Writing tags", "Undoing tags", "Training panel", "Training run")


def compare(runs: list[list[str]]) -> None:
    """Print saved ``--json`` runs side by side: per phase the longest stall, and (traced
    runs) what the GUI thread itself ran in the worst traced stall of that phase."""
    columns = []
    for label, path in runs:
        lines = [line for line in Path(path).read_text().splitlines() if line.startswith("{")]
        columns.append((label, json.loads(lines[-1])))
    print(f"{'longest stall (GUI ran)':24}" + "".join(f"{label:>18}" for label, _ in columns))
    for phase in PHASES:
        cells = []
        for _label, run in columns:
            longest = run["stalls"].get(phase, {}).get("max_ms")
            traced = run.get("traced", {}).get(phase)
            ran = f" ({traced[1]:.0f})" if traced else " (-)"
            cells.append("-" if longest is None else f"{longest:.0f} ms{ran}")
        print(f"{phase:24}" + "".join(f"{cell:>18}" for cell in cells))
    for key in ("load_before", "load_after"):
        print(f"{key.replace('_', ' '):24}"
              + "".join(f"{run[key][0]:>18.1f}" for _label, run in columns))


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=3000, help="audio files to scan")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each file")
    parser.add_argument("--bundle", help="model bundle to embed with (default: the active one)")
    parser.add_argument("--starts", type=int, default=3, help="cold starts to time")
    parser.add_argument("--no-train", action="store_true", help="skip the training launch")
    parser.add_argument("--music", type=Path,
                        help="a folder of music to copy and work on instead of generated files "
                             "(the copy gets tags written)")
    parser.add_argument("--trace", action="store_true",
                        help="sample the GUI thread's stack in each stall, print where it was")
    parser.add_argument("--json", action="store_true", help="print the stalls as one JSON line")
    parser.add_argument("--compare", nargs="+", metavar="LABEL=FILE",
                        help="print saved --json runs side by side instead of measuring")
    args = parser.parse_args()
    if args.compare:
        compare([item.split("=", 1) for item in args.compare])
        return
    with tempfile.TemporaryDirectory(prefix="slapdesk-bench-") as tmp:
        folder = Path(tmp)
        if args.music is not None:
            shutil.copytree(args.music, folder / "music",
                            ignore=shutil.ignore_patterns("*.sqlite*", "*.lock"))
            print(f"files: a copy of {args.music}", flush=True)
        else:
            made = make_files(folder / "music", args.files, args.seconds)
            print(f"files: {args.files:,} generated in {made:.1f} s", flush=True)
        result = measure_stalls(folder / "lib.sqlite", folder / "music", args.bundle,
                                folder / "settings.toml", train=not args.no_train,
                                trace=args.trace)
        _print(result)
        if args.json:
            print(json.dumps({"stalls": result["stalls"], "load_before": result["load_before"],
                              "load_after": result["load_after"],
                              "traced": result.get("traced", {})}), flush=True)
        if args.starts < 1:
            return
        starts = cold_start(folder / "lib.sqlite", folder / "settings.toml", args.starts)
        print("cold start to a painted window (populated library): "
              + ", ".join(f"{s:.2f} s" for s in starts) + f"; best {min(starts):.2f} s")


if __name__ == "__main__":
    main()
