"""An in-memory matrix of unit-norm track vectors for one model, with exact top-k.

Exact search is simple and fast enough at desktop scale: numpy float32 brute force
over 1M x 512 took ~75 ms per query on a 2-core machine, 100k about 7 ms
(tests/bench/bench_search.py measures it).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


class VectorIndex:
    """Track ids and their unit-norm float32 vectors, searchable by dot product."""

    def __init__(self, dim: int) -> None:
        """Create an empty index for vectors of ``dim`` dimensions."""
        self.dim = dim
        self._ids = np.empty(0, dtype=np.int64)
        self._matrix = np.empty((0, dim), dtype=np.float32)
        self._row_of: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, track_id: object) -> bool:
        return track_id in self._row_of

    @property
    def ids(self) -> np.ndarray:
        """Track ids in row order (read-only view)."""
        view = self._ids.view()
        view.flags.writeable = False
        return view

    def add(self, ids: Iterable[int], vectors: np.ndarray) -> None:
        """Add or replace vectors; rows are renormalised to unit length."""
        ids_array = np.asarray(list(ids), dtype=np.int64)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(ids_array), self.dim)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = vectors / np.maximum(norms, 1e-12)
        replaced = [i for i, track_id in enumerate(ids_array) if int(track_id) in self._row_of]
        for i in replaced:
            self._matrix[self._row_of[int(ids_array[i])]] = vectors[i]
        fresh = np.setdiff1d(np.arange(len(ids_array)), replaced)
        if len(fresh):
            start = len(self._ids)
            self._ids = np.concatenate([self._ids, ids_array[fresh]])
            self._matrix = np.concatenate([self._matrix, vectors[fresh]])
            for offset, track_id in enumerate(ids_array[fresh]):
                self._row_of[int(track_id)] = start + offset

    def remove(self, ids: Iterable[int]) -> None:
        """Drop the given ids (unknown ids are ignored)."""
        drop = {int(i) for i in ids} & self._row_of.keys()
        if not drop:
            return
        keep = np.array([int(i) not in drop for i in self._ids], dtype=bool)
        self._ids = self._ids[keep]
        self._matrix = self._matrix[keep]
        self._row_of = {int(track_id): row for row, track_id in enumerate(self._ids)}

    def vector(self, track_id: int) -> np.ndarray | None:
        """The stored vector of one track, or None."""
        row = self._row_of.get(int(track_id))
        return None if row is None else self._matrix[row].copy()

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Cosine similarity of every row with ``query`` (unit-norm rows, so a dot product)."""
        return self._matrix @ np.asarray(query, dtype=np.float32).reshape(self.dim)

    def top_k(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the ``k`` best (ids, scores), best first.

        Args:
            query: a vector of ``dim`` values (need not be unit norm; ranking is the same).
            k: how many results at most.
            allowed: optional boolean mask over rows (same order as ``ids``) of candidates.
        """
        scores = self.scores(query)
        if allowed is not None:
            scores = np.where(allowed, scores, -np.inf)
            k = min(k, int(np.count_nonzero(allowed)))
        k = min(k, len(scores))
        if k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        # argpartition finds the k best in O(n); only those k are then sorted.
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best], kind="stable")]
        return self._ids[best], scores[best].astype(np.float32)

    def matrix(self) -> np.ndarray:
        """All vectors in row order (read-only view)."""
        view = self._matrix.view()
        view.flags.writeable = False
        return view
