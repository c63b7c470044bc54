"""The embedding job stores exactly what the engine yields, and marks what holds no music."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from engine.inference import Embedder
from slapdesk.library.autotag.proposals import propose_for_library
from slapdesk.library.autotag.vocabulary import Vocabulary
from slapdesk.library.demo.audio_files import make_track
from slapdesk.library.demo.synth import STYLES, render
from slapdesk.library.jobs.embed import embed_library, register_model
from slapdesk.library.scan.scanner import run_scan
from slapdesk.library.search.ranking import LibrarySearch, load_index
from slapdesk.library.store.database import Database

SR = 22_050
SECONDS = 4.0
MARKED = {"silence": "silence", "hiss": "silence", "tone": "tone", "noise": "noise"}


def _signals() -> dict[str, tuple[str, np.ndarray]]:
    """File stem -> (format, samples): four files with nothing to describe, two of music."""
    rng = np.random.default_rng(0)
    n = int(SECONDS * SR)
    t = np.arange(n) / SR
    music = {
        name: render(STYLES[name], STYLES[name].tempo[0], SECONDS, np.random.default_rng(i), SR)
        for i, name in enumerate(("jazz", "rock"))
    }
    return {
        "silence": ("flac", np.zeros(n)),
        "hiss": ("flac", 10 ** (-70 / 20) * rng.standard_normal(n)),  # -70 dBFS noise
        "tone": ("mp3", 0.5 * np.sin(2 * np.pi * 1000.0 * t)),  # 1 kHz
        "noise": ("ogg", 0.3 * rng.standard_normal(n)),  # white
        "jazz": ("mp3", music["jazz"]),
        "rock": ("flac", music["rock"]),
    }


@pytest.fixture(scope="module")
def embedder(tiny_bundle: Path) -> Embedder:
    return Embedder.from_bundle(tiny_bundle, device="cpu")


@pytest.fixture
def library(tmp_path: Path, embedder: Embedder) -> Database:
    folder = tmp_path / "music"
    folder.mkdir()
    for stem, (fmt, samples) in _signals().items():
        make_track(folder / stem, fmt, samples=np.clip(samples, -1, 1).astype(np.float32),
                   sample_rate=SR, tags={"title": stem})  # fmt: skip
    db = Database(tmp_path / "library.sqlite")
    run_scan(db, [folder])
    register_model(db, embedder.model_id, "tiny", None, embedder.dim)
    summary = embed_library(db, embedder, batch_tracks=4)
    assert summary.errors == [] and summary.embedded == 6 and summary.abstained == 4
    yield db
    db.close()


def _stem(path: bytes) -> str:
    return Path(os.fsdecode(path)).stem


def test_the_library_stores_what_the_engine_yields(library: Database, embedder: Embedder) -> None:
    rows = library.execute(
        "SELECT t.path, e.vector, e.abstain FROM embeddings e JOIN tracks t ON t.id = e.track_id "
        "ORDER BY t.path"
    ).fetchall()
    paths = [os.fsdecode(path) for path, _, _ in rows]
    results = list(embedder.iter_audio(paths, 4))
    assert [r.source for r in results] == paths and all(r.ok for r in results)
    for (path, vector, abstain), result in zip(rows, results, strict=True):
        np.testing.assert_allclose(np.frombuffer(vector, "<f4"), result.track, rtol=0, atol=1e-6)
        assert abstain == result.abstain == MARKED.get(_stem(path))
        windows = library.execute(
            "SELECT w.start_s, w.vector FROM window_embeddings w JOIN tracks t "
            "ON t.id = w.track_id WHERE t.path = ? ORDER BY w.window", (path,)
        ).fetchall()  # fmt: skip
        assert [start for start, _ in windows] == pytest.approx(result.starts.tolist(), abs=1e-9)
        stored = np.stack([np.frombuffer(blob, "<f4") for _, blob in windows])
        np.testing.assert_allclose(stored, result.windows, rtol=0, atol=1e-6)
    # Evenly spaced windows over the 4 s files, 1 s each.
    assert results[0].starts.tolist() == pytest.approx([0.5, 2.5], abs=1e-6)


def test_marked_tracks_get_no_proposals(library: Database, embedder: Embedder) -> None:
    vocabulary = Vocabulary("genre", "genre", ("rock", "jazz", "ambient", "piano"))
    found = propose_for_library(library, embedder.model_id, embedder.embed_text, vocabulary,
                                top_k=2, threshold=0.0)  # fmt: skip
    proposed = {item.path.stem: item.values for item in found}
    assert set(proposed) == set(MARKED) | {"jazz", "rock"}
    assert all(proposed[stem] == () for stem in MARKED)
    assert all(len(proposed[stem]) == 2 for stem in ("jazz", "rock"))
    stored = library.execute(
        "SELECT DISTINCT t.path FROM tag_proposals p JOIN tracks t ON t.id = p.track_id"
    ).fetchall()
    assert sorted(_stem(path) for (path,) in stored) == ["jazz", "rock"]


def test_damaged_tracks_get_no_proposals(library: Database, embedder: Embedder) -> None:
    rows = library.execute("SELECT id, path FROM tracks").fetchall()
    rock = next(track_id for track_id, path in rows if _stem(path) == "rock")
    with library.transaction() as conn:
        conn.execute("UPDATE tracks SET status = 'damaged', error = 'cut short' WHERE id = ?",
                     (rock,))
    vocabulary = Vocabulary("genre", "genre", ("rock", "jazz", "ambient", "piano"))
    found = propose_for_library(library, embedder.model_id, embedder.embed_text, vocabulary,
                                top_k=2, threshold=0.0)  # fmt: skip
    proposed = {item.path.stem: item.values for item in found}
    assert proposed["rock"] == () and len(proposed["jazz"]) == 2


def test_marked_tracks_rank_below_the_others(library: Database, embedder: Embedder) -> None:
    search = LibrarySearch(library.conn, load_index(library.conn, embedder.model_id),
                           embedder.embed_text)  # fmt: skip
    for query in ("calm piano", "loud static", "a steady beep"):
        results = search.search(query, limit=6)
        assert [r.title for r in results[:2]] in (["jazz", "rock"], ["rock", "jazz"])
        assert {r.title for r in results[2:]} == set(MARKED)
    # Typing a marked track's own title still finds it first: its tags match.
    assert search.search("hiss", limit=6)[0].title == "hiss"
