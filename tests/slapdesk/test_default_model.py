"""The shipped default model, end to end: scan real files, embed them, find them by description."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.inference import Embedder
from slapdesk.library.demo.audio_files import make_track
from slapdesk.library.jobs.embed import embed_library, register_model
from slapdesk.library.scan.scanner import run_scan
from slapdesk.library.search.ranking import LibrarySearch, load_index
from slapdesk.library.store.database import Database
from slapdesk.resources import resource_path

SR = 16_000


def _drum_loop(seconds: float = 8.0) -> np.ndarray:
    """Kick on every beat, noisy hats on every sixteenth, 120 bpm."""
    rng = np.random.default_rng(0)
    out = np.zeros(int(seconds * SR), np.float32)
    hit = int(0.08 * SR)
    decay = np.exp(-np.arange(hit) / (0.015 * SR))
    for step in range(int(seconds * 8)):
        start = step * SR // 8
        if step % 4 == 0:
            out[start : start + hit] += 0.8 * np.sin(2 * np.pi * 60 * np.arange(hit) / SR) * decay
        out[start : start + hit] += 0.3 * rng.normal(size=hit) * decay
    return out


def _piano_chords(seconds: float = 8.0) -> np.ndarray:
    """A C major chord struck every second, three decaying partials per note."""
    t = np.arange(int(seconds * SR)) / SR
    envelope = np.exp(-(t % 1.0) * 3)
    notes = (261.6, 329.6, 392.0)
    tone = sum(np.sin(2 * np.pi * f * k * t) / k for f in notes for k in (1, 2, 3))
    return (0.2 * tone * envelope).astype(np.float32)


@pytest.fixture(scope="module")
def default_embedder() -> Embedder:
    return Embedder.from_bundle(resource_path("models", "default"), device="cpu")


def test_default_model_finds_drums_and_piano_by_description(
    tmp_path: Path, default_embedder: Embedder
) -> None:
    music = tmp_path / "music"
    music.mkdir()
    make_track(music / "groove", "flac", samples=_drum_loop(), sample_rate=SR,
               tags={"title": "Track A"})
    make_track(music / "ballad", "mp3", samples=_piano_chords(), sample_rate=SR,
               tags={"title": "Track B"})
    with Database(tmp_path / "lib.sqlite") as db:
        run_scan(db, [music])
        register_model(db, default_embedder.model_id, "default", None, default_embedder.dim)
        assert embed_library(db, default_embedder).embedded == 2
        search = LibrarySearch(db.conn, load_index(db.conn, default_embedder.model_id),
                               default_embedder.embed_text)
        assert search.search("drums", limit=2)[0].title == "Track A"
        assert search.search("a calm piano", limit=2)[0].title == "Track B"
