"""Retrieval and modality-gap metrics on hand-made embeddings with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.evaluate import (
    gap_metrics,
    linear_separability,
    match_ranks,
    modality_gap,
    retrieval_metrics,
)


def test_perfect_retrieval_ranks_everything_first() -> None:
    emb = np.eye(12, dtype=np.float32)
    m = retrieval_metrics(emb, emb * 3.0)  # scale must not matter
    for direction in ("t2a", "a2t"):
        assert m[f"{direction}_R@1"] == 1.0
        assert m[f"{direction}_R@10"] == 1.0
        assert m[f"{direction}_median_rank"] == 1.0
        assert m[f"{direction}_mean_nrank"] == pytest.approx(1 / 12)
    assert m["n_audio"] == 12.0


def test_reversed_similarities_give_known_ranks() -> None:
    # Caption i is most similar to clip i+1, then i+2, ... and least similar to clip i itself.
    n = 10
    angles = np.arange(n) * (np.pi / n)  # half circle: cos falls monotonically with distance
    audio = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    text = -audio  # the opposite direction: the true clip scores lowest of all
    m = retrieval_metrics(audio, text)
    # True clip scores lowest of the ten: rank 10 for every caption.
    assert m["t2a_R@1"] == 0.0
    assert m["t2a_R@5"] == 0.0
    assert m["t2a_R@10"] == 1.0
    assert m["t2a_median_nrank"] == 1.0
    assert m["a2t_mean_nrank"] == 1.0


def test_shifted_by_one_gives_rank_two() -> None:
    scores = torch.tensor([[0.5, 0.9, 0.1], [0.1, 0.5, 0.9], [0.9, 0.1, 0.5]])
    ranks = match_ranks(scores, torch.eye(3, dtype=torch.bool))
    assert ranks.tolist() == [2, 2, 2]


def test_ties_count_against_the_model() -> None:
    collapsed = np.ones((5, 4), dtype=np.float32)
    m = retrieval_metrics(collapsed, collapsed)
    assert m["t2a_R@1"] == 0.0
    assert m["t2a_median_rank"] == 5.0


def test_several_captions_per_clip() -> None:
    audio = np.eye(3)
    # Clip 0 has two captions: one perfect, one pointing at clip 2.
    text = np.array([[1.0, 0, 0], [0, 0, 1.0], [0, 1.0, 0], [0, 0, 1.0]])
    owner = [0, 0, 1, 2]
    m = retrieval_metrics(audio, text, owner)
    assert m["t2a_R@1"] == 0.75  # caption 1 finds clip 2 first; clip 0 second
    # Audio→text: clip 0's best caption is first; clip 2 ties its own caption with caption 1,
    # which belongs to clip 0: counted against the model (rank 2).
    assert m["a2t_R@1"] == pytest.approx(2 / 3)
    assert m["a2t_mean_nrank"] == pytest.approx((1 + 1 + 2) / 3 / 4)


def test_bad_owner_index_is_rejected() -> None:
    with pytest.raises(ValueError, match="one clip index"):
        retrieval_metrics(np.eye(2), np.eye(2), [0, 5])


def test_modality_gap_is_centroid_distance() -> None:
    audio = np.array([[1.0, 0.0], [1.0, 0.0]])
    text = np.array([[0.0, 2.0], [0.0, 5.0]])  # normalised to (0, 1)
    assert modality_gap(audio, text) == pytest.approx(np.sqrt(2.0))
    assert modality_gap(audio, audio) == 0.0


def test_linear_separability_separated_and_mixed() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(40, 8))
    audio = base + np.array([3.0] + [0.0] * 7)
    text = base - np.array([3.0] + [0.0] * 7)
    assert linear_separability(audio, text) == 1.0
    same = rng.normal(size=(200, 8))
    mixed = linear_separability(same[:100], same[100:])
    assert 0.3 < mixed < 0.7
    out = gap_metrics(audio, text)
    assert set(out) == {"modality_gap", "linear_separability"}
