"""Retrieval and modality-gap metrics over embedding matrices: pure functions, no I/O.

The retrieval protocol is the SLAP paper's: for every query, the rank of its match among all
candidates (1 = first), reported as recall at 1/5/10 and as the median and mean *normalised*
rank (rank divided by the number of candidates, so pools of different sizes compare).

Ties are counted against the model (a candidate scoring exactly as high as the match is
ranked before it): a collapsed model whose embeddings are all equal gets the worst rank, not
the best.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

RECALL_AT = (1, 5, 10)


def _as_tensor(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Return ``x`` as a float64 CPU tensor (exact enough for ranks and centroids)."""
    if isinstance(x, torch.Tensor):
        return x.detach().to("cpu", torch.float64)
    return torch.as_tensor(np.asarray(x), dtype=torch.float64)


def l2_normalize(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Return the rows of ``x`` scaled to unit length (zero rows stay zero)."""
    t = _as_tensor(x)
    return t / t.norm(dim=1, keepdim=True).clamp_min(1e-12)


def match_ranks(scores: torch.Tensor, positives: torch.Tensor) -> torch.Tensor:
    """Rank of the best-scoring positive of every query among all candidates.

    Args:
        scores: [Q, C] similarity of each query to each candidate.
        positives: [Q, C] bool, True where the candidate matches the query (at least one per row).

    Returns:
        [Q] int64 ranks, 1-based: 1 + the number of non-matching candidates that score at least
        as high as the best match.
    """
    if not bool(positives.any(dim=1).all()):
        raise ValueError("every query needs at least one matching candidate")
    best = scores.masked_fill(~positives, float("-inf")).max(dim=1, keepdim=True).values
    beaten_by = ((scores >= best) & ~positives).sum(dim=1)
    return beaten_by + 1


def _rank_summary(ranks: torch.Tensor, pool: int, prefix: str) -> dict[str, float]:
    """Recall at k, median and mean normalised rank for one direction."""
    out = {f"{prefix}_R@{k}": float((ranks <= k).double().mean()) for k in RECALL_AT}
    normalised = ranks.double() / pool
    out[f"{prefix}_median_nrank"] = float(normalised.median())
    out[f"{prefix}_mean_nrank"] = float(normalised.mean())
    out[f"{prefix}_median_rank"] = float(ranks.double().median())
    return out


def retrieval_metrics(
    audio: np.ndarray | torch.Tensor,
    text: np.ndarray | torch.Tensor,
    text_to_audio: Sequence[int] | np.ndarray | None = None,
) -> dict[str, float]:
    """Text→audio and audio→text retrieval figures by cosine similarity.

    Args:
        audio: [N, D] one embedding per clip (normalised here).
        text: [M, D] one embedding per caption (normalised here).
        text_to_audio: [M] index of each caption's clip; ``None`` means caption i describes
            clip i (M == N). A clip with several captions counts as found by audio→text when
            any of its captions is found.

    Returns:
        ``t2a_R@1``, ``t2a_R@5``, ``t2a_R@10``, ``t2a_median_nrank``, ``t2a_mean_nrank``,
        ``t2a_median_rank`` and the same with ``a2t_``, plus ``n_audio`` and ``n_text``.
        Normalised rank = rank / number of candidates (N for t2a, M for a2t).
    """
    a, t = l2_normalize(audio), l2_normalize(text)
    n, m = a.shape[0], t.shape[0]
    owner = torch.arange(m) if text_to_audio is None else torch.as_tensor(text_to_audio)
    owner = owner.to(torch.int64)
    if owner.shape != (m,) or (m and (int(owner.min()) < 0 or int(owner.max()) >= n)):
        raise ValueError("text_to_audio must hold one clip index in [0, N) per caption")
    scores = t @ a.T  # [M, N]
    match = owner[:, None] == torch.arange(n)[None, :]  # [M, N]
    metrics = _rank_summary(match_ranks(scores, match), n, "t2a")
    metrics.update(_rank_summary(match_ranks(scores.T, match.T), m, "a2t"))
    metrics["n_audio"] = float(n)
    metrics["n_text"] = float(m)
    return metrics


def modality_gap(audio: np.ndarray | torch.Tensor, text: np.ndarray | torch.Tensor) -> float:
    """Euclidean distance between the centroids of the L2-normalised audio and text embeddings."""
    return float((l2_normalize(audio).mean(dim=0) - l2_normalize(text).mean(dim=0)).norm())


def linear_separability(
    audio: np.ndarray | torch.Tensor,
    text: np.ndarray | torch.Tensor,
    seed: int = 0,
    steps: int = 200,
    weight_decay: float = 1e-4,
) -> float:
    """Held-out accuracy of a logistic regression telling audio from text embeddings.

    The embeddings are L2-normalised; a random half of each modality trains the classifier
    (full-batch L-BFGS), the other half measures accuracy. 0.5 means the modalities overlap;
    1.0 means a hyperplane separates them (a modality gap).

    Args:
        audio: [N, D] audio embeddings (N >= 2).
        text: [M, D] text embeddings (M >= 2).
        seed: seed of the split.
        steps: L-BFGS iterations.
        weight_decay: L2 penalty on the weights.

    Returns:
        Accuracy on the held-out half, in [0, 1].
    """
    a, t = l2_normalize(audio), l2_normalize(text)
    if a.shape[0] < 2 or t.shape[0] < 2:
        raise ValueError("need at least two embeddings of each modality")
    gen = torch.Generator().manual_seed(seed)
    train_x: list[torch.Tensor] = []
    test_x: list[torch.Tensor] = []
    train_y: list[torch.Tensor] = []
    test_y: list[torch.Tensor] = []
    for label, x in ((0.0, a), (1.0, t)):
        order = torch.randperm(x.shape[0], generator=gen)
        half = x.shape[0] // 2
        for rows, xs, ys in ((order[:half], train_x, train_y), (order[half:], test_x, test_y)):
            xs.append(x[rows])
            ys.append(torch.full((len(rows),), label, dtype=torch.float64))
    x_fit, y_fit = torch.cat(train_x), torch.cat(train_y)
    weight = torch.zeros(a.shape[1], dtype=torch.float64, requires_grad=True)
    bias = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([weight, bias], max_iter=steps, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        logits = x_fit @ weight + bias
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y_fit)
        loss = loss + weight_decay * weight.square().sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        predicted = (torch.cat(test_x) @ weight + bias) > 0
        return float((predicted == torch.cat(test_y).bool()).double().mean())


def gap_metrics(
    audio: np.ndarray | torch.Tensor, text: np.ndarray | torch.Tensor, seed: int = 0
) -> dict[str, float]:
    """``modality_gap`` (centroid distance) and ``linear_separability`` in one dictionary."""
    return {
        "modality_gap": modality_gap(audio, text),
        "linear_separability": linear_separability(audio, text, seed=seed),
    }
