"""A 2-D map of the library: PCA of the stored track embeddings (numpy only).

PCA is deterministic, needs no extra dependency and is fast: the D x D covariance of a 100k x 512
matrix takes well under a second; t-SNE / UMAP would cost minutes and a new dependency.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import numpy as np

from slapdesk.library.search.vectors import latest_model_id, load_vectors


@dataclass(frozen=True)
class Projection:
    """Track ids and their 2-D coordinates."""

    model_id: str  # the model whose vectors were projected ("" when none)
    ids: np.ndarray  # int64 [N]
    xy: np.ndarray  # float32 [N, 2]
    explained: tuple[float, float] = (0.0, 0.0)  # variance share of each axis


def pca_2d(matrix: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """Project rows onto their first two principal axes; returns (xy [N, 2], variance shares).

    The sign of each axis is fixed (largest loading positive) so the map does not flip between
    runs on the same data.
    """
    n = matrix.shape[0]
    if n == 0:
        return np.empty((0, 2), np.float32), (0.0, 0.0)
    centred = matrix.astype(np.float64) - matrix.mean(axis=0)
    if n == 1:
        return np.zeros((1, 2), np.float32), (0.0, 0.0)
    covariance = centred.T @ centred / (n - 1)
    values, vectors = np.linalg.eigh(covariance)
    order = np.argsort(values)[::-1][:2]
    axes = vectors[:, order]
    if axes.shape[1] < 2:
        axes = np.pad(axes, ((0, 0), (0, 2 - axes.shape[1])))
    signs = np.sign(axes[np.abs(axes).argmax(axis=0), range(2)])
    axes = axes * np.where(signs == 0, 1, signs)
    total = float(values.sum()) or 1.0
    shares = (*tuple(float(values[i]) / total for i in order), 0.0, 0.0)
    return (centred @ axes).astype(np.float32), (shares[0], shares[1])


def project_library(conn: sqlite3.Connection, model_id: str | None = None) -> Projection:
    """The 2-D map of every track that has a vector for ``model_id`` (default: latest)."""
    model = model_id or latest_model_id(conn)
    if not model:
        return Projection("", np.empty(0, np.int64), np.empty((0, 2), np.float32))
    ids, matrix = load_vectors(conn, model)
    xy, shares = pca_2d(matrix)
    return Projection(model, ids, xy, shares)


def first_values(conn: sqlite3.Connection, ids: np.ndarray, field: str) -> list[str]:
    """The first genre / mood of each track (``""`` when it has none), in ``ids`` order."""
    if field not in {"genre", "mood"}:
        raise ValueError(f"cannot colour by {field!r}")
    from slapdesk.library.store.track_rows import fetch_rows

    rows = fetch_rows(conn, [int(i) for i in ids])
    values = []
    for track_id in ids:
        row = rows.get(int(track_id))
        tags = getattr(row, field, ()) if row else ()
        values.append(tags[0].strip().lower() if tags else "")
    return values
