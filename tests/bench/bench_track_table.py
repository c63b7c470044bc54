"""How fast the track table scrolls through a 100,000-row library (offscreen Qt).

The model reads rows lazily; this measures what a person feels: the slowest single jump
(``scrollTo`` + painting the visible rows) across the whole list, and the whole walk including
listing and sorting every id.

    .venv/bin/python tests/bench/bench_track_table.py
    .venv/bin/python tests/bench/bench_track_table.py --rows 1000000

Targets: slowest jump < 250 ms, the whole walk at 100k rows < 10 s.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6.QtWidgets import QApplication, QTableView

from slapdesk.library.store import track_rows
from slapdesk.ui.track_table_model import TrackTableModel
from tests.slapdesk.ui.conftest import write_synthetic_library

TARGET_JUMP_S = 0.25
TARGET_WALK_S = 10.0


def bench(rows: int, jumps: int) -> tuple[float, float]:
    """(slowest jump, whole walk) in seconds over a synthetic library of ``rows`` tracks."""
    with tempfile.TemporaryDirectory(prefix="slapdesk-table-") as folder:
        path = write_synthetic_library(Path(folder) / "big.sqlite", rows)
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        model = TrackTableModel(conn)
        started = time.perf_counter()
        model.set_ids(track_rows.all_track_ids(conn, sort="title"))
        view = QTableView()
        view.setModel(model)
        view.resize(900, 600)
        view.show()
        worst = 0.0
        for row in range(0, rows, max(1, rows // jumps)):
            tick = time.perf_counter()
            view.scrollTo(model.index(row, 0))
            view.viewport().grab()  # paint the visible rows now
            worst = max(worst, time.perf_counter() - tick)
        walk = time.perf_counter() - started
        view.close()
        conn.close()
    return worst, walk


def main() -> int:
    """Run the benchmark and print its figures against the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--jumps", type=int, default=10, help="scroll jumps across the list")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    worst, walk = bench(args.rows, args.jumps)
    print(f"{args.rows:,} rows: slowest jump {worst * 1000:.0f} ms "
          f"(target < {TARGET_JUMP_S * 1000:.0f} ms), whole walk {walk:.2f} s "
          f"(target < {TARGET_WALK_S:.0f} s at 100k)")
    app.quit()
    return 0 if worst < TARGET_JUMP_S else 1


if __name__ == "__main__":
    sys.exit(main())
