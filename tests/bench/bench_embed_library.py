"""Embedding throughput of the library job: ``embed_library`` on a scanned library, tracks/s.

Generates (once, cached in ``--workdir``) music-like tracks, scans them into a fresh library
per round and times ``slapdesk.library.jobs.embed.embed_library`` with the default bundle
(model loading, the first model call and the scan are not timed). Prints one JSON line per
round with the load average, so runs on a shared machine can be compared side by side: run
the copy of this file in each of two code trees alternately, with ``PYTHONPATH=<that tree>``
(the script puts its own tree first on the path).

Usage: PYTHONPATH=. python tests/bench/bench_embed_library.py [--tracks 24] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> None:
    """Run the rounds and print one JSON line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=24)
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--format", default="mp3")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch", type=int, default=8, help="tracks per model call")
    parser.add_argument("--workers", type=int, default=2, help="decode threads")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "slap_bench")
    parser.add_argument("--model", default=None, help="bundle folder (default: the shipped one)")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_embed import make_tracks

    from engine.inference import Embedder
    from slapdesk.library.jobs.embed import embed_library, register_model
    from slapdesk.library.scan.scanner import run_scan
    from slapdesk.library.store.database import Database
    from slapdesk.resources import resource_path

    folder = args.workdir / f"library_{args.format}"
    make_tracks(folder, args.tracks, args.seconds, args.format)
    embedder = Embedder.from_bundle(args.model or resource_path("models", "default"), "cpu")
    # The first audio call prepares the runtime (the ONNX export, where used): once per
    # process, timed apart from the rounds.
    started = time.perf_counter()
    embedder.embed_windows(np.zeros((1, embedder.cfg.frontend.clip_samples), np.float32))
    print(json.dumps({"first_call_s": round(time.perf_counter() - started, 2),
                      "runtime": getattr(embedder, "runtime", "torch")}), flush=True)
    for round_ in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp, Database(Path(tmp) / "lib.sqlite") as db:
            run_scan(db, [folder])
            register_model(db, embedder.model_id, "bench", None, embedder.dim)
            load_before = os.getloadavg()[0]
            started, cpu = time.perf_counter(), time.process_time()
            summary = embed_library(
                db, embedder, batch_tracks=args.batch, decode_workers=args.workers
            )
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu
        assert not summary.errors, summary.errors
        print(json.dumps({
            "round": round_,
            "tracks": summary.embedded,
            "seconds": round(seconds, 2),
            "tracks_per_s": round(summary.embedded / seconds, 3),
            "cpu_s_per_track": round(cpu / max(summary.embedded, 1), 3),
            "load_1min_before": round(load_before, 2),
            "load_1min_after": round(os.getloadavg()[0], 2),
        }), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
