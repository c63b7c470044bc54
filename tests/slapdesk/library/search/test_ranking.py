"""Search end to end: a scanned library of real files, embedded by a real (tiny) bundle."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from engine.inference import Embedder
from slapdesk.library.jobs.embed import embed_library, pending_tracks, register_model
from slapdesk.library.scan.scanner import run_scan
from slapdesk.library.search.ranking import LibrarySearch, SearchError, load_index
from slapdesk.library.search.vector_index import VectorIndex
from slapdesk.library.store.database import Database


@pytest.fixture
def library(tmp_path: Path, music_folder: Path) -> Database:
    db = Database(tmp_path / "library.sqlite")
    run_scan(db, [music_folder])
    yield db
    db.close()


@pytest.fixture(scope="module")
def embedder(tiny_bundle: Path) -> Embedder:
    return Embedder.from_bundle(tiny_bundle, device="cpu")


def _embed(db: Database, embedder: Embedder) -> None:
    register_model(db, embedder.model_id, "tiny", None, embedder.dim)
    summary = embed_library(db, embedder)
    assert summary.errors == []


def test_embedding_stores_track_and_window_vectors(library: Database, embedder: Embedder) -> None:
    _embed(library, embedder)
    tracks = library.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
    windows = library.execute("SELECT COUNT(*) FROM window_embeddings").fetchone()[0]
    assert tracks == 8
    assert windows == 8 * embedder.cfg.frontend.n_windows
    blob = library.execute("SELECT vector FROM embeddings LIMIT 1").fetchone()[0]
    assert np.linalg.norm(np.frombuffer(blob, "<f4")) == pytest.approx(1.0, abs=1e-5)
    # Nothing left to do, and a second run does nothing twice.
    assert pending_tracks(library, embedder.model_id) == []
    assert embed_library(library, embedder).embedded == 0


def test_cancelled_embedding_resumes_without_duplicates(
    library: Database, embedder: Embedder
) -> None:
    register_model(library, embedder.model_id, "tiny", None, embedder.dim)
    cancel = threading.Event()
    first = embed_library(
        library, embedder, cancel=cancel, batch_tracks=2,
        progress=lambda p: cancel.set() if p.done >= 2 else None,
    )
    assert first.cancelled
    assert 0 < first.embedded < 8
    second = embed_library(library, embedder)
    assert first.embedded + second.embedded == 8
    assert library.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0] == 8


def test_like_ranks_the_track_itself_first(library: Database, embedder: Embedder) -> None:
    _embed(library, embedder)
    search = LibrarySearch(library.conn, load_index(library.conn, embedder.model_id),
                           embedder.embed_text)
    target = library.execute("SELECT id FROM tracks ORDER BY id LIMIT 1 OFFSET 3").fetchone()[0]
    results = search.search(f"like:#{target}", limit=3)
    assert results[0].track_id == target
    assert results[0].similarity == pytest.approx(1.0, abs=1e-5)


def test_metadata_match_is_fused_first(library: Database, embedder: Embedder) -> None:
    _embed(library, embedder)
    search = LibrarySearch(library.conn, load_index(library.conn, embedder.model_id),
                           embedder.embed_text)
    results = search.search("tone opus", limit=8)
    assert results[0].title == "Tone opus"
    assert results[0].metadata_match


def test_filters_restrict_candidates(library: Database, embedder: Embedder) -> None:
    _embed(library, embedder)
    search = LibrarySearch(library.conn, load_index(library.conn, embedder.model_id),
                           embedder.embed_text)
    assert search.search("year>2000 piano") == []
    only_flac = search.search("path:flac piano", limit=10)
    assert [r.title for r in only_flac] == ["Tone flac"]
    short = search.search("duration<2s", limit=20)
    assert len(short) == 8


def test_without_vectors_text_still_searches_tags(library: Database) -> None:
    results = LibrarySearch(library.conn).search("tone wav")
    assert results[0].title == "Tone wav"
    with pytest.raises(SearchError, match="slapdesk embed"):
        LibrarySearch(library.conn).search("like:#1")


def test_empty_library_says_what_to_do(tmp_path: Path) -> None:
    with Database(tmp_path / "empty.sqlite") as db, pytest.raises(SearchError, match="scan"):
        LibrarySearch(db.conn).search("anything")


def _axis_index(db: Database) -> tuple[VectorIndex, list[int]]:
    """Each track's vector leans towards axis 0 by a known amount: the ranking is predictable."""
    ids = [int(r[0]) for r in db.execute("SELECT id FROM tracks ORDER BY id")]
    lean = np.linspace(1.0, -1.0, len(ids))  # first track most "drums", last the least
    vectors = np.stack([[x, np.sqrt(1 - x * x), 0.0] for x in lean]).astype(np.float32)
    index = VectorIndex(3)
    index.add(np.asarray(ids), vectors)
    return index, ids


def _drums_embedder(texts: list[str]) -> np.ndarray:
    return np.stack([[1.0, 0.0, 0.0] if "drum" in t else [0.0, 0.0, 1.0] for t in texts])


def test_a_negative_alone_ranks_the_least_like_it_first(library: Database) -> None:
    index, ids = _axis_index(library)
    results = LibrarySearch(library.conn, index, _drums_embedder).search("-drums", limit=8)
    assert [r.track_id for r in results] == ids[::-1]
    assert results[0].similarity == pytest.approx(1.0, abs=1e-6)


def test_a_negative_with_a_filter_keeps_the_filter_and_the_order(library: Database) -> None:
    index, ids = _axis_index(library)
    search = LibrarySearch(library.conn, index, _drums_embedder)
    results = search.search("path:/a/ -drums", limit=8)
    in_a = [r.track_id for r in LibrarySearch(library.conn).search("path:/a/", limit=8)]
    assert len(in_a) == 4
    assert [r.track_id for r in results] == [i for i in ids[::-1] if i in in_a]


def test_a_negative_drops_tracks_tagged_with_it(library: Database) -> None:
    index, _ = _axis_index(library)
    search = LibrarySearch(library.conn, index, _drums_embedder)
    # Every fixture track's title is "Tone <format>": "-flac" removes the FLAC one by its tags,
    # with or without vectors.
    flac = library.execute("SELECT id FROM tracks WHERE title = 'Tone flac'").fetchone()[0]
    with_vectors = [r.track_id for r in search.search("-flac", limit=8)]
    tags_only = [r.track_id for r in LibrarySearch(library.conn).search("-flac", limit=8)]
    assert flac not in with_vectors and flac not in tags_only
    assert len(with_vectors) == len(tags_only) == 7


def test_is_states_list_every_problem_track(tmp_path: Path, music_folder: Path) -> None:
    (music_folder / "a" / "garbage.mp3").write_bytes(b"not audio at all" * 64)
    with Database(tmp_path / "states.sqlite") as db:
        run_scan(db, [music_folder])
        ids = {r[1].rsplit("/", 1)[-1]: int(r[0])
               for r in db.execute("SELECT id, CAST(path AS TEXT) FROM tracks")}
        register_model(db, "m1", "tiny", None, 3)
        with db.conn:
            db.execute("INSERT INTO embeddings (track_id, model_id, dim, vector, created_at, "
                       "abstain) VALUES (?, 'm1', 3, zeroblob(12), 0, 'silence')",
                       (ids["tone_wav.wav"],))
        search = LibrarySearch(db.conn)

        def found(query: str) -> set[int]:
            return {r.track_id for r in search.search(query, limit=50)}

        assert found("is:unreadable") == found("is:broken") == {ids["garbage.mp3"]}
        assert found("is:damaged") == set()
        assert found("is:silent") == {ids["tone_wav.wav"]}
        assert found("is:problem") == {ids["garbage.mp3"], ids["tone_wav.wav"]}
        wav_folder = next(music_folder.rglob("tone_wav.wav")).parent.name
        other = "a" if wav_folder == "b" else "b"
        assert found(f"is:problem path:/{wav_folder}/") >= {ids["tone_wav.wav"]}
        assert ids["tone_wav.wav"] not in found(f"is:problem path:/{other}/")
