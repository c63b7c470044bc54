"""The map shows the active model's vectors, whichever model embedded the library last."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from engine.bundle_info import read_bundle_info
from slapdesk.library.jobs.active_model import ModelHolder


def _plant(window, model_id: str, track_ids: list[int], created_at: float) -> None:
    rng = np.random.default_rng(len(track_ids))
    with window.ctx.database.transaction() as conn:
        conn.execute("INSERT INTO models (id, name, dim, added_at) VALUES (?, ?, 8, 0)",
                     (model_id, model_id))
        for track_id in track_ids:
            vector = rng.normal(size=8).astype("<f4")
            vector /= np.linalg.norm(vector)
            conn.execute("INSERT INTO embeddings (track_id, model_id, dim, vector, created_at) "
                         "VALUES (?, ?, 8, ?, ?)",
                         (track_id, model_id, vector.tobytes(), created_at))


def test_the_holder_names_the_active_model_without_loading_it(tiny_bundle: Path,
                                                              tmp_path: Path) -> None:
    holder = ModelHolder(str(tiny_bundle), tmp_path / "models", tmp_path / "runs")
    assert holder.active_model_id() == read_bundle_info(tiny_bundle).model_id
    assert holder.loaded is None


def test_the_map_projects_the_active_model(make_window, music_folder: Path,
                                           tiny_bundle: Path, tmp_path: Path) -> None:
    window = make_window([str(music_folder)])
    window.ctx.models.switch(str(tiny_bundle))
    active = read_bundle_info(tiny_bundle).model_id
    ids = window.model.ids
    _plant(window, active, ids[:3], created_at=time.time() - 3600)
    _plant(window, "embedded-later", ids, created_at=time.time())
    window.show_tab("map")
    view = window.tab("map").view
    assert sorted(view.ids.tolist()) == sorted(ids[:3])
