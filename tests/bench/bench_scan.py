"""Scan benchmark: first scan and unchanged rescan of a 100k-file tree, against beets.

Builds a tree of hard links to small generated fixtures (8 formats, distinct tags), then
measures, in one run and on the same tree:

- a bare ``os.scandir`` + ``stat`` walk (the floor for any rescan),
- SlapDesk's first scan (files/s) and unchanged rescan (seconds) of the whole tree,
- SlapDesk's first scan and ``beet import -A -C -W`` (no autotagging, no copying, no
  writing) of the same sub-tree, and their ratio. beets lives in a throwaway venv
  (created with pip when missing).

Usage: python tests/bench/bench_scan.py [--files 100000] [--beets-files 3000]
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

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from slapdesk.library.scan.reader_pool import usable_cpus  # noqa: E402
from slapdesk.library.scan.scanner import ScanCfg, run_scan  # noqa: E402
from slapdesk.library.store.database import Database  # noqa: E402

VARIANTS = 4  # distinct tagged sources per format
PER_FOLDER = 100  # files per album folder


def make_sources(src: Path) -> list[Path]:
    """One small tagged file per format and variant (PyAV encodes them)."""
    from slapdesk.library.demo.audio_files import FORMATS, make_track

    sources = []
    src.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(sorted(FORMATS)):
        for variant in range(VARIANTS):
            tags = {
                "title": f"Song {name} {variant}", "artist": f"Artist {variant}",
                "album": f"Album {index}-{variant}", "genre": ["Rock", "Jazz"],
                "year": str(1990 + variant), "track": str(variant + 1),
            }  # fmt: skip
            sources.append(make_track(src / f"{name}_{variant}", name, tags=tags))
    return sources


def build_tree(
    work: Path, files: int, beets_files: int, sources: list[Path]
) -> tuple[Path, Path]:
    """Hard-link ``files`` fixtures into work/tree; the first ``beets_files`` go to part_a."""
    tree = work / "tree"
    for number in range(files):
        part = "part_a" if number < beets_files else "part_b"
        folder = tree / part / f"artist_{number // 1000:03d}" / f"album_{number // PER_FOLDER:04d}"
        if number % PER_FOLDER == 0 or number == beets_files:
            folder.mkdir(parents=True, exist_ok=True)
        source = sources[number % len(sources)]
        os.link(source, folder / f"{number:06d}{source.suffix}")
    return tree, tree / "part_a"


def bare_walk(root: Path) -> tuple[int, float]:
    """Files and seconds for the plainest scandir + stat walk."""
    started = time.perf_counter()
    count = 0
    stack = [os.fsencode(root)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir():
                    stack.append(entry.path)
                else:
                    entry.stat()
                    count += 1
    return count, time.perf_counter() - started


def slapdesk_scan(library: Path, tree: Path, workers: int | None) -> tuple[int, float, int]:
    """(files added or unchanged, seconds, errors) for one scan into ``library``."""
    with Database(library) as db:
        started = time.perf_counter()
        report = run_scan(db, [tree], cfg=ScanCfg(workers=workers))
        seconds = time.perf_counter() - started
    return report.added + report.unchanged + report.updated, seconds, len(report.errors)


def ensure_beets(venv: Path) -> Path:
    """The ``beet`` executable of a throwaway venv, installing beets there when missing."""
    beet = venv / "bin" / "beet"
    if not beet.exists():
        print(f"installing beets into {venv} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "beets"], check=True)
    return beet


def beets_import(beet: Path, work: Path, tree: Path) -> tuple[int, float]:
    """(items in the beets library, seconds) for ``beet import -A -C -W`` of ``tree``."""
    home = work / "beets"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir()
    config = home / "config.yaml"
    config.write_text(
        f"directory: {home / 'music'}\nlibrary: {home / 'library.db'}\nplugins: []\n"
        "import:\n  quiet: yes\n  duplicate_action: keep\n  log: null\n"
    )
    env = {**os.environ, "BEETSDIR": str(home)}
    command = [str(beet), "-c", str(config), "import", "-A", "-C", "-W", "-q", str(tree)]
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    seconds = time.perf_counter() - started
    listing = subprocess.run(
        [str(beet), "-c", str(config), "ls", "-f", "x"],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return len(listing.stdout.splitlines()), seconds


def main(argv: list[str] | None = None) -> None:
    """Build the tree, run every measurement, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000, help="files in the tree")
    parser.add_argument("--beets-files", type=int, default=3_000, help="sub-tree for beets")
    parser.add_argument("--workdir", type=Path, help="where to build (default: a temp folder)")
    parser.add_argument("--beets-venv", type=Path, default=Path("/tmp/beets-venv"))
    parser.add_argument("--workers", type=int, default=None, help="tag-reading processes")
    parser.add_argument("--keep", action="store_true", help="keep the tree afterwards")
    parser.add_argument("--sources", type=Path, help="use these fixture files instead of new ones")
    parser.add_argument("--no-beets", action="store_true", help="skip the beets comparison")
    args = parser.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="slapdesk-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        _run(args, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def _run(args: argparse.Namespace, work: Path) -> None:
    print(f"CPUs usable: {usable_cpus()} (machine: {os.cpu_count()}), "
          f"load average before: {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    started = time.perf_counter()
    if args.sources:
        sources = sorted(path for path in args.sources.iterdir() if path.is_file())
    else:
        sources = make_sources(work / "sources")
    tree, part_a = build_tree(work, args.files, args.beets_files, sources)
    formats = len({path.suffix for path in sources})
    print(f"built {args.files:,} files (hard links of {len(sources)} fixtures, "
          f"{formats} file types) in {time.perf_counter() - started:.1f} s", flush=True)
    count, walk_s = bare_walk(tree)
    print(f"bare scandir+stat walk:          {count:,} files in {walk_s:.3f} s", flush=True)
    library = work / "library.sqlite"
    files, first_s, errors = slapdesk_scan(library, tree, args.workers)
    print(f"slapdesk first scan:             {files:,} files in {first_s:.2f} s = "
          f"{files / first_s:,.0f} files/s ({errors} errors)", flush=True)  # fmt: skip
    files, rescan_s, _ = slapdesk_scan(library, tree, args.workers)
    print(f"slapdesk unchanged rescan:       {files:,} files in {rescan_s:.3f} s", flush=True)
    sub_library = work / "library-a.sqlite"
    ours, ours_s, _ = slapdesk_scan(sub_library, part_a, args.workers)
    print(f"same {args.beets_files:,}-file sub-tree:")
    print(f"  slapdesk first scan:           {ours:,} files in {ours_s:.2f} s = "
          f"{ours / ours_s:,.0f} files/s", flush=True)  # fmt: skip
    if args.no_beets:
        return
    beet = ensure_beets(args.beets_venv)
    items, beets_s = beets_import(beet, work, part_a)
    ours_rate, beets_rate = ours / ours_s, items / beets_s
    print(f"  beets import -A -C -W:         {items:,} files in {beets_s:.2f} s = "
          f"{beets_rate:,.0f} files/s")  # fmt: skip
    print(f"  ratio slapdesk / beets:        {ours_rate / beets_rate:.1f}x")
    print(f"  ratio (100k first scan rate / beets rate): "
          f"{args.files / first_s / beets_rate:.1f}x")  # fmt: skip
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
