"""What the review reads: the app's own fields per container, old → new per policy, problems."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from slapdesk.library.autotag.review import (
    ReviewTerm,
    ReviewTrack,
    already_has,
    own_fields,
    preview,
    read_review,
    track_problems,
)
from tests.slapdesk.ui.review_data import write_review_library


def test_own_fields_are_found_in_every_container_spelling() -> None:
    assert own_fields({"TXXX:SLAPDESK_GENRE": ["rock", "jazz"], "TCON": ["Rock"]}) == {
        "SLAPDESK_GENRE": ("rock", "jazz")}
    assert own_fields({"slapdesk_mood": ["calm"], "MOOD": ["Happy"]}) == {
        "SLAPDESK_MOOD": ("calm",)}
    assert own_fields({"----:com.apple.iTunes:SLAPDESK_INSTRUMENT": ["piano"],
                       "----:com.apple.iTunes:MOOD": ["x"], "SLAPDESK_": ["odd"]}) == {
        "SLAPDESK_INSTRUMENT": ("piano",)}


def _track(own: tuple[str, ...], genre: tuple[str, ...]) -> ReviewTrack:
    return ReviewTrack(1, "/m/a.flac", "A – a", "FLAC",
                       {"slapdesk_genre": own, "genre": genre},
                       (ReviewTerm("rock", 0.9, "m"), ReviewTerm("drums", 0.7, "m")))


def test_preview_names_the_fields_each_policy_writes() -> None:
    track = _track(("rock",), ("Rock", "Jazz"))
    assert preview(track, "genre", ["rock", "drums"], "own-fields") == [
        ("SLAPDESK_GENRE", ("rock",), ("rock", "drums"))]
    assert preview(track, "genre", ["rock", "drums"], "merge") == [
        ("SLAPDESK_GENRE", ("rock",), ("rock", "drums")),
        ("GENRE", ("Rock", "Jazz"), ("Rock", "Jazz", "drums"))]
    assert preview(track, "genre", ["rock", "drums"], "fill-empty") == [
        ("SLAPDESK_GENRE", ("rock",), ("rock", "drums"))]
    assert preview(_track((), ()), "genre", ["drums"], "fill-empty") == [
        ("SLAPDESK_GENRE", (), ("drums",)), ("GENRE", (), ("drums",))]


def test_already_has_looks_where_the_policy_writes() -> None:
    track = _track(("rock",), ("Jazz",))
    assert already_has(track, "genre", "Rock", "own-fields")
    assert not already_has(track, "genre", "drums", "own-fields")
    assert not already_has(track, "genre", "rock", "replace")  # GENRE lacks it
    assert already_has(track, "genre", "rock", "fill-empty")  # GENRE is filled: left alone


def test_problem_tracks_are_listed_with_reasons_and_without_proposals(tmp_path: Path) -> None:
    path = write_review_library(tmp_path / "lib.sqlite", 100)
    conn = sqlite3.connect(path)
    problems = track_problems(conn)
    assert problems == {25: "not a readable audio file", 50: "silent: nothing to tag",
                        75: "not a readable audio file", 100: "silent: nothing to tag"}
    assert track_problems(conn, [24, 25, 26]) == {25: "not a readable audio file"}
    review = {t.track_id: t for t in read_review(conn, "genre")}
    assert len(review) == 100
    assert review[50].terms == () and review[50].problem == "silent: nothing to tag"
    assert len(review[51].terms) == 5 and review[51].problem == ""
    assert review[51].name == "00051.flac" and review[51].folder == "/music/Field Recordings"
    assert review[51].format == "FLAC"
    assert [t.track_id for t in read_review(conn, "genre", [3, 50, 999])] == [3, 50]
    assert review[3].fields["slapdesk_genre"] == (review[3].terms[0].tag,)
