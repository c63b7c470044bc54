"""``slapdesk audit`` on generated audio: planted genre errors rank above correct tags."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from slapdesk.cli import main
from slapdesk.library.demo.audio_files import make_track
from slapdesk.library.demo.synth import STYLES, render
from slapdesk.resources import resource_path

SR = 16_000
STYLE_NAMES = ("classical", "electronic", "rock")
# (style index, track index) -> the wrong genre written into that file.
PLANTED = {(0, 1): "rock", (1, 2): "classical"}


@pytest.fixture
def planted_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, set[str]]:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    music = tmp_path / "music"
    music.mkdir()
    wrong = set()
    for s, name in enumerate(STYLE_NAMES):
        for k in range(4):
            rng = np.random.default_rng([s, k])
            samples = render(STYLES[name], STYLES[name].tempo[0], 9.0, rng, SR)
            genre = PLANTED.get((s, k), name)
            title = f"{name} {k}"
            make_track(music / title.replace(" ", "_"), "flac", samples=samples,
                       sample_rate=SR, tags={"title": title, "genre": genre})
            if genre != name:
                wrong.add(title)
    library = tmp_path / "lib.sqlite"
    assert main(["--library", str(library), "models", "use",
                 str(resource_path("models", "default"))]) == 0
    assert main(["--library", str(library), "scan", "--embed", str(music)]) == 0
    return library, wrong


def test_planted_errors_rank_first_and_nothing_is_written(
    planted_library: tuple[Path, set[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    library, wrong = planted_library
    files = sorted((library.parent / "music").iterdir())
    before = [f.read_bytes() for f in files]
    capsys.readouterr()
    assert main(["--library", str(library), "audit", "--json", "--limit", "0",
                 "--device", "cpu"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 12
    assert {row["title"] for row in rows[:2]} == wrong
    by_title = {row["title"]: row for row in rows}
    assert by_title["classical 1"]["suggested"] == "classical"
    assert by_title["electronic 2"]["suggested"] == "electronic"
    assert all(row["suspicion"] > 0 for row in rows[:2])
    assert [f.read_bytes() for f in files] == before  # an audit never writes

    assert main(["--library", str(library), "audit", "--query", "title:rock",
                 "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("4 track(s) with a genre")
    assert "audio suggests" in out
