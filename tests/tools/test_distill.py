"""Teacher captions: every tag has wordings, grounded labels win, thresholds hit their target."""

import json
from pathlib import Path

import numpy as np

from tools.distill.compose import (
    choose_threshold,
    compose_row,
    confident,
    consistent,
    per_tag_thresholds,
)
from tools.distill.wording import CONCEPTS, concept

TAGS = {
    t: json.loads(Path(f"resources/models/musicnn/{t}_musicnn.json").read_text("utf-8"))["tags"]
    for t in ("msd", "mtt")
}


def test_every_teacher_tag_has_a_concept_with_wordings():
    for names in TAGS.values():
        for tag in names:
            assert concept(tag) in CONCEPTS, tag
    assert concept("no voice") == concept("instrumental") == "instrumental"
    assert concept("heavy metal") == "metal"


def test_confident_ranks_relative_to_each_teachers_threshold_and_dedupes():
    names = {"msd": ["metal", "heavy metal", "sad"], "mtt": ["guitar", "no vocals", "slow"]}
    probs = {"msd": np.array([0.5, 0.6, 0.1]), "mtt": np.array([0.9, 0.35, 0.2])}
    got = confident(probs, names, {"msd": 0.3, "mtt": 0.3})
    assert got == ["guitar", "metal", "instrumental"]


def test_grounded_labels_win_over_teachers():
    generated = {"style": "jazz", "instrument_families": ["piano", "bass", "drums"]}
    kept = consistent(["rock", "guitar", "piano", "sad", "female vocals", "instrumental"],
                      generated)
    assert kept == ["piano", "sad", "instrumental"]
    assert consistent(["slow", "fast"], {"tempo_bpm": 140}) == ["fast"]
    sample = {"instrument_family": "drums"}
    assert consistent(["techno", "beats", "piano"], sample) == ["techno", "beats"]
    soundtrack = {"kind": "game soundtrack"}
    assert consistent(["metal", "guitar", "male vocals"], soundtrack) == [
        "metal", "guitar", "male vocals"]


def test_compose_row_keeps_grounded_captions_first_and_is_deterministic():
    row = {"audio": "a.flac", "caption": "music from the video game X",
           "captions": ["music from the video game X", "X game soundtrack", "video game music"],
           "labels": {"kind": "game soundtrack"}}
    a = compose_row(row, ["metal", "fast", "guitar"])
    assert a == compose_row(row, ["metal", "fast", "guitar"])
    assert a["captions"][:2] == ["music from the video game X", "X game soundtrack"]
    assert len(a["captions"]) == 5
    assert a["captions"][4].startswith("music from the video game X: ")
    assert compose_row(row, [])["captions"] == row["captions"][:2]


def test_choose_threshold_is_the_lowest_reaching_the_target():
    probs = np.linspace(0, 1, 100)[:, None]
    truth = (probs > 0.4)  # every tag above 0.4 is right, below is wrong
    chosen = choose_threshold(probs, truth, target=0.9)
    assert chosen["threshold"] == 0.35
    assert next(c for c in chosen["curve"] if c["threshold"] == 0.35)["precision"] >= 0.9


def test_per_tag_thresholds_fit_each_well_checked_tag_and_skip_the_rest():
    rng = np.random.default_rng(0)
    probs = rng.uniform(0, 1, 300)
    tags = np.repeat([0, 1, 2], 100)
    # tag 0 is right above 0.5; tag 1 is never right; tag 2 has too few true pairs
    truth = np.where(tags == 0, probs > 0.5, False) | ((tags == 2) & (np.arange(300) < 205))
    chosen = per_tag_thresholds(probs, truth, tags, ["a", "b", "c"], target=0.9)
    assert set(chosen) == {"a"}
    assert 0.4 <= chosen["a"]["threshold"] <= 0.5
    assert chosen["a"]["precision"] >= 0.9
    truth[100:150] = True  # tag 1 now has true pairs, but at random: never precise enough
    assert per_tag_thresholds(probs, truth, tags, ["a", "b", "c"], 0.9)["b"]["threshold"] > 1


def test_confident_uses_a_tags_own_threshold_before_its_teachers():
    names = {"msd": ["rock", "sad"], "mtt": ["drums", "piano"]}
    probs = {"msd": np.array([0.2, 0.2]), "mtt": np.array([0.1, 0.1])}
    limits = {"msd": {"*": 0.15, "sad": 0.5}, "mtt": {"*": 0.3, "drums": 0.05}}
    assert confident(probs, names, limits) == ["drums", "rock"]


def test_generated_rows_keep_their_captions_and_get_one_teacher_caption():
    row = {"audio": "g.flac", "caption": "a jazz trio", "captions": ["a jazz trio", "jazz, piano",
                                                                     "piano jazz at 90 BPM"],
           "labels": {"style": "jazz", "instrument_families": ["piano", "drums"]}}
    two = compose_row(row, ["piano", "drums", "rock"])
    assert two["captions"][:3] == ["a jazz trio", "jazz, piano", "piano jazz at 90 BPM"]
    assert len(two["captions"]) == 4 and two["captions"][3].startswith("a jazz trio: ")
    assert compose_row(row, ["instrumental"])["captions"] == row["captions"]


def test_game_music_captions_say_soundtrack():
    row = {"audio": "w.flac", "caption": "music from the video game W", "captions": [],
           "labels": {"kind": "game soundtrack"}}
    first = compose_row(row, ["electronic", "ambient"])["captions"][1]
    assert first.endswith("game soundtrack")
