"""Embedding and the moment pass load only the model's audio side (no text tower)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.inference import Embedder
from slapdesk.library.jobs.active_model import ModelHolder, embed_new_tracks
from slapdesk.library.jobs.control import JobControl
from slapdesk.library.scan.scanner import run_scan
from slapdesk.library.search.ranking import load_index
from slapdesk.library.store.database import Database


def test_embedding_loads_the_audio_side_and_stores_the_whole_models_vectors(
    tmp_path: Path, music_folder: Path, tiny_bundle: Path
) -> None:
    holder = ModelHolder(str(tiny_bundle), tmp_path / "models", tmp_path / "runs")
    with Database(tmp_path / "lib.sqlite") as db:
        run_scan(db, [music_folder])
        embed_new_tracks(holder, db, JobControl())
        index = load_index(db.conn, holder.active_model_id())
        by_path = {bytes(p).decode(): i for p, i in
                   db.conn.execute("SELECT path, id FROM tracks").fetchall()}
    assert len(index) == 8
    audio = holder.audio()
    assert audio.audio_only and holder.loaded is None  # the whole model was never built
    assert not hasattr(audio.model, "text_encoder")
    whole = Embedder.from_bundle(tiny_bundle, device="cpu")
    paths = sorted(str(p) for p in music_folder.rglob("*") if p.is_file())
    expected = whole.embed_audio(paths).tracks
    stored = np.stack([index.vector(by_path[p]) for p in paths])
    np.testing.assert_allclose(stored, expected, atol=1e-5)
    # The whole model, once something loads it, serves audio as well.
    assert holder.get() is holder.audio() and not holder.get().audio_only
