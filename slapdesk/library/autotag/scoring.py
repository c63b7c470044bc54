"""Zero-shot tagging: vocabulary x prompt ensemble -> text vectors -> calibrated scores.

Each term is read through several prompt templates; their unit-norm text embeddings are
averaged and renormalised (open_clip's zero-shot classifier). Raw cosine scores are not
comparable across terms (some wordings sit closer to all audio than others), so scores
are calibrated per term: standardised against the term's own distribution over the
library, then turned into a distribution over the vocabulary per track. A threshold then
means the same for every term.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from slapdesk.library.autotag.vocabulary import Vocabulary

PROMPT_TEMPLATES: tuple[str, ...] = ("{}", "{} music", "this sounds like {}", "a {} track")
# Softmax temperature over calibrated z-scores: 1 z-unit ~ e times more likely.
CALIBRATION_TEMPERATURE = 1.0
# Below this many tracks the library's own statistics are too noisy: use these defaults.
MIN_TRACKS_FOR_STATS = 20

TextEmbedder = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class TagClassifier:
    """Unit-norm text vectors, one row per vocabulary term."""

    vocabulary: Vocabulary
    vectors: np.ndarray  # float32 [T, D]


@dataclass(frozen=True)
class Calibration:
    """Per-term mean and spread of raw scores over a reference set of tracks."""

    mean: np.ndarray  # [T]
    std: np.ndarray  # [T]

    @classmethod
    def fit(cls, raw_scores: np.ndarray) -> Calibration:
        """Estimate from raw scores [N, T]; small sets fall back to shared statistics."""
        if raw_scores.shape[0] < MIN_TRACKS_FOR_STATS:
            # Too few tracks to trust per-term statistics: centre on the overall level.
            overall = float(raw_scores.mean()) if raw_scores.size else 0.0
            spread = float(raw_scores.std()) if raw_scores.size > 1 else 1.0
            terms = raw_scores.shape[1]
            return cls(np.full(terms, overall, np.float32), np.full(terms, max(spread, 1e-3)))
        std = raw_scores.std(axis=0)
        return cls(raw_scores.mean(axis=0).astype(np.float32), np.maximum(std, 1e-3))

    def apply(self, raw_scores: np.ndarray) -> np.ndarray:
        """Calibrated probabilities [N, T], each row summing to 1."""
        z = (raw_scores - self.mean) / self.std
        logits = z / CALIBRATION_TEMPERATURE
        logits = logits - logits.max(axis=1, keepdims=True)
        weights = np.exp(logits)
        return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


@dataclass(frozen=True)
class Proposal:
    """One proposed tag value for one track."""

    term: str
    score: float  # calibrated probability in [0, 1]
    raw: float  # cosine similarity


def build_classifier(
    vocabulary: Vocabulary,
    embed_text: TextEmbedder,
    templates: Sequence[str] = PROMPT_TEMPLATES,
) -> TagClassifier:
    """Embed every term through the prompt ensemble and average per term."""
    prompts: list[str] = []
    owners: list[int] = []
    for index, term in enumerate(vocabulary.terms):
        for wording in vocabulary.wordings(term):
            for template in templates:
                prompts.append(template.format(wording))
                owners.append(index)
    vectors = np.asarray(embed_text(prompts), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    owner_array = np.asarray(owners)
    rows = []
    for index in range(len(vocabulary.terms)):
        mean = vectors[owner_array == index].mean(axis=0)
        rows.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
    return TagClassifier(vocabulary, np.stack(rows).astype(np.float32))


def raw_scores(classifier: TagClassifier, track_vectors: np.ndarray) -> np.ndarray:
    """Cosine similarity [N, T] of unit-norm track vectors with every term."""
    return np.asarray(track_vectors, dtype=np.float32) @ classifier.vectors.T


def propose(
    classifier: TagClassifier,
    track_vectors: np.ndarray,
    *,
    top_k: int = 3,
    threshold: float = 0.15,
    calibration: Calibration | None = None,
) -> list[list[Proposal]]:
    """Proposals per track: at most ``top_k`` terms whose calibrated score >= ``threshold``.

    Args:
        classifier: the vocabulary's text vectors.
        track_vectors: unit-norm audio vectors [N, D].
        top_k: most terms per track (1 for single-value fields).
        threshold: minimum calibrated probability.
        calibration: statistics to calibrate with; fitted on ``track_vectors`` when None.

    Returns:
        One list per track, strongest first (players often show only the first genre).
    """
    raw = raw_scores(classifier, track_vectors)
    calibration = calibration or Calibration.fit(raw)
    calibrated = calibration.apply(raw)
    limit = top_k if classifier.vocabulary.multi_value else 1
    terms = classifier.vocabulary.terms
    proposals: list[list[Proposal]] = []
    for row_raw, row in zip(raw, calibrated, strict=True):
        order = np.argsort(-row, kind="stable")[:limit]
        proposals.append(
            [Proposal(terms[i], float(row[i]), float(row_raw[i])) for i in order
             if row[i] >= threshold]
        )
    return proposals
