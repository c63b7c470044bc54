"""``slapdesk-train --library`` end to end on CPU: a tiny library, two steps of the tiny model."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from engine.bundle import load_bundle
from engine.data import read_manifest, split_clips
from engine.training_checkpoint import latest_checkpoint
from slapdesk.library.demo.audio_files import make_track
from slapdesk.library.scan.scanner import ScanCfg, run_scan
from slapdesk.library.store.database import Database
from slapdesk.train import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")

FAST = ["--model", "slap_test", "--device", "cpu", "--workers", "0", "--no-progress"]
GENRES = {"piano": ("Classical", "Calm", 262.0), "bass": ("Dub", "Dark", 55.0),
          "lead": ("Techno", "Energetic", 880.0), "pad": ("Ambient", "Dreamy", 440.0)}


@pytest.fixture
def tiny_library(tmp_path: Path) -> Path:
    music = tmp_path / "music"
    music.mkdir()
    for name, (genre, mood, freq) in GENRES.items():
        make_track(music / name, "wav", freq_hz=freq, seconds=1.0,
                   tags={"title": name, "genre": genre, "mood": mood, "artist": "Demo"})
    make_track(music / "untagged", "wav", tags={"title": "no genre, no mood"})
    with Database(tmp_path / "library.sqlite") as db:
        run_scan(db, [music], cfg=ScanCfg(workers=0))
    return tmp_path / "library.sqlite"


def test_library_trains_through_a_manifest_in_the_run_folder(
    tmp_path: Path, tiny_library: Path
) -> None:
    out = tmp_path / "run"
    args = ["--library", str(tiny_library), "--steps", "2", "--batch-size", "2",
            "--val-fraction", "0", "--out", str(out), *FAST]
    assert main(args) == 0

    manifest = out / "library-manifest.jsonl"
    rows = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines()]
    assert sorted(Path(row["audio"]).stem for row in rows) == sorted(GENRES)
    (pad,) = [row["captions"] for row in rows if Path(row["audio"]).stem == "pad"]
    assert "a dreamy ambient song" in pad
    assert "ambient by Demo" in pad
    steps = [r for r in map(json.loads, (out / "metrics.jsonl").read_text().splitlines())
             if r["kind"] == "step"]
    assert [r["step"] for r in steps] == [1, 2]
    assert load_bundle(out / "bundle", device="cpu").info.cfg.name == "slap_test"
    card = (out / "bundle" / "model_card.md").read_text()
    assert "manifest library-manifest.jsonl: 4 clips" in card
    # The checkpoint names the manifest, so `--out RUN --resume` alone finds the same data.
    saved = json.loads(latest_checkpoint(out / "checkpoints").read_text())["train"]
    assert saved["manifest"] == [str(manifest)]


def test_a_missing_library_fails_with_a_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    args = ["--library", str(tmp_path / "nowhere.sqlite"), "--out", str(tmp_path / "run"), *FAST]
    with caplog.at_level(logging.ERROR):
        assert main(args) == 1
    assert "There is no library at" in caplog.text
    assert not (tmp_path / "run" / "library-manifest.jsonl").exists()


def test_the_library_cannot_be_combined_with_generated_data(tiny_library: Path) -> None:
    with pytest.raises(SystemExit, match="one or more --manifest, or --synthetic N"):
        main(["--library", str(tiny_library), "--synthetic", "8", "--out",
              str(tiny_library.parent / "run"), *FAST])


def test_auto_eval_holds_out_a_tenth_of_a_large_manifest(tmp_path: Path) -> None:
    from slapdesk.train import apply_evaluation_plan, build_parser

    manifest = tmp_path / "big.csv"
    manifest.write_text("audio,caption\n" + "".join(
        f"clip{i}.wav,a calm piano piece number {i}\n" for i in range(240)))
    ns = build_parser().parse_args(["--manifest", str(manifest), "--steps", "60", "--auto-eval"])
    apply_evaluation_plan(ns)
    assert ns.eval_every == 6
    # Exactly 24 clips held out, as the trainer splits them (a hash threshold alone varies).
    clips = read_manifest(manifest, check_files=False).clips
    train, held_out = split_clips(clips, ns.val_fraction)
    assert (len(train), len(held_out)) == (216, 24)


def test_auto_eval_on_a_small_library_trains_without_a_held_out_set(
    tmp_path: Path, tiny_library: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "run"
    args = ["--library", str(tiny_library), "--steps", "2", "--batch-size", "2",
            "--auto-eval", "--out", str(out), *FAST]
    with caplog.at_level(logging.INFO):
        assert main(args) == 0
    assert "4 clips are too few to hold some out" in caplog.text
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["kind"] for r in records] == ["step", "step"]  # all 4 tracks trained, none scored
    saved = json.loads(latest_checkpoint(out / "checkpoints").read_text())["train"]
    assert (saved["val_fraction"], saved["eval_every"]) == (0.0, 0)


def test_auto_eval_scores_generated_data_every_tenth_of_the_run(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(["--synthetic", "16", "--steps", "4", "--batch-size", "4", "--auto-eval",
                 "--out", str(out), *FAST]) == 0
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if r["kind"] == "eval"] == [1, 2, 3, 4]


def test_init_takes_a_listed_model_name(tmp_path: Path, tiny_library: Path, tiny_bundle) -> None:
    import shutil

    shutil.copytree(tiny_bundle, tmp_path / "models" / "mine")  # imported beside the library
    out = tmp_path / "run"
    args = ["--library", str(tiny_library), "--init", "mine", "--steps", "1", "--batch-size", "2",
            "--val-fraction", "0", "--out", str(out), *FAST]
    assert main(args) == 0
    saved = json.loads(latest_checkpoint(out / "checkpoints").read_text())["train"]
    assert saved["init"] == str(tmp_path / "models" / "mine")


def test_init_with_an_unknown_name_says_which_exist(
    tmp_path: Path, tiny_library: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        assert main(["--library", str(tiny_library), "--init", "nope", "--out",
                     str(tmp_path / "run"), *FAST]) == 1
    assert "--init: no model bundle named 'nope'; known:" in caplog.text


def test_the_trainer_lowers_its_priority_when_the_window_asks(tmp_path: Path):
    import os
    import subprocess
    import sys

    from slapdesk.library.jobs.training import NICE_ENV, TRAIN_NICENESS, train_environment

    assert train_environment()[NICE_ENV] == str(TRAIN_NICENESS)
    ask = ("import os; from slapdesk.train import _lower_priority; _lower_priority(); "
           "print(os.nice(0))")
    before = os.nice(0)
    for value, expected in (("10", min(before + 10, 19)), (None, before), ("x", before)):
        env = {k: v for k, v in os.environ.items() if k != NICE_ENV}
        if value is not None:
            env[NICE_ENV] = value
        done = subprocess.run([sys.executable, "-c", ask], env=env, capture_output=True,
                              text=True, check=True, cwd=Path(__file__).resolve().parents[2])
        assert int(done.stdout.strip()) == expected
