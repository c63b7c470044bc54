"""The embedding job stores exactly what the engine yields, and marks what holds no music."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from engine.inference import Embedder
from slapdesk.library.demo.audio_files import make_track
from slapdesk.library.demo.synth import STYLES, render
from slapdesk.library.jobs.embed import embed_library, register_model
from slapdesk.library.scan.scanner import run_scan
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
