"""Moments: compact window vectors, each track's best window, and the window at a time."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np
import pytest

from slapdesk.library.search.moments import (
    MomentIndex,
    clock,
    dequantize,
    quantize,
    read_moment_rows,
    span_label,
)
from slapdesk.library.store.database import Database

DIM = 16


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def library(tmp_path: Path) -> Database:
    """Two tracks: #1 with a dense moment row (6 windows, every 5 s), #2 with first-pass only."""
    db = Database(tmp_path / "lib.sqlite")
    rng = np.random.default_rng(0)
    with db.transaction() as conn:
        conn.execute("INSERT INTO models (id, name, dim, added_at) VALUES ('m', 'm', ?, 0)", (DIM,))
        for track_id in (1, 2):
            conn.execute("INSERT INTO tracks (id, path, size, mtime_ns, added_at, updated_at) "
                         "VALUES (?, ?, 1, 1, 0, 0)", (track_id, f"/t{track_id}".encode()))
        dense = _unit(rng.normal(size=(6, DIM)))
        dense[3] = np.eye(DIM, dtype=np.float32)[0]  # the window at 15 s points at axis 0
        rows, scales = quantize(dense)
        starts = np.arange(6, dtype="<f4") * 5
        conn.execute(
            "INSERT INTO moment_vectors VALUES (1, 'm', 5.0, 5.0, 6, ?, ?, ?, ?, ?)",
            (DIM, starts.tobytes(), scales.tobytes(), rows.tobytes(), time.time()),
        )
        first = _unit(rng.normal(size=(3, DIM)))
        first[1] = _unit(np.eye(DIM, dtype=np.float32)[:1] + 0.8 * np.eye(DIM)[1:2])[0]
        for k, start in enumerate((0.0, 40.0, 80.0)):
            conn.execute("INSERT INTO window_embeddings VALUES (2, 'm', ?, ?, ?)",
                         (k, start, first[k].astype("<f4").tobytes()))
    yield db
    db.close()


def test_int8_rows_keep_cosines_within_a_thousandth() -> None:
    vectors = _unit(np.random.default_rng(1).normal(size=(50, 512)))
    rows, scales = quantize(vectors)
    assert rows.dtype == np.int8 and rows.nbytes == 50 * 512
    back = _unit(dequantize(rows, scales))
    assert np.abs(np.sum(back * vectors, axis=1) - 1).max() < 1e-3


def test_clock_and_span_labels() -> None:
    assert clock(0) == "0:00"
    assert clock(89.6) == "1:30"
    assert clock(3725) == "1:02:05"
    assert span_label(15, 18) == "0:15–0:18"


def test_dense_rows_win_and_first_pass_rows_fill_in(library: Database) -> None:
    windows = read_moment_rows(library.conn, "m", clip_seconds=10.0)
    assert sorted(windows) == [1, 2]
    assert windows[1].clip == 5.0 and windows[1].starts.tolist() == [0, 5, 10, 15, 20, 25]
    assert windows[2].clip == 10.0 and windows[2].starts.tolist() == [0, 40, 80]


def test_best_moments_and_best_window_per_track(library: Database) -> None:
    index = MomentIndex.load(library.conn, "m", clip_seconds=10.0)
    assert index is not None and index.window_count == 9
    query = np.eye(DIM, dtype=np.float32)[0]
    ids, best = index.best_per_track(query)
    assert ids.tolist() == [1, 2]
    assert best[0] == pytest.approx(1.0, abs=2e-3)
    assert best[1] == pytest.approx(1 / np.sqrt(1.64), abs=2e-3)
    moments = index.moments(1, query, count=3)
    assert (moments[0].start, moments[0].end) == (15.0, 20.0)
    assert len(moments) == 3
    # Non-overlapping, best first.
    assert all(a.score >= b.score for a, b in itertools.pairwise(moments))
    assert all(a.end <= b.start or b.end <= a.start
               for a, b in itertools.combinations(moments, 2))
    assert index.moments(2, query)[0].start == 40.0
    assert index.moments(99, query) == ()


def test_vector_at_picks_the_window_playing_then(library: Database) -> None:
    index = MomentIndex.load(library.conn, "m", clip_seconds=10.0)
    assert index is not None
    at = index.vector_at(1, 17.0)
    assert at is not None and at[0] == pytest.approx(1.0, abs=2e-3)
    assert index.vector_at(3, 1.0) is None
