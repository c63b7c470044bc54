"""Match labels: similarities measured against the library's spread for the same query."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from slapdesk.library.jobs.embed import register_model
from slapdesk.library.jobs.search import rank_tracks
from slapdesk.library.search.match import MatchScale, match_label, nothing_close
from slapdesk.library.store.database import Database

DIM = 64


def test_levels_follow_robust_z_scores() -> None:
    # Median 0.0; deviations 0.1 -> spread 0.14826: z = similarity / 0.14826.
    scale = MatchScale.of(np.array([-0.1, -0.1, 0.0, 0.1, 0.1]))
    assert scale is not None
    assert (scale.median, round(scale.spread, 5)) == (0.0, 0.14826)
    assert [scale.level(s) for s in (0.60, 0.45, 0.30, 0.29, -0.2)] == [
        "strong", "good", "fair", "weak", "weak"
    ]
    assert match_label(0.60, False, scale) == "strong"
    assert match_label(0.30, True, scale) == "fair · tags"
    assert match_label(None, True, scale) == "tags"
    assert match_label(None, False, scale) == ""  # filtered, not ranked: no label
    assert MatchScale.of(np.array([0.2, 0.3])) is None  # too few to tell a spread


def test_nothing_close_only_when_every_result_is_weak() -> None:
    assert nothing_close("abc", ["weak", "weak"]) == (
        "No track sounds much like “abc”; showing the closest."
    )
    assert nothing_close("abc", ["weak", "fair"]) == ""
    assert nothing_close("abc", ["weak", "tags"]) == ""
    assert nothing_close("abc", []) == ""


@pytest.fixture
def clustered(tmp_path: Path) -> Database:
    """100 tracks: 10 whose vectors point along axis 0 ("drums"), 90 spread evenly
    (uniform noise: light tails, as the similarities of a query that describes nothing)."""
    db = Database(tmp_path / "library.sqlite")
    register_model(db, "m", "test", None, DIM)
    rng = np.random.default_rng(7)
    now = time.time()
    for track_id in range(1, 101):
        vector = rng.uniform(-1.0, 1.0, size=DIM).astype(np.float32)
        if track_id <= 10:
            vector[0] += 8.0
        vector /= np.linalg.norm(vector)
        db.execute(
            "INSERT INTO tracks (id, path, size, mtime_ns, title, added_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?)",
            (track_id, os.fsencode(f"/m/{track_id:03d}.flac"), 1, 1, f"Song {track_id}", now,
             now),
        )
        db.execute(
            "INSERT INTO embeddings (track_id, model_id, dim, vector, created_at) "
            "VALUES (?,?,?,?,?)",
            (track_id, "m", DIM, vector.tobytes(), now),
        )
    db.conn.commit()
    yield db
    db.close()


def _axis_text(texts: list[str]) -> np.ndarray:
    """Text side of the test model: "drums" is axis 0 (the cluster), anything else the last axis."""
    return np.array([np.eye(DIM, dtype=np.float32)[0 if t == "drums" else DIM - 1] for t in texts])


def test_a_real_cluster_is_strong_and_nonsense_says_so(clustered: Database) -> None:
    drums = rank_tracks(clustered.conn, "drums", 10, "m", lambda: _axis_text)
    assert sorted(r.track_id for r in drums.results) == list(range(1, 11))
    assert set(drums.labels.values()) == {"strong"}
    assert drums.note == ""
    nonsense = rank_tracks(clustered.conn, "abc", 10, "m", lambda: _axis_text)
    assert len(nonsense.results) == 10  # the closest are still listed...
    assert "strong" not in nonsense.labels.values()
    assert nonsense.note == "No track sounds much like “abc”; showing the closest."
    # Filters alone do not rank by sound: no label, no note.
    browse = rank_tracks(clustered.conn, "title:Song", 5, "m", lambda: _axis_text)
    assert set(browse.labels.values()) == {""} and browse.note == ""


def test_words_that_name_tracks_in_their_tags_drop_weak_sound_only_matches(
    clustered: Database,
) -> None:
    clustered.execute("UPDATE tracks SET title = 'Hyperrogue Caves' WHERE id IN (50, 60)")
    clustered.conn.commit()
    named = rank_tracks(clustered.conn, "hyperrogue", 10, "m", lambda: _axis_text)
    assert sorted(r.track_id for r in named.results) == [50, 60]
    assert {named.labels[50], named.labels[60]} <= {"weak · tags", "fair · tags", "tags"}
    assert named.note == ""
    # Strong sound matches stay beside the tag match; the weak rest goes.
    clustered.execute("UPDATE tracks SET title = 'Drums Live' WHERE id = 70")
    clustered.conn.commit()
    drums = rank_tracks(clustered.conn, "drums", 20, "m", lambda: _axis_text)
    assert sorted(r.track_id for r in drums.results) == [*range(1, 11), 70]
    assert {drums.labels[i] for i in range(1, 11)} == {"strong"}
