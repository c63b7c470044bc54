"""Read stored track vectors out of the database: which model, and its matrix of unit vectors."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import numpy as np


def latest_model_id(conn: sqlite3.Connection) -> str:
    """The active model if one is marked, else the one with the most recent vectors."""
    try:
        row = conn.execute("SELECT id FROM models WHERE active = 1 LIMIT 1").fetchone()
        if row is None:
            row = conn.execute(
                "SELECT model_id FROM embeddings GROUP BY model_id ORDER BY max(created_at) DESC "
                "LIMIT 1"
            ).fetchone()
    except sqlite3.OperationalError:
        return ""
    return str(row[0]) if row else ""


def load_vectors(conn: sqlite3.Connection, model_id: str) -> tuple[np.ndarray, np.ndarray]:
    """All track vectors of one model: (ids int64 [N], matrix float32 [N, D])."""
    ids, rows = [], []
    for track_id, blob in conn.execute(
        "SELECT track_id, vector FROM embeddings WHERE model_id = ? ORDER BY track_id", (model_id,)
    ):
        ids.append(int(track_id))
        rows.append(np.frombuffer(blob, dtype="<f4"))
    if not rows:
        return np.empty(0, np.int64), np.empty((0, 0), np.float32)
    return np.asarray(ids, np.int64), np.stack(rows).astype(np.float32)


def vectors_stamp(conn: sqlite3.Connection, model_id: str) -> tuple[int, float | None]:
    """(how many track vectors ``model_id`` has, when the newest was stored): changes with them."""
    count, newest = conn.execute(
        "SELECT count(*), max(created_at) FROM embeddings WHERE model_id = ?", (model_id,)
    ).fetchone()
    return int(count), newest


def abstaining_tracks(
    conn: sqlite3.Connection, model_id: str | None = None, among: Iterable[int] | None = None
) -> set[int]:
    """Tracks the model should not describe (silence, noise, a test tone: ``abstain`` set).

    Args:
        conn: the library.
        model_id: only this model's marks; None: any model's (the mark is about the audio,
            not the model).
        among: only these track ids (None: all).
    """
    sql = "SELECT DISTINCT track_id FROM embeddings WHERE abstain IS NOT NULL"
    params: list[object] = []
    if model_id is not None:
        sql += " AND model_id = ?"
        params.append(model_id)
    try:
        found = {int(row[0]) for row in conn.execute(sql, params)}
    except sqlite3.OperationalError:  # a library from before the abstain column, read-only
        return set()
    return found if among is None else found & set(among)
