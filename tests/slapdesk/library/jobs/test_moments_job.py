"""The moment pass: dense windows after the first pass, compact, resumable, hop per model."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from engine.inference import Embedder
from slapdesk.library.demo.audio_files import make_track
from slapdesk.library.jobs.embed import embed_library, register_model
from slapdesk.library.jobs.moments import (
    moment_hop,
    moment_starts,
    pending_moment_tracks,
    run_moment_pass,
    set_moment_hop,
)
from slapdesk.library.scan.scanner import run_scan
from slapdesk.library.store.database import Database


@pytest.fixture(scope="module")
def embedder(tiny_bundle: Path) -> Embedder:
    return Embedder.from_bundle(tiny_bundle, device="cpu")


@pytest.fixture
def library(tmp_path: Path, embedder: Embedder) -> Database:
    """Three tones of 7, 8 and 9 seconds, scanned and through the first pass."""
    music = tmp_path / "music"
    music.mkdir()
    for k in range(3):
        make_track(music / f"tone{k}", "flac", freq_hz=220.0 * (k + 1), seconds=7.0 + k,
                   sample_rate=16_000)
    db = Database(tmp_path / "lib.sqlite")
    run_scan(db, [music])
    register_model(db, embedder.model_id, "tiny", None, embedder.dim)
    assert embed_library(db, embedder).embedded == 3
    yield db
    db.close()


def test_starts_cover_the_track_and_cap_the_count() -> None:
    assert moment_starts(10.0, 3.0, 3.0, 400) == [0.0, 3.0, 6.0, 7.0]
    assert moment_starts(2.0, 3.0, 3.0, 400) == [0.0]
    long = moment_starts(7200.0, 3.0, 3.0, 400)
    assert len(long) == 400 and long[-1] == pytest.approx(7197.0)


def test_the_pass_stores_int8_windows_and_resumes(library: Database, embedder: Embedder) -> None:
    clip = embedder.cfg.frontend.clip_seconds
    assert moment_hop(library, embedder.model_id, clip) == clip
    set_moment_hop(library, embedder.model_id, 2.0)
    assert moment_hop(library, embedder.model_id, clip) == 2.0
    cancel = threading.Event()
    first = run_moment_pass(library, embedder, cancel=cancel,
                            progress=lambda p: cancel.set() if p.done >= 1 else None)
    assert first.cancelled and first.tracks == 1
    assert len(pending_moment_tracks(library, embedder.model_id)) == 2
    rest = run_moment_pass(library, embedder)
    assert rest.tracks == 2 and rest.errors == []
    assert pending_moment_tracks(library, embedder.model_id) == []
    rows = library.execute(
        "SELECT count, dim, hop_s, length(vectors), starts FROM moment_vectors m "
        "JOIN tracks t ON t.id = m.track_id ORDER BY t.duration"
    ).fetchall()
    expected = [len(moment_starts(7.0 + k, clip, 2.0, 400)) for k in range(3)]
    assert [r[0] for r in rows] == expected
    assert all(r[2] == 2.0 and r[3] == r[0] * r[1] == r[0] * embedder.dim for r in rows)
    assert np.frombuffer(rows[0][4], "<f4")[:2].tolist() == [0.0, 2.0]
    assert run_moment_pass(library, embedder).tracks == 0  # nothing twice
