"""How fast the auto-tag review handles 10,000 tracks with five proposals each (offscreen Qt).

Measures what a person waits for: reading the review from the library (a worker thread does
this in the window), filling the table and painting it, one filter change ("drums" from 0.6,
changes only), one sort (by score, strongest first) and one tick, each painted.

    .venv/bin/python tests/bench/bench_review.py
    .venv/bin/python tests/bench/bench_review.py --tracks 50000

Target: populate, filter, sort and a tick each under 0.5 s at 10,000 tracks.
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

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from slapdesk.library.autotag.review import read_review
from slapdesk.ui.proposal_model import SCORE, ReviewFilter, ReviewModel
from slapdesk.ui.views.tagging_view import TaggingView
from tests.slapdesk.ui.review_data import write_review_library

TARGET_S = 0.5


def _timed(step) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def bench(tracks: int) -> dict[str, float]:
    """Seconds per step over a synthetic library of ``tracks`` tracks."""
    with tempfile.TemporaryDirectory(prefix="slapdesk-review-") as folder:
        path = write_review_library(Path(folder) / "review.sqlite", tracks)
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        found: list = []
        read = _timed(lambda: found.extend(read_review(conn, "genre")))
        model = ReviewModel()
        panel = TaggingView(model)  # the real panel: its table, delegate and columns
        panel.resize(1024, 720)
        panel.show()
        view = panel.table

        def populate() -> None:
            model.set_tracks(found, 0.5)
            view.viewport().grab()

        def filtered() -> None:
            model.set_filter(ReviewFilter(term="drums", min_score=0.6, changes_only=True))
            view.viewport().grab()

        def by_score() -> None:
            model.sort(SCORE, Qt.SortOrder.DescendingOrder)
            view.viewport().grab()

        def tick() -> None:  # one click on a term's box, as the window handles it
            model.setData(model.index(1, 0), Qt.CheckState.Unchecked,
                          Qt.ItemDataRole.CheckStateRole)
            model.counts()  # the controller's Apply button and status line
            view.viewport().grab()

        times = {"read": read, "populate": _timed(populate), "filter": _timed(filtered),
                 "sort": _timed(by_score), "tick": _timed(tick)}
        shown = len(model.shown_tracks())
        model.set_filter(ReviewFilter())
        times["unfilter+sort"] = _timed(by_score)
        panel.close()
        conn.close()
    print(f"{tracks:,} tracks, {tracks * 5:,} proposals; filter shows {shown:,} tracks")
    return times


def main() -> int:
    """Print the figures; exit 1 when populate, filter or sort misses the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=10_000)
    args = parser.parse_args()
    _app = QApplication.instance() or QApplication([])
    times = bench(args.tracks)
    for name, seconds in times.items():
        print(f"{name:>14}: {seconds * 1000:7.1f} ms")
    slow = [n for n in ("populate", "filter", "sort", "tick") if times[n] > TARGET_S]
    verdict = "missed by " + ", ".join(slow) if slow else "met"
    print(f"target {TARGET_S * 1000:.0f} ms each: {verdict}")
    return 1 if slow else 0


if __name__ == "__main__":
    raise SystemExit(main())
