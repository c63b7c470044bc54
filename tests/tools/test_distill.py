"""Teacher captions: every tag has wordings, grounded labels win, thresholds hit their target."""

import json
from pathlib import Path

import numpy as np
import pytest

from tools.distill.compose import (
    ORCHESTRAL_NOUNS,
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


def _game_row(audio: str, **labels: str) -> dict:
    return {"audio": audio, "caption": "music from the video game W",
            "captions": ["music from the video game W", "W game soundtrack",
                         "video game music (W)"],
            "labels": {"kind": "game soundtrack", **labels}}


def test_classical_game_music_is_called_orchestral_not_soundtrack():
    for audio in ("a.flac", "b.flac", "c.flac", "d.flac", "e.flac"):
        row = compose_row(_game_row(audio), ["ambient", "classical", "strings", "slow"])
        teacher = row["captions"][2:]
        assert len(teacher) == 3
        assert not any("soundtrack" in c for c in row["captions"]), row["captions"]
        assert any(w in teacher[0] for w in ("orchestral", "classical")), teacher[0]
        assert row["teacher_concepts"][0] == "classical"
        # grounded captions without "soundtrack" first; each word said once
        assert row["captions"][:2] == ["music from the video game W", "video game music (W)"]
        assert "classical classical" not in teacher[0] and "music music" not in teacher[0]


def test_a_classical_genre_tag_makes_the_captions_classical_without_the_teachers():
    row = compose_row(_game_row("r.flac", genre="Romantic Classical"), ["ambient", "slow"])
    assert row["teacher_concepts"] == ["classical", "ambient", "slow"]
    assert not any("soundtrack" in c for c in row["captions"][2:])
    assert compose_row(_game_row("r.flac", genre="Thrash Metal"),
                       ["ambient"])["captions"][2].endswith("game soundtrack")
    assert any("classical" in c or "orchestral" in c
               for c in compose_row(_game_row("x.flac", genre="Orchestral"), [])["captions"])


def test_generated_classical_rows_keep_their_own_captions():
    row = {"audio": "g.flac", "caption": "a classical string quartet", "captions": [],
           "labels": {"style": "classical", "instrument_families": ["strings"]}}
    out = compose_row(row, ["classical", "strings", "slow"])
    assert out["captions"][0] == "a classical string quartet"
    assert out["teacher_concepts"] == ["strings", "slow"]  # genres stay the row's own


def test_captions_command_writes_weights_the_trainer_reads(tmp_path: Path, monkeypatch) -> None:
    import tools.distill.__main__ as cli
    from engine.data import read_manifest
    from tools.distill.teachers import TeacherTags

    rows = [_game_row(f"{name}.flac") for name in ("a", "b")]
    for row in rows:
        (tmp_path / row["audio"]).write_bytes(b"x")
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    probs = {t: np.zeros((2, 50), np.float32) for t in TAGS}
    probs["mtt"][0, TAGS["mtt"].index("classical")] = 0.9  # a.flac sounds classical
    fake = TeacherTags([str(tmp_path / r["audio"]) for r in rows], probs, TAGS)
    monkeypatch.setattr(cli, "teacher_tags", lambda *a, **k: fake)
    limits = tmp_path / "t.json"
    limits.write_text(json.dumps({"msd": {"threshold": 0.5}, "mtt": {"threshold": 0.5}}))
    out = tmp_path / "out.jsonl"
    assert cli.main(["captions", "--manifest", str(manifest), "--thresholds", str(limits),
                     "--out", str(out), "--weight", "3"]) == 0
    written = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["weight"] for r in written] == [3, 3]
    assert written[0]["teacher_concepts"] == ["classical"]
    assert not any("soundtrack" in c for c in written[0]["captions"])
    assert written[1]["teacher_concepts"] == []
    assert [c.weight for c in read_manifest(out).clips] == [3, 3]
    # Or only the clips whose captions say a concept:
    assert cli.main(["captions", "--manifest", str(manifest), "--thresholds", str(limits),
                     "--out", str(out), "--weight-concept", "classical=4"]) == 0
    assert [c.weight for c in read_manifest(out).clips] == [4, 1]
    with pytest.raises(SystemExit):
        cli.main(["captions", "--manifest", str(manifest), "--thresholds", str(limits),
                  "--out", str(out), "--weight-concept", "nonsense=4"])


def test_classical_recordings_can_drop_every_game_caption():
    row = _game_row("a.flac", genre="Classical", title="Romans")
    row["captions"].append("\"Romans\", from the W soundtrack")
    out = compose_row(row, ["strings"], classical_without_game=True)
    assert out["captions"], out
    assert not any("game" in c.lower() or "soundtrack" in c.lower() for c in out["captions"])
    assert out["captions"][0] in ORCHESTRAL_NOUNS and out["teacher_concepts"][0] == "classical"
    plain = compose_row(_game_row("b.flac"), ["ambient"], classical_without_game=True)
    assert plain["captions"][:2] == ["music from the video game W", "W game soundtrack"]
