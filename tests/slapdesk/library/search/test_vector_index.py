from __future__ import annotations

import numpy as np
import pytest

from slapdesk.library.search.vector_index import VectorIndex


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_top_k_orders_by_cosine() -> None:
    index = VectorIndex(dim=2)
    index.add([10, 11, 12], np.stack([_unit(1, 0), _unit(0, 1), _unit(1, 1)]))
    ids, scores = index.top_k(_unit(1, 0.1), k=2)
    assert ids.tolist() == [10, 12]
    assert scores[0] == pytest.approx(0.99504, abs=1e-4)


def test_rows_are_renormalised_and_replaced() -> None:
    index = VectorIndex(dim=2)
    index.add([1], np.array([[3.0, 4.0]]))
    assert np.allclose(index.vector(1), [0.6, 0.8])
    index.add([1], np.array([[0.0, 2.0]]))
    assert len(index) == 1
    assert np.allclose(index.vector(1), [0.0, 1.0])


def test_remove_and_mask() -> None:
    index = VectorIndex(dim=2)
    index.add([1, 2, 3], np.stack([_unit(1, 0), _unit(0.9, 0.1), _unit(0, 1)]))
    index.remove([1, 99])
    assert index.ids.tolist() == [2, 3]
    allowed = np.array([False, True])
    ids, _ = index.top_k(_unit(1, 0), k=5, allowed=allowed)
    assert ids.tolist() == [3]


def test_empty_index_returns_nothing() -> None:
    ids, scores = VectorIndex(dim=4).top_k(np.ones(4), k=3)
    assert ids.size == 0
    assert scores.size == 0


def test_agrees_with_full_sort_on_random_data() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(500, 16)).astype(np.float32)
    index = VectorIndex(dim=16)
    index.add(range(500), vectors)
    query = rng.normal(size=16).astype(np.float32)
    ids, _ = index.top_k(query, k=10)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    assert ids.tolist() == np.argsort(-(unit @ query))[:10].tolist()
