from __future__ import annotations

import pytest

from slapdesk.library.search.query_language import (
    NumericFilter,
    QueryError,
    TextFilter,
    parse_duration,
    parse_query,
)


def test_free_text_only() -> None:
    parsed = parse_query("mellow acoustic guitar")
    assert parsed.text == "mellow acoustic guitar"
    assert parsed.has_similarity
    assert parsed.text_filters == ()


def test_everything_at_once() -> None:
    parsed = parse_query(
        'rainy piano -drums -"heavy metal" artist:miles genre:"hip hop" year>1990 '
        "bpm<=100 duration<5m like:/music/a.mp3"
    )
    assert parsed.text == "rainy piano"
    assert parsed.negatives == ("drums", "heavy metal")
    assert parsed.text_filters == (TextFilter("artist", "miles"), TextFilter("genre", "hip hop"))
    assert parsed.numeric_filters == (
        NumericFilter("year", ">", 1990.0),
        NumericFilter("bpm", "<=", 100.0),
        NumericFilter("duration", "<", 300.0),
    )
    assert parsed.like == ("/music/a.mp3",)


def test_like_keeps_case_of_path_and_combines_with_text() -> None:
    parsed = parse_query("like:Song.MP3 more acoustic")
    assert parsed.like == ("Song.MP3",)
    assert parsed.text == "more acoustic"


def test_filters_only_has_no_similarity() -> None:
    parsed = parse_query("year>=2000 artist:x")
    assert not parsed.has_similarity
    assert not parsed.is_empty


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90.0), ("90s", 90.0), ("5m", 300.0), ("1.5h", 5400.0), ("3:30", 210.0)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_bad_number_names_the_field() -> None:
    with pytest.raises(QueryError, match="year needs a number"):
        parse_query("year>nineteen")


def test_unbalanced_quote_does_not_fail() -> None:
    assert parse_query('genre:"jazz').text_filters == (TextFilter("genre", "jazz"),)


def test_numeric_filter_rejects_missing_values() -> None:
    assert not NumericFilter("year", ">", 1990).accepts(None)
    assert NumericFilter("year", ">", 1990).accepts(1991)
    assert not NumericFilter("year", ">", 1990).accepts(1990)


def test_is_states_are_filters_not_words() -> None:
    parsed = parse_query("is:broken IS:Silent piano")
    assert parsed.states == ("broken", "silent")
    assert parsed.text == "piano"
    assert not parse_query("is:problem").is_empty
    assert not parse_query("is:problem").has_similarity


def test_an_unknown_state_names_the_ones_there_are() -> None:
    with pytest.raises(QueryError, match=r"is:loud is not a track state: use is:unreadable, "
                                         r"is:damaged, is:broken, is:silent, is:problem"):
        parse_query("is:loud")
