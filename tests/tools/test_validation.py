"""The validation suite: fixed queries with grounded relevance, controls, label rules."""

import numpy as np

from tools.validation.metrics import GENRE_ACCEPTS, grounded_genres
from tools.validation.queries import QUERIES, is_relevant
from tools.validation.sources import SAMPLE_RATE, SECONDS, control_audio, package_files

HOUSE_LOOP = {"kind": "sample", "instrument_family": "drums", "play": "loop",
              "sample": "a house music drum loop", "styles": ["electronic", "house"]}
BLUES_TRACK = {"kind": "game music", "genre": "soundtrack", "styles": ["blues"],
               "title": "City Blues"}


def _query(text):
    return next(q for q in QUERIES if q.text == text)


def test_at_least_thirty_distinct_queries_with_known_conditions():
    assert len(QUERIES) >= 30
    assert len({q.text for q in QUERIES}) == len(QUERIES)
    keys = {"kind", "family", "play", "style", "sample", "title", "control"}
    assert all(set(q.match) <= keys and q.match for q in QUERIES)


def test_relevance_follows_the_grounded_labels():
    assert is_relevant(_query("a house music drum loop"), HOUSE_LOOP)
    assert is_relevant(_query("a drum loop"), HOUSE_LOOP)
    assert not is_relevant(_query("single drum hits"), HOUSE_LOOP)
    assert is_relevant(_query("a blues song"), BLUES_TRACK)
    assert is_relevant(_query("music from a video game"), BLUES_TRACK)
    assert not is_relevant(_query("piano"), BLUES_TRACK)


def test_grounded_genres_accept_the_apps_terms():
    assert grounded_genres(HOUSE_LOOP) == {"electronic", "house"}
    assert grounded_genres(BLUES_TRACK) == {"soundtrack", "blues"}
    assert all(GENRE_ACCEPTS[g] for g in grounded_genres(HOUSE_LOOP))


def test_controls_are_what_they_claim():
    n = int(SECONDS * SAMPLE_RATE)
    assert not control_audio("silence").any()
    near = control_audio("near_silence")
    assert near.shape == (n,) and 2e-4 < float(np.sqrt((near**2).mean())) < 4e-4
    tone = control_audio("test_tone")
    spectrum = np.abs(np.fft.rfft(tone))
    assert abs(float(np.argmax(spectrum)) * SAMPLE_RATE / n - 440.0) < 0.2
    np.testing.assert_array_equal(control_audio("white_noise"), control_audio("white_noise"))


def test_reserved_packages_are_refused():
    import pytest

    with pytest.raises(ValueError, match="reserved"):
        package_files("wesnoth-1.16-music")
