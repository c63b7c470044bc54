"""The tag audit's scoring: vocabulary from the user's values, leave-one-out centroids, order."""

from __future__ import annotations

import numpy as np
import pytest

from slapdesk.library.autotag.audit import (
    AuditError,
    build_vocabulary,
    combined_probs,
    field_values,
    label_matrix,
    library_log_probs,
    suspicion_order,
)


def _clusters() -> tuple[np.ndarray, list[list[str]]]:
    """Two tight clusters of unit vectors, 4 tracks each; track 3 is labelled wrongly."""
    rng = np.random.default_rng(0)
    centres = np.eye(8, dtype=np.float32)[:2]
    vectors = np.concatenate([centres[0] + 0.05 * rng.normal(size=(4, 8)),
                              centres[1] + 0.05 * rng.normal(size=(4, 8))]).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = [["Rock"], ["rock"], ["Rock"], ["Jazz"], ["Jazz"], ["jazz "], ["Jazz"], ["Jazz"]]
    return vectors, labels


def test_vocabulary_is_the_users_values_in_their_most_common_spelling() -> None:
    _, labels = _clusters()
    assert build_vocabulary(labels, "genre").terms == ("Jazz", "Rock")
    with pytest.raises(AuditError, match="at least two"):
        build_vocabulary([["Rock"], ["rock"]], "genre")


def test_field_values_reads_json_lists_and_packed_strings() -> None:
    assert field_values('["Rock; Jazz", "Blues"]') == ["Rock", "Jazz", "Blues"]
    assert field_values("Ambient") == ["Ambient"]
    assert field_values(None) == []


def test_a_wrong_label_is_the_most_suspect_and_gets_the_right_suggestion() -> None:
    vectors, labels = _clusters()
    terms = ("Jazz", "Rock")
    carries = label_matrix(labels, terms)
    assert carries.sum() == 8  # "jazz " and "rock" match despite case and spaces
    probs = np.exp(library_log_probs(vectors, carries))
    assert probs.shape == (8, 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    order = suspicion_order(probs, carries)
    row, best, suspicion = order[0]
    assert (row, terms[best]) == (3, "Rock")
    assert suspicion > 0
    assert all(s < 0 for _, _, s in order[1:])


def test_only_the_mislabelled_track_is_suspect() -> None:
    vectors, labels = _clusters()
    labels[3] = ["Rock"]
    labels[0] = ["Jazz"]
    carries = label_matrix(labels, ("Jazz", "Rock"))
    probs = combined_probs(vectors, carries, build_vocabulary(labels, "genre"), None, "library")
    suspects = [row for row, _, s in suspicion_order(probs, carries) if s > 0]
    assert suspects == [0]  # track 0 sounds like the Rock tracks but is labelled Jazz


def test_text_method_needs_a_text_encoder() -> None:
    vectors, labels = _clusters()
    carries = label_matrix(labels, ("Jazz", "Rock"))
    with pytest.raises(AuditError, match="text encoder"):
        combined_probs(vectors, carries, build_vocabulary(labels, "genre"), None, "both")
