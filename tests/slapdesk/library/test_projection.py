from __future__ import annotations

import numpy as np

from slapdesk.library.map_projection import pca_2d


def test_pca_finds_the_spread_axis_and_is_deterministic() -> None:
    rng = np.random.default_rng(1)
    points = np.zeros((200, 16), np.float32)
    points[:, 3] = rng.normal(scale=10, size=200)  # the big axis
    points[:, 7] = rng.normal(scale=1, size=200)
    xy, shares = pca_2d(points)
    assert xy.shape == (200, 2)
    assert np.corrcoef(xy[:, 0], points[:, 3])[0, 1] > 0.999
    assert shares[0] > 0.9
    again, _ = pca_2d(points.copy())
    np.testing.assert_array_equal(xy, again)


def test_pca_of_tiny_inputs() -> None:
    assert pca_2d(np.empty((0, 4), np.float32))[0].shape == (0, 2)
    assert pca_2d(np.ones((1, 4), np.float32))[0].tolist() == [[0.0, 0.0]]
