"""Search latency: exact top-k over N random unit vectors (512-d), p50 / p95 per query.

    .venv/bin/python tests/bench/bench_search.py            # 100k and 1M
    .venv/bin/python tests/bench/bench_search.py --sizes 100000

Measures ``slapdesk.library.search.vector_index.VectorIndex.top_k`` (the part of a query that
grows with the library), with and without a filter mask, and separately the query's text
embedding through the shipped default model, torch path and numpy path (a constant cost per query).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from slapdesk.library.search.vector_index import VectorIndex

DIM = 512


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ms = np.array(samples) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def bench_index(size: int, queries: int, k: int) -> None:
    rng = np.random.default_rng(0)
    index = VectorIndex(DIM)
    chunk = 100_000
    for start in range(0, size, chunk):
        block = rng.standard_normal((min(chunk, size - start), DIM), dtype=np.float32)
        index.add(range(start, start + len(block)), block)
    mask = rng.random(size) < 0.3  # a field filter keeping 30 % of the library
    plain, masked = [], []
    for _ in range(queries):
        query = rng.standard_normal(DIM).astype(np.float32)
        started = time.perf_counter()
        index.top_k(query, k)
        plain.append(time.perf_counter() - started)
        started = time.perf_counter()
        index.top_k(query, k, allowed=mask)
        masked.append(time.perf_counter() - started)
    p50, p95 = _percentiles(plain)
    m50, m95 = _percentiles(masked)
    memory = index.matrix().nbytes / 2**20
    print(f"{size:>9,} vectors ({memory:,.0f} MiB): top-{k} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms"
          f" | with a 30 % filter mask p50 {m50:6.1f} ms  p95 {m95:6.1f} ms")


def bench_text(queries: int) -> None:
    from engine.inference import Embedder
    from engine.textquery import TextQueryEncoder
    from slapdesk.resources import resource_path

    bundle = resource_path("models", "default")
    for label, encoder in (
        ("torch + transformers", Embedder.from_bundle(bundle, device="cpu")),
        ("numpy (engine.textquery)", TextQueryEncoder.from_bundle(bundle)),
    ):
        encoder.embed_text(["warm up"])
        times = []
        for i in range(queries):
            started = time.perf_counter()
            encoder.embed_text([f"mellow acoustic guitar for a rainy evening {i}"])
            times.append(time.perf_counter() - started)
        p50, p95 = _percentiles(times)
        print(f"query text embedding, default model, {label}: p50 {p50:.1f} ms  "
              f"p95 {p95:.1f} ms")


def main() -> int:
    """Print the latency table."""
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="100000,1000000")
    p.add_argument("--queries", type=int, default=50)
    p.add_argument("--k", type=int, default=50)
    p.add_argument("--no-text", action="store_true", help="skip the text-embedding timing")
    args = p.parse_args()
    load = os.getloadavg()[0]
    print(f"CPUs: {os.cpu_count()}, load average {load:.1f}, numpy {np.__version__}")
    for size in (int(s) for s in args.sizes.split(",")):
        bench_index(size, args.queries, args.k)
    if not args.no_text:
        bench_text(args.queries)
    return 0


if __name__ == "__main__":
    sys.exit(main())
