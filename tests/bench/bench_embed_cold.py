"""``slapdesk embed`` end to end from a fresh process, and what its start-up costs, per checkout.

Each timed run is a fresh ``slapdesk --library L embed --json`` on a fresh copy of one scanned
library (so every track is embedded, model load included), as a user runs it; its wall time
and the CPU time (user + sys) of the process are printed beside the tracks/s. The exported
audio graph is cached as in use: one untimed run per checkout stores it first (printed as the
"export run"). ``--start`` adds the start-up alone, in a fresh process: importing the embed
command, loading the model as the command loads it, and embedding one 3-second waveform (the
first call opens or exports the graph), plus which of torch and transformers got imported.
``--checkout DIR`` runs another checkout's code on the same libraries, alternating runs.

    python tests/bench/bench_embed_cold.py --music /tmp/al_lib/real --copies 1 3 --runs 3
    python tests/bench/bench_embed_cold.py --tracks 64 --checkout /tmp/before --start

Every process gets its own data, config and cache folders. Load averages are printed per run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_START = """
import json, sys, time
started = time.perf_counter(); cpu = time.process_time()
marks = {}
def mark(name):
    marks[name] = (round(time.perf_counter() - started, 3), round(time.process_time() - cpu, 3))
from slapdesk.commands import common
mark("import")
bundle = common.choose_model(sys.argv[1], None)
load = getattr(common, "load_audio_embedder", common.load_embedder)
embedder = load(bundle, "cpu")
mark("load")
import numpy as np
embedder.embed_windows(np.zeros((3, embedder.cfg.frontend.clip_samples), np.float32))
mark("first call")
marks["torch"] = "torch" in sys.modules
marks["transformers"] = "transformers" in sys.modules
print(json.dumps(marks))
"""


def _env(checkout: Path, home: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(checkout), XDG_DATA_HOME=str(home / "data"),
               XDG_CONFIG_HOME=str(home / "cfg"), XDG_CACHE_HOME=str(home / "cache"),
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env.pop("SLAPDESK_LIBRARY", None)
    env.pop("SLAPDESK_CONFIG", None)
    return env


def _run(checkout: Path, home: Path, argv: list[str]) -> tuple[float, float, str]:
    """Run ``python ARGV`` with ``checkout``'s code: (wall s, CPU s of the child, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *argv], cwd=checkout, env=_env(checkout, home),
                          capture_output=True, text=True, timeout=3600)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 3):  # 3: some files could not be embedded
        raise RuntimeError(f"{' '.join(argv[:5])} failed ({done.returncode}):\n"
                           f"{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def _library(work: Path, name: str, tracks: int, music: Path | None, copies: int) -> Path:
    """A scanned library without vectors: generated tracks, or ``copies`` copies of ``music``."""
    home = work / "home-scan"
    library = work / f"{name}.sqlite"
    if music is None:
        folder = work / name
        _run(ROOT, home, ["-m", "slapdesk", "--library", str(library), "demo", "--no-gui",
                          "--no-embed", "--tracks", str(tracks), str(folder)])
        return library
    folders = []
    for copy in range(copies):
        folder = work / f"{name}-files" / f"copy{copy}"
        shutil.copytree(music, folder)
        folders.append(str(folder))
    _run(ROOT, home, ["-m", "slapdesk", "--library", str(library), "scan", *folders])
    return library


def _embed(checkout: Path, home: Path, scanned: Path, work: Path) -> tuple[float, float, int]:
    library = work / "run.sqlite"
    shutil.copy(scanned, library)
    wall, cpu, out = _run(checkout, home, ["-m", "slapdesk", "--library", str(library), "embed",
                                           "--json"])
    library.unlink()
    return wall, cpu, int(json.loads(out.strip().splitlines()[-1])["embedded"])


def _measure(title: str, scanned: Path, checkouts: list[tuple[str, Path]], work: Path,
             runs: int, start: bool) -> None:
    print(f"\n{title}", flush=True)
    homes = {name: work / f"home-{name}" for name, _ in checkouts}
    for name, path in checkouts:  # stores the exported graph in that checkout's cache
        wall, cpu, count = _embed(path, homes[name], scanned, work)
        print(f"  {name:8} export run  {count} tracks {wall:6.1f} s wall {cpu:6.1f} s CPU "
              f"= {count / wall:5.2f} tracks/s (load {_load()})", flush=True)
    rates: dict[str, list[float]] = {name: [] for name, _ in checkouts}
    for run in range(runs):
        for name, path in checkouts:
            wall, cpu, count = _embed(path, homes[name], scanned, work)
            rates[name].append(count / wall)
            print(f"  {name:8} run {run + 1}       {count} tracks {wall:6.1f} s wall "
                  f"{cpu:6.1f} s CPU = {count / wall:5.2f} tracks/s (load {_load()})",
                  flush=True)
    for name, _ in checkouts:
        print(f"  {name:8} median {statistics.median(rates[name]):5.2f} tracks/s")
    if start:
        _start_up(checkouts, homes, scanned, runs)


def _start_up(checkouts: list[tuple[str, Path]], homes: dict[str, Path], scanned: Path,
              runs: int) -> None:
    """Import, model load and first call of the embed command, cumulative (wall / CPU s)."""
    for _ in range(runs):
        for name, path in checkouts:
            out = _run(path, homes[name], ["-c", _START, str(scanned)])[2]
            marks = json.loads(out.strip().splitlines()[-1])
            cells = "  ".join(f"{k} {marks[k][0]:.2f}/{marks[k][1]:.2f}"
                              for k in ("import", "load", "first call"))
            print(f"  {name:8} start-up (wall/CPU s, cumulative): {cells}; torch "
                  f"{'yes' if marks['torch'] else 'no'}, transformers "
                  f"{'yes' if marks['transformers'] else 'no'} (load {_load()})", flush=True)


def main() -> int:
    """Print the runs for each library asked for."""
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkout", type=Path, action="append", default=[],
                   help="another checkout's code to run beside this one (repeatable)")
    p.add_argument("--tracks", type=int, default=0, help="a generated library of N 15 s tracks")
    p.add_argument("--music", type=Path, help="a folder of real music")
    p.add_argument("--copies", type=int, nargs="+", default=[1],
                   help="libraries of this many copies of --music (each scanned as its own)")
    p.add_argument("--runs", type=int, default=2, help="timed runs per checkout and library")
    p.add_argument("--start", action="store_true", help="also time the start-up alone")
    args = p.parse_args()
    print(f"CPUs: {os.cpu_count()}, load average before: "
          + " ".join(f"{x:.1f}" for x in os.getloadavg()), flush=True)
    checkouts = [("this", ROOT), *((c.name, c.resolve()) for c in args.checkout)]
    with tempfile.TemporaryDirectory(prefix="slapdesk-embed-cold-") as tmp:
        work = Path(tmp)
        if args.tracks:
            scanned = _library(work, "generated", args.tracks, None, 1)
            _measure(f"generated library ({args.tracks} tracks of 15 s)", scanned, checkouts,
                     work, args.runs, args.start)
        for copies in args.copies if args.music else []:
            scanned = _library(work, f"music{copies}", 0, args.music, copies)
            _measure(f"real music ({args.music}, {copies} cop{'y' if copies == 1 else 'ies'})",
                     scanned, checkouts, work, args.runs, args.start)
    print("\nload average after: " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
