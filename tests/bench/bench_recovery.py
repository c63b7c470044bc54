"""What recovery costs every command when a crash left nothing: p50 / p95 per call.

    .venv/bin/python tests/bench/bench_recovery.py                   # 2,000 runs, 200,000 rows
    .venv/bin/python tests/bench/bench_recovery.py --runs 20000 --rows 2000000

Builds a library whose journal holds ``--rows`` applied changes over ``--runs`` finished runs,
then times ``recover_writes`` on an open writer (what scan, search, tag, undo, embed, export
and models use pay) and ``recover_before_reading`` (what runs and library pay: a read-only
connection opened for the check). Neither writes anything when there is nothing to recover.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from slapdesk.commands.common import recover_before_reading, recover_writes
from slapdesk.library.store.database import Database


def _fill(db: Database, runs: int, rows: int) -> None:
    with db.transaction() as conn:
        conn.executemany(
            "INSERT INTO tag_runs (id, created_at, policy, status, summary) "
            "VALUES (?, 0, 'own-fields', 'done', '{}')",
            [(i,) for i in range(1, runs + 1)],
        )
        conn.executemany(
            "INSERT INTO tag_changes (run_id, path, field, old, new, state, updated_at) "
            "VALUES (?, ?, 'slapdesk_genre', '[]', '[\"x\"]', 'applied', 0)",
            [(1 + i % runs, f"/music/{i:08d}.flac".encode()) for i in range(rows)],
        )


def _time(call, repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    ms = np.array(samples) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def main(argv: list[str] | None = None) -> None:
    """Build the journal, time both recoveries, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=500)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "library.sqlite"
        with Database(path) as db:
            _fill(db, args.runs, args.rows)
            p50, p95 = _time(lambda: recover_writes(db), args.repeat)
        print(f"journal: {args.runs:,} runs, {args.rows:,} changes")
        print(f"recover_writes (open writer), nothing to do: p50 {p50:.3f} ms, p95 {p95:.3f} ms")
        p50, p95 = _time(lambda: recover_before_reading(path), args.repeat)
        print(f"recover_before_reading (runs, library):      p50 {p50:.3f} ms, p95 {p95:.3f} ms")


if __name__ == "__main__":
    main()
