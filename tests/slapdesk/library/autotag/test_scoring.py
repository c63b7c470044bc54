from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from slapdesk.library.autotag.scoring import (
    PROMPT_TEMPLATES,
    Calibration,
    build_classifier,
    propose,
)
from slapdesk.library.autotag.vocabulary import (
    Vocabulary,
    VocabularyError,
    inline_vocabulary,
    load_vocabulary,
)


def _embed_by_keyword(texts: list[str]) -> np.ndarray:
    """A deterministic text embedder: one axis per keyword found in the text."""
    keywords = ["rock", "jazz", "piano"]
    out = np.full((len(texts), 4), 0.05, dtype=np.float32)
    for row, text in enumerate(texts):
        for axis, word in enumerate(keywords):
            if word in text:
                out[row, axis] = 1.0
    return out


def test_bundled_vocabularies_load() -> None:
    genre = load_vocabulary("genre")
    assert genre.field == "genre"
    assert "rock" in genre.terms
    assert genre.wordings("hip hop") == ("hip hop beat", "rap music")


def test_unknown_vocabulary_lists_known_ones() -> None:
    with pytest.raises(VocabularyError, match="genre"):
        load_vocabulary("no-such-vocab")


def test_malformed_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("terms = 3\n")
    with pytest.raises(VocabularyError, match=r"bad\.toml"):
        load_vocabulary(bad)


def test_inline_terms() -> None:
    vocab = inline_vocabulary(" lofi, vaporwave,,lofi ")
    assert vocab.terms == ("lofi", "vaporwave")


def test_classifier_averages_prompt_ensemble() -> None:
    seen: list[str] = []

    def embed(texts: list[str]) -> np.ndarray:
        seen.extend(texts)
        return _embed_by_keyword(texts)

    vocab = Vocabulary("g", "genre", ("rock", "jazz"))
    classifier = build_classifier(vocab, embed)
    assert len(seen) == 2 * len(PROMPT_TEMPLATES)
    assert "this sounds like jazz" in seen
    assert classifier.vectors.shape == (2, 4)
    assert np.allclose(np.linalg.norm(classifier.vectors, axis=1), 1.0)


def test_proposals_pick_the_matching_term_first() -> None:
    vocab = Vocabulary("g", "genre", ("rock", "jazz", "piano"))
    classifier = build_classifier(vocab, _embed_by_keyword)
    tracks = np.array([[0.9, 0.1, 0.0, 0.0], [0.0, 0.2, 0.95, 0.0]], dtype=np.float32)
    tracks /= np.linalg.norm(tracks, axis=1, keepdims=True)
    proposals = propose(classifier, tracks, top_k=2, threshold=0.0)
    assert [p.term for p in proposals[0]] == ["rock", "jazz"]
    assert proposals[1][0].term == "piano"
    assert proposals[0][0].score > proposals[0][1].score


def test_single_value_vocabulary_proposes_one() -> None:
    vocab = Vocabulary("g", "genre", ("rock", "jazz"), multi_value=False)
    classifier = build_classifier(vocab, _embed_by_keyword)
    tracks = np.array([[1.0, 0.9, 0.0, 0.0]], dtype=np.float32)
    assert len(propose(classifier, tracks, top_k=5, threshold=0.0)[0]) == 1


def test_calibration_removes_a_term_bias() -> None:
    # Term 0 scores high on every track; calibration must not let it win everywhere.
    rng = np.random.default_rng(1)
    raw = rng.normal(0.0, 0.02, size=(200, 2)).astype(np.float32)
    raw[:, 0] += 0.5
    raw[:100, 1] += 0.2  # term 1 really matches the first half
    calibrated = Calibration.fit(raw).apply(raw)
    assert np.allclose(calibrated.sum(axis=1), 1.0, atol=1e-5)
    assert (raw.argmax(axis=1) == 0).all()  # uncalibrated, the biased term always wins
    winners = calibrated.argmax(axis=1)
    assert (winners[:100] == 1).mean() > 0.8
    assert (winners[100:] == 0).mean() > 0.8
