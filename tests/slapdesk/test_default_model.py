"""The shipped default model, end to end: scan real files, embed them, find them by description."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.inference import Embedder
from slapdesk.library.demo.audio_files import make_track
from slapdesk.library.jobs.embed import embed_library, register_model
from slapdesk.library.scan.scanner import run_scan
from slapdesk.library.search.ranking import LibrarySearch, load_index
from slapdesk.library.store.database import Database
from slapdesk.resources import resource_path
from tests.slapdesk.sounds import SR, drum_loop, piano_chords


@pytest.fixture(scope="module")
def default_embedder() -> Embedder:
    return Embedder.from_bundle(resource_path("models", "default"), device="cpu")


def test_default_model_finds_drums_and_piano_by_description(
    tmp_path: Path, default_embedder: Embedder
) -> None:
    music = tmp_path / "music"
    music.mkdir()
    make_track(music / "groove", "flac", samples=drum_loop(), sample_rate=SR,
               tags={"title": "Track A"})
    make_track(music / "ballad", "mp3", samples=piano_chords(), sample_rate=SR,
               tags={"title": "Track B"})
    with Database(tmp_path / "lib.sqlite") as db:
        run_scan(db, [music])
        register_model(db, default_embedder.model_id, "default", None, default_embedder.dim)
        assert embed_library(db, default_embedder).embedded == 2
        search = LibrarySearch(db.conn, load_index(db.conn, default_embedder.model_id),
                               default_embedder.embed_text)
        assert search.search("drums", limit=2)[0].title == "Track A"
        assert search.search("a calm piano", limit=2)[0].title == "Track B"
