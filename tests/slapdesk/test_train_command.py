"""``slapdesk-train --library`` end to end on CPU: a tiny library, two steps of the tiny model."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from engine.bundle import load_bundle
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
