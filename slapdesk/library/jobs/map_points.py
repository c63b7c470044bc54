"""The embedding map's points: the library projected to 2-D, with labels and colour categories."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from slapdesk.library import map_projection as projection
from slapdesk.library.jobs.control import JobControl
from slapdesk.library.store import track_rows
from slapdesk.library.store.database import open_readonly


@dataclass(frozen=True)
class MapData:
    """Everything the map draws."""

    model_id: str
    ids: np.ndarray
    xy: np.ndarray
    categories: dict[str, list[str]] = field(default_factory=dict)  # "genre" -> value per point
    labels: dict[int, str] = field(default_factory=dict)  # id -> hover text


def load_map(library_path: Path, model_id: str, _control: JobControl) -> MapData:
    """Project ``model_id``'s vectors ("" = the newest) with colours and labels (worker thread)."""
    conn = open_readonly(library_path)
    try:
        proj = projection.project_library(conn, model_id or None)
        rows = track_rows.fetch_rows(conn, [int(i) for i in proj.ids])
        labels = {
            i: " – ".join(x for x in (row.artist, row.display_title) if x)
            for i, row in rows.items()
        }
        categories = {name: projection.first_values(conn, proj.ids, name)
                      for name in ("genre", "mood")}
    finally:
        conn.close()
    return MapData(proj.model_id, proj.ids, proj.xy, categories, labels)
