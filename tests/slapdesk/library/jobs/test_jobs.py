"""The library's jobs without Qt: the cancel + progress contract, scan, search, model choice."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from slapdesk.library.autotag.review import AcceptedTag
from slapdesk.library.jobs.active_model import choose_model
from slapdesk.library.jobs.apply import accepted_changes
from slapdesk.library.jobs.control import JobControl, JobResult
from slapdesk.library.jobs.embed import register_model
from slapdesk.library.jobs.scan import scan_folders
from slapdesk.library.jobs.search import rank_tracks
from slapdesk.library.models import ModelChoiceError
from slapdesk.library.progress import Progress
from slapdesk.library.search.index_cache import IndexCache
from slapdesk.library.store.database import Database


@pytest.fixture
def scanned(tmp_path: Path, music_folder: Path) -> Database:
    db = Database(tmp_path / "library.sqlite")
    scan_folders(db, [str(music_folder)], JobControl())
    yield db
    db.close()


def _store_vector(db: Database, track_id: int, model_id: str, vector: list[float]) -> None:
    blob = np.asarray(vector, dtype="<f4").tobytes()
    with db.transaction() as conn:
        conn.execute(
            "INSERT OR REPLACE INTO embeddings (track_id, model_id, dim, vector, created_at) "
            "VALUES (?, ?, ?, ?, ?)", (track_id, model_id, len(vector), blob, float(track_id)),
        )


def test_scan_job_reports_progress_and_counts(tmp_path: Path, music_folder: Path) -> None:
    seen: list[Progress] = []
    with Database(tmp_path / "library.sqlite") as db:
        first = scan_folders(db, [str(music_folder)], JobControl(progress=seen.append))
        again = scan_folders(db, [str(music_folder)], JobControl())
    assert seen[0] == Progress(0, None, "Looking for music…")
    assert all(isinstance(p, Progress) for p in seen)
    assert (first.counts["added"], first.errors, first.cancelled) == (8, [], False)
    assert first.summary() == "Scan: 8 added"
    assert again.summary() == "Scan: 8 unchanged"


def test_a_cancelled_scan_says_so(tmp_path: Path, music_folder: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    with Database(tmp_path / "library.sqlite") as db:
        result = scan_folders(db, [str(music_folder)], JobControl(cancel))
    assert result.cancelled
    assert result.summary().endswith("(stopped)")


def test_job_result_summary() -> None:
    result = JobResult("Undo", counts={"files changed": 1200, "skipped": 0}, errors=["a: gone"])
    assert result.summary() == "Undo: 1,200 files changed, 1 problem"
    assert JobResult("Embed").summary() == "Embed: nothing to do"
    assert JobResult("Embed", note="Search by sound is off").summary() == "Search by sound is off"


def test_index_cache_reloads_only_when_the_vectors_change(scanned: Database) -> None:
    register_model(scanned, "m", "m", None, 2)
    _store_vector(scanned, 1, "m", [1.0, 0.0])
    cache = IndexCache()
    first = cache.get(scanned.conn, "m")
    assert first is not None and first.ids.tolist() == [1]
    assert cache.get(scanned.conn, "m") is first
    _store_vector(scanned, 2, "m", [0.0, 1.0])
    second = cache.get(scanned.conn, "m")
    assert second is not first and second.ids.tolist() == [1, 2]
    assert cache.get(scanned.conn, "other") is None


def test_rank_tracks_asks_for_the_text_encoder_only_when_vectors_exist(scanned: Database) -> None:
    def no_encoder():
        raise AssertionError("the encoder must not load for a library without vectors")

    tags_only = rank_tracks(scanned.conn, "tone flac", 3, "missing-model", no_encoder)
    assert not tags_only.by_sound
    assert tags_only.results[0].title == "Tone flac"

    register_model(scanned, "m", "m", None, 2)
    for track_id in range(1, 9):
        _store_vector(scanned, track_id, "m", [1.0, track_id / 10])
    asked = []

    def encoder():
        asked.append(1)
        return lambda texts: np.tile(np.asarray([[0.0, 1.0]], np.float32), (len(texts), 1))

    by_sound = rank_tracks(scanned.conn, "zzz", 3, "m", encoder)
    assert by_sound.by_sound and asked == [1]
    assert [r.track_id for r in by_sound.results] == [8, 7, 6]  # most "upward" vectors first


def test_choose_model_prefers_the_named_bundle_then_the_active_one(
    tmp_path: Path, tiny_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from slapdesk.library import models

    monkeypatch.setattr(models, "default_bundle_dir", lambda: None)
    models_dir, runs_dir = tmp_path / "models", tmp_path / "runs"
    assert choose_model(models_dir, runs_dir, str(tiny_bundle)).path == tiny_bundle
    assert choose_model(models_dir, runs_dir, "", str(tiny_bundle)).path == tiny_bundle.resolve()
    with pytest.raises(ModelChoiceError, match="no model bundle named 'nope'"):
        choose_model(models_dir, runs_dir, str(tiny_bundle), "nope")
    with pytest.raises(ModelChoiceError, match="No model bundle is installed"):
        choose_model(models_dir, runs_dir)


def test_planned_changes_put_the_strongest_tag_first() -> None:
    def row(track_id: int, tag: str, score: float) -> AcceptedTag:
        return AcceptedTag(track_id=track_id, path=f"/m/{track_id}.flac", tag=tag, score=score,
                           model_id="m")

    changes = accepted_changes([row(1, "jazz", 0.2), row(2, "rock", 0.9), row(1, "blues", 0.7)],
                              "genre")
    assert [(c.track_id, c.values) for c in changes] == [(1, ("blues", "jazz")), (2, ("rock",))]
    assert str(changes[0].path) == "/m/1.flac"


def test_map_points_label_and_colour_every_embedded_track(scanned: Database) -> None:
    from slapdesk.library.jobs.map_points import load_map

    register_model(scanned, "m", "m", None, 3)
    for track_id in range(1, 9):
        _store_vector(scanned, track_id, "m", [1.0, track_id / 10, (track_id % 3) / 5])
    data = load_map(scanned.path, "", JobControl())
    assert data.model_id == "m"
    assert sorted(data.ids.tolist()) == list(range(1, 9))
    assert data.xy.shape == (8, 2)
    title = scanned.execute("SELECT title FROM tracks WHERE id = 1").fetchone()[0]
    assert data.labels[1] == f"The Testers – {title}"
    assert data.categories["genre"] == ["rock"] * 8  # first genre, folded for colouring
