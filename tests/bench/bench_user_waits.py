"""Where a user waits, timed as a user runs it: each row is a fresh ``slapdesk`` process.

Rows: cold ``search "calm piano"``, ``embed`` (tracks/s, end to end, model load included),
``tag --vocab genre`` (a dry run), ``export --m3u8``, the window's launch to a painted window
and to its first answer ranked by sound (a fresh process each), the longest event-loop stall
while the window scans, embeds, finds moments, proposes, applies and launches training
(``bench_gui_stall.py`` on a copy of the same music; for a real folder, its
``--stall-tracks`` smallest files), and ``slapdesk-train --library`` with no
other flags (a CPU: heads only on frozen towers) for a few steps. The library is a generated
demo library (``slapdesk demo``: N tracks of 15 s in every format) and, with ``--music DIR``,
also a folder of real music. ``--checkout DIR`` (repeatable) runs the same rows with another
checkout's code on a copy of the same scanned library, so the columns compare code on one
machine at one load.

    .venv/bin/python tests/bench/bench_user_waits.py                     # 64 generated tracks
    .venv/bin/python tests/bench/bench_user_waits.py --tracks 228 --music ~/Music/some-folder
    .venv/bin/python tests/bench/bench_user_waits.py --checkout /tmp/old-slapdesk --runs 3

Every process gets its own data and config folders, so the shipped default model is the active
one and nothing of the user's is read or changed. Load averages are printed before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QUERY = "calm piano"
TRAIN_STEPS = 20
# What the stall sample copies from a folder of real music.
_AUDIO_SUFFIXES = frozenset({".mp3", ".flac", ".ogg", ".opus", ".m4a", ".wav", ".aiff", ".wma"})
STALL_JOBS = ("Scanning", "Listening to tracks", "Finding moments", "Searching",
              "Proposing tags", "Writing tags", "Undoing tags", "Training panel", "Training run")


@dataclass
class Column:
    """The figures of one checkout on one library."""

    name: str
    search_s: list[float] = field(default_factory=list)
    embed_tracks: int = 0
    embed_s: float = 0.0
    tag_s: float = 0.0
    export_s: float = 0.0
    window_s: list[float] = field(default_factory=list)
    sound_s: list[float] = field(default_factory=list)
    stall: dict = field(default_factory=dict)
    train: dict = field(default_factory=dict)


_LAUNCH = """
import json, os, sys, time
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
started, library, query = float(sys.argv[1]), sys.argv[2], sys.argv[3]
from slapdesk.ui.application import qapplication
app = qapplication()
from slapdesk.app import build_context
from slapdesk.ui.main_window import MainWindow
window = MainWindow(build_context(library))
answers = []
window.search.results_ready.connect(answers.append)
window.show()
app.processEvents()
window.grab()
shown = time.time() - started
window.library_view.search.setText(query)
window.search.run_now(query)
while not any(a.mode == "sound" and a.query == query for a in answers):
    app.processEvents()
    time.sleep(0.002)
    if time.time() - started > 600:
        raise SystemExit("no answer ranked by sound in 600 s")
print(json.dumps({"window_s": shown, "sound_s": time.time() - started}))
window.close()
"""

def _env(checkout: Path, home: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(checkout), XDG_DATA_HOME=str(home / "data"),
               XDG_CONFIG_HOME=str(home / "cfg"), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               QT_QPA_PLATFORM="offscreen")
    env.pop("SLAPDESK_CONFIG", None)
    env.pop("SLAPDESK_LIBRARY", None)
    return env


def _run(checkout: Path, home: Path, argv: list[str]) -> tuple[float, str]:
    """Run ``python ARGV`` from ``checkout``; (wall seconds, stdout)."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *argv], cwd=checkout, env=_env(checkout, home),
                          capture_output=True, text=True, timeout=3600)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} failed ({done.returncode}):\n"
                           f"{done.stderr[-2000:]}")
    return elapsed, done.stdout


def _cli(checkout: Path, home: Path, library: Path, *args: str) -> tuple[float, str]:
    """Run ``slapdesk --library LIBRARY ARGS`` from ``checkout``; (wall seconds, stdout)."""
    return _run(checkout, home, ["-m", "slapdesk", "--library", str(library), *args])


def _launches(column: Column, checkout: Path, home: Path, library: Path, runs: int) -> None:
    """Window launch to a painted window and to the first answer ranked by sound."""
    for _ in range(runs):
        out = _run(checkout, home, ["-c", _LAUNCH, repr(time.time()), str(library), QUERY])[1]
        times = json.loads(out.strip().splitlines()[-1])
        column.window_s.append(times["window_s"])
        column.sound_s.append(times["sound_s"])


def _stalls(column: Column, checkout: Path, home: Path, music: Path | None) -> None:
    """The longest event-loop stall per job (bench_gui_stall.py on a copy of the music)."""
    argv = [str(ROOT / "tests" / "bench" / "bench_gui_stall.py"), "--json", "--starts", "0"]
    argv += ["--music", str(music)] if music is not None else ["--files", "64"]
    out = _run(checkout, home, argv)[1]
    column.stall = json.loads(out.strip().splitlines()[-1])


def _train(column: Column, checkout: Path, home: Path, library: Path, work: Path) -> None:
    """``slapdesk-train --library`` with its defaults, a few steps (what a CPU trains)."""
    out = work / f"train-{column.name}"
    seconds, _ = _run(checkout, home, ["-m", "slapdesk.train", "--library", str(library),
                                       "--out", str(out), "--steps", str(TRAIN_STEPS),
                                       "--no-progress"])
    steps = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()
             if '"step"' in line]
    rates = [r["samples_per_s"] for r in steps if r.get("samples_per_s")]
    column.train = {"seconds": seconds, "samples_per_s": statistics.median(rates) if rates else 0}


def _stall_sample(music: Path, dest: Path, count: int) -> Path:
    """The ``count`` smallest audio files of ``music``, copied into ``dest``, for the stall run.

    The stall benchmark runs every window job, the moment pass included, which over a whole
    folder of 5-10 minute tracks takes about an hour; a sample shows the same stalls.
    """
    files = sorted((f for f in music.rglob("*") if f.is_file()
                    and f.suffix.lower() in _AUDIO_SUFFIXES), key=lambda f: f.stat().st_size)
    dest.mkdir(parents=True)
    for number, source in enumerate(files[:count]):
        shutil.copyfile(source, dest / f"{number:03d}-{source.name}")
    return dest


def _scanned_library(work: Path, tracks: int, music: Path | None) -> Path:
    """A scanned library without vectors: the demo generator's, or a scan of ``music``."""
    home = work / "home"
    if music is None:
        folder = work / "demo"
        _cli(ROOT, home, folder / "library.sqlite", "demo", "--no-gui", "--no-embed",
             "--tracks", str(tracks), str(folder))
        return folder / "library.sqlite"
    library = work / "music.sqlite"
    _cli(ROOT, home, library, "scan", str(music))
    return library


def _measure(name: str, checkout: Path, scanned: Path, work: Path, runs: int,
             music: Path | None, window_jobs: bool) -> Column:
    library = work / f"{name}.sqlite"
    shutil.copy(scanned, library)
    home = work / f"home-{name}"
    column = Column(name)
    column.embed_s, out = _cli(checkout, home, library, "embed", "--json")
    column.embed_tracks = int(json.loads(out)["embedded"])
    _cli(checkout, home, library, "search", "warm the page cache")  # files read once
    for _ in range(runs):
        column.search_s.append(_cli(checkout, home, library, "search", QUERY)[0])
    column.tag_s = _cli(checkout, home, library, "tag", "--vocab", "genre")[0]
    column.export_s = _cli(checkout, home, library, "export", "--m3u8",
                           str(work / f"{name}.m3u8"), QUERY)[0]
    _launches(column, checkout, home, library, runs)
    if window_jobs:
        _stalls(column, checkout, home, music)
    _train(column, checkout, home, library, work)
    return column


def _table(title: str, columns: list[Column]) -> None:
    width = max(16, *(len(c.name) + 2 for c in columns))
    print(f"\n{title}")
    print(f"{'':34}" + "".join(f"{c.name:>{width}}" for c in columns))
    rows = [
        (f'cold search "{QUERY}" (median)', lambda c: f"{statistics.median(c.search_s):.2f} s"),
        ("  each run", lambda c: " ".join(f"{s:.1f}" for s in c.search_s)),
        ("embed, end to end", lambda c: f"{c.embed_tracks / c.embed_s:.2f} tr/s"),
        ("  tracks, seconds", lambda c: f"{c.embed_tracks}, {c.embed_s:.0f} s"),
        ("tag --vocab genre (dry run)", lambda c: f"{c.tag_s:.2f} s"),
        (f'export --m3u8 "{QUERY}"', lambda c: f"{c.export_s:.2f} s"),
        ("window launch (median)", lambda c: f"{statistics.median(c.window_s):.2f} s"),
        ("  each run", lambda c: " ".join(f"{s:.1f}" for s in c.window_s)),
        ("first sound ranking after launch", lambda c: f"{statistics.median(c.sound_s):.2f} s"),
        ("  each run", lambda c: " ".join(f"{s:.1f}" for s in c.sound_s)),
        ("GUI stall, longest (all jobs)", lambda c: _stall(c, "all work")),
        *[(f"  {job}", partial(_stall, job=job)) for job in STALL_JOBS],
        ("  load average during", lambda c: " / ".join(
            f"{c.stall[k][0]:.1f}" for k in ("load_before", "load_after")) if c.stall else "-"),
        (f"train, CPU default ({TRAIN_STEPS} steps)", lambda c: f"{c.train['seconds']:.1f} s"),
        ("  samples/s (median step)", lambda c: f"{c.train['samples_per_s']:,.0f}"),
    ]
    for label, cell in rows:
        print(f"{label:34}" + "".join(f"{cell(c):>{width}}" for c in columns))


def _stall(column: Column, job: str) -> str:
    row = column.stall.get("stalls", {}).get(job)
    return f"{row['max_ms']:.0f} ms" if row else "-"


def main() -> int:
    """Print the table for the generated library (and the real folder, when given)."""
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tracks", type=int, default=64, help="generated tracks (15 s each)")
    p.add_argument("--music", type=Path, help="also measure on this folder of real music")
    p.add_argument("--checkout", type=Path, action="append", default=[],
                   help="another checkout's code to run beside this one (repeatable)")
    p.add_argument("--runs", type=int, default=3, help="cold searches per column")
    p.add_argument("--stall-tracks", type=int, default=16,
                   help="real tracks (the smallest) the window's stall run works on")
    args = p.parse_args()
    checkouts = [("this", ROOT)] + [(c.name, c.resolve()) for c in args.checkout]
    print(f"CPUs: {os.cpu_count()}, load average before: "
          + " ".join(f"{x:.1f}" for x in os.getloadavg()), flush=True)
    with tempfile.TemporaryDirectory(prefix="slapdesk-waits-") as tmp:
        work = Path(tmp)
        sources = [(f"generated library ({args.tracks} tracks of 15 s)", None)]
        if args.music is not None:
            sources.append((f"real music ({args.music})", args.music))
        for title, music in sources:
            sub = work / str(len(title))
            sub.mkdir()
            scanned = _scanned_library(sub, args.tracks, music)
            folder = (scanned.parent if music is None
                      else _stall_sample(music, sub / "stall-sample", args.stall_tracks))
            # The stall benchmark is this checkout's script: it runs for this column only.
            columns = [_measure(name, path, scanned, sub, args.runs, folder, name == "this")
                       for name, path in checkouts]
            _table(title, columns)
    print("\nload average after: " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
