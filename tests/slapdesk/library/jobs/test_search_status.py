"""The line above the results says what was searched, and that results are partial meanwhile."""

from __future__ import annotations

from slapdesk.library.jobs.search import SearchAnswer, status_line


def _answer(**fields) -> SearchAnswer:
    base = {"generation": 1, "query": "calm piano", "ids": [3, 1], "elapsed_ms": 12.4,
            "mode": "sound"}
    return SearchAnswer(**{**base, **fields})


def test_whole_library_searched_says_only_how_many_and_how() -> None:
    assert status_line(_answer(embedded=228, total=228), embedding=False) == (
        "2 tracks by sound and tags · 12 ms"
    )
    assert status_line(_answer(mode="browse", ids=[1]), embedding=False) == "1 track"


def test_partial_vectors_while_embedding_say_so_instead_of_advising_a_command() -> None:
    advice = "No track's tags match, and search by sound needs vectors: run slapdesk embed."
    assert status_line(_answer(embedded=120, total=228, message=advice), embedding=True) == (
        "2 tracks by sound and tags · 12 ms — searching 120 of 228 tracks by sound — "
        "embedding the rest"
    )
    assert status_line(_answer(embedded=0, total=228, ids=[], mode="metadata", message=advice),
                       embedding=True) == (
        "0 tracks by tags · 12 ms — listening to the tracks: searching tags only until the "
        "first are done"
    )
    # Not embedding: the tracks left without vectors are problem files, not news.
    assert status_line(_answer(embedded=120, total=228), embedding=False) == (
        "2 tracks by sound and tags · 12 ms"
    )


def test_a_query_that_matches_nothing_well_says_so() -> None:
    note = "No track sounds much like “abc”; showing the closest."
    assert status_line(_answer(query="abc", embedded=8, total=8, message=note),
                       embedding=False) == f"2 tracks by sound and tags · 12 ms — {note}"
