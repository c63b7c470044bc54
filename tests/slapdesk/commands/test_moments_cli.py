"""Find the moment: in a track of piano, then drums, then piano, "drums" points at the drums."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from slapdesk.cli import main
from slapdesk.library.demo.audio_files import make_track
from slapdesk.resources import resource_path
from tests.slapdesk.sounds import SR, drum_loop, piano_chords

SEGMENT = 12.0  # seconds of each part: piano 0-12, drums 12-24, piano 24-36


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    music = tmp_path / "music"
    music.mkdir()
    piano, drums = piano_chords(SEGMENT), drum_loop(SEGMENT)
    make_track(music / "mixed", "flac", samples=np.concatenate([piano, drums, piano]),
               sample_rate=SR, tags={"title": "Mixed"})
    make_track(music / "ballad", "flac", samples=piano_chords(3 * SEGMENT), sample_rate=SR,
               tags={"title": "Ballad"})
    lib = tmp_path / "lib.sqlite"
    assert main(["--library", str(lib), "models", "use",
                 str(resource_path("models", "default"))]) == 0
    assert main(["--library", str(lib), "scan", str(music)]) == 0
    assert main(["--library", str(lib), "embed", "--moments", "--device", "cpu"]) == 0
    return lib


def _search(lib: Path, capsys: pytest.CaptureFixture[str], *query: str) -> list[dict]:
    capsys.readouterr()
    assert main(["--library", str(lib), "search", "--json", "--device", "cpu", *query]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def _centre(moment: dict) -> float:
    return (moment["start"] + moment["end"]) / 2


def test_the_best_moment_falls_inside_the_right_part(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drums = _search(library, capsys, "drums")
    assert drums[0]["title"] == "Mixed"
    assert SEGMENT <= _centre(drums[0]["moments"][0]) <= 2 * SEGMENT
    piano = {r["title"]: r for r in _search(library, capsys, "a calm piano")}
    centre = _centre(piano["Mixed"]["moments"][0])
    assert not SEGMENT <= centre <= 2 * SEGMENT

    mixed_id = drums[0]["id"]
    like = _search(library, capsys, f"like:#{mixed_id}@0:18")
    assert like[0]["id"] == mixed_id
    assert SEGMENT <= _centre(like[0]["moments"][0]) <= 2 * SEGMENT

    assert main(["--library", str(library), "search", "--moments", "--device", "cpu",
                 "drums"]) == 0
    out = capsys.readouterr().out
    assert "     at 0:1" in out or "     at 0:2" in out
