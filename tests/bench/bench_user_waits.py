"""Where a user waits, timed as a user runs it: each row is a fresh ``slapdesk`` process.

Rows: cold ``search "calm piano"``, ``embed`` (tracks/s, end to end, model load included),
``tag --vocab genre`` (a dry run), ``export --m3u8``. The library is a generated demo library
(``slapdesk demo``: N tracks of 15 s in every format) and, with ``--music DIR``, also a folder
of real music. ``--checkout DIR`` (repeatable) runs the same rows with another checkout's code
on a copy of the same scanned library, so the columns compare code on one machine at one load.

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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QUERY = "calm piano"


@dataclass
class Column:
    """The figures of one checkout on one library."""

    name: str
    search_s: list[float] = field(default_factory=list)
    embed_tracks: int = 0
    embed_s: float = 0.0
    tag_s: float = 0.0
    export_s: float = 0.0


def _cli(checkout: Path, home: Path, library: Path, *args: str) -> tuple[float, str]:
    """Run ``slapdesk --library LIBRARY ARGS`` from ``checkout``; (wall seconds, stdout)."""
    env = dict(os.environ, PYTHONPATH=str(checkout), XDG_DATA_HOME=str(home / "data"),
               XDG_CONFIG_HOME=str(home / "cfg"), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env.pop("SLAPDESK_CONFIG", None)
    env.pop("SLAPDESK_LIBRARY", None)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "slapdesk", "--library", str(library), *args],
                          cwd=checkout, env=env, capture_output=True, text=True, timeout=3600)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"slapdesk {' '.join(args)} failed ({done.returncode}):\n"
                           f"{done.stderr[-2000:]}")
    return elapsed, done.stdout


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


def _measure(name: str, checkout: Path, scanned: Path, work: Path, runs: int) -> Column:
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
    ]
    for label, cell in rows:
        print(f"{label:34}" + "".join(f"{cell(c):>{width}}" for c in columns))


def main() -> int:
    """Print the table for the generated library (and the real folder, when given)."""
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tracks", type=int, default=64, help="generated tracks (15 s each)")
    p.add_argument("--music", type=Path, help="also measure on this folder of real music")
    p.add_argument("--checkout", type=Path, action="append", default=[],
                   help="another checkout's code to run beside this one (repeatable)")
    p.add_argument("--runs", type=int, default=3, help="cold searches per column")
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
            columns = [_measure(name, path, scanned, sub, args.runs) for name, path in checkouts]
            _table(title, columns)
    print("\nload average after: " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
