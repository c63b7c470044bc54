"""Teacher captions: every tag has wordings, grounded labels win, thresholds hit their target."""

import json
from pathlib import Path

import numpy as np

from tools.distill.compose import choose_threshold, compose_row, confident, consistent
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
