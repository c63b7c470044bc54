"""Training captions composed from a track's own tags."""

from __future__ import annotations

from slapdesk.library.jobs.tag_captions import clean_tags, compose_captions


def test_captions_from_tags() -> None:
    tags = clean_tags(
        {
            "genre": ["Jazz", "jazz", "Bebop"],
            "mood": "Melancholic",
            "artist": "Chet Baker",
            "year": "1954-03-01",
            "bpm": "72.0",
            "comment": "http://example.com",
        }
    )
    assert tags.genres == ("Jazz", "Bebop")
    assert tags.comment == ""  # a URL is no description
    captions = compose_captions(tags, key="/music/a.mp3", limit=20)
    assert "a melancholic jazz and bebop song" in captions
    assert "slow jazz and bebop at 72 BPM" in captions
    assert "1950s jazz and bebop" in captions
    assert "a melancholic jazz and bebop track by Chet Baker from the 1950s" in captions
    assert len(set(captions)) == len(captions)
    assert len(compose_captions(tags, key="/music/a.mp3")) == 8
    # Artist / album / year alone say nothing about the sound.
    assert compose_captions(clean_tags({"artist": "X", "year": "2001"})) == []
    assert compose_captions(clean_tags({"comment": "dreamy synth pads"})) == ["dreamy synth pads"]
    assert clean_tags({"comment": "00000A2F 00000B11 0000C3D2 00001F2A"}).comment == ""


def test_a_tag_string_splits_on_semicolons_and_nul() -> None:
    tags = clean_tags({"genre": "Rock; Pop\x00rock", "mood": ["Calm", "calm"], "year": 1987})
    assert tags.genres == ("Rock", "Pop")
    assert tags.moods == ("calm",)
    assert tags.year == "1987"
    assert compose_captions(tags, limit=99)[:3] == ["rock and pop music", "a rock and pop track",
                                                    "calm music"]
