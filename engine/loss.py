"""Training objectives on plain tensors: the SLAP loss and the CLAP (InfoNCE) baseline.

SLAP (Guinot et al., ISMIR 2025) trains without negatives. With online predictions q, target
projections z̄ (stop-gradient) and d(q, z) = 1 − cos(q, z), the loss is

    λ·[d(qA, z̄T) + d(qT, z̄A)] + (1 − λ)·[d(qA, z̄A) + d(qT, z̄T)]

averaged over the samples. Every term is computed per sample, so the mean of a batch equals
the mean of its micro-batch means weighted by their sizes: gradient accumulation is exact.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812 (the usual torch alias)

# Guards cosine similarity against zero vectors, as torch's default does.
_EPS = 1e-8


def cosine_distance(q: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Return 1 − cos(q, z) per row.

    Args:
        q: Predictions [B, D].
        z: Targets [B, D].

    Returns:
        Distances [B], each in [0, 2].
    """
    return 1.0 - F.cosine_similarity(q, z, dim=-1, eps=_EPS)


def slap_loss_terms(
    q_audio: torch.Tensor,
    q_text: torch.Tensor,
    z_audio: torch.Tensor,
    z_text: torch.Tensor,
    lam: float = 0.5,
) -> dict[str, torch.Tensor]:
    """Compute the SLAP loss and its four terms, each per sample.

    The targets are detached here (stop-gradient), whatever the caller passes.

    Args:
        q_audio: Online audio predictions qA [B, D].
        q_text: Online text predictions qT [B, D].
        z_audio: Target audio projections z̄A [B, D].
        z_text: Target text projections z̄T [B, D].
        lam: Weight λ of the cross-modal terms; the intra-modal ones get 1 − λ.

    Returns:
        A dict of [B] tensors: "a2t" = d(qA, z̄T), "t2a" = d(qT, z̄A), "a2a" = d(qA, z̄A),
        "t2t" = d(qT, z̄T) and "loss" = the weighted sum, per sample.
    """
    z_audio = z_audio.detach()
    z_text = z_text.detach()
    terms = {
        "a2t": cosine_distance(q_audio, z_text),
        "t2a": cosine_distance(q_text, z_audio),
        "a2a": cosine_distance(q_audio, z_audio),
        "t2t": cosine_distance(q_text, z_text),
    }
    cross = terms["a2t"] + terms["t2a"]
    intra = terms["a2a"] + terms["t2t"]
    terms["loss"] = lam * cross + (1.0 - lam) * intra
    return terms


def slap_loss(
    q_audio: torch.Tensor,
    q_text: torch.Tensor,
    z_audio: torch.Tensor,
    z_text: torch.Tensor,
    lam: float = 0.5,
) -> dict[str, torch.Tensor]:
    """Batch means of :func:`slap_loss_terms` (scalars, "loss" carries the gradient)."""
    per_sample = slap_loss_terms(q_audio, q_text, z_audio, z_text, lam)
    return {name: value.mean() for name, value in per_sample.items()}


def clap_loss(
    audio: torch.Tensor, text: torch.Tensor, logit_scale: torch.Tensor | float
) -> dict[str, torch.Tensor]:
    """Symmetric InfoNCE over a batch of paired audio and text embeddings.

    Row i of ``audio`` and row i of ``text`` are a positive pair; every other row of the batch
    is a negative. Unlike the SLAP loss this couples the samples of a batch, so accumulated
    micro-batches do NOT equal one large batch (which is the paper's point).

    Args:
        audio: Audio embeddings [B, D]; L2-normalised here.
        text: Text embeddings [B, D]; L2-normalised here.
        logit_scale: Multiplier of the cosine similarities (1 / temperature), not its log.

    Returns:
        Scalars "a2t" (cross-entropy audio -> text), "t2a" (text -> audio), "loss" (their mean)
        and "logits" [B, B] (audio rows, text columns), detached.
    """
    audio = F.normalize(audio, dim=-1)
    text = F.normalize(text, dim=-1)
    logits = logit_scale * audio @ text.t()
    labels = torch.arange(logits.shape[0], device=logits.device)
    a2t = F.cross_entropy(logits, labels)
    t2a = F.cross_entropy(logits.t(), labels)
    return {"loss": 0.5 * (a2t + t2a), "a2t": a2t, "t2a": t2a, "logits": logits.detach()}
