"""``slapdesk embed --moments`` loads the model once, for audio only (no text tower)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.inference import Embedder
from slapdesk.cli import main


def test_embed_and_its_moment_pass_share_one_audio_only_load(
    tmp_path: Path, music_folder: Path, tiny_bundle: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name))
    loads: list[bool] = []
    real = Embedder.from_bundle.__func__  # type: ignore[attr-defined]

    def counting(cls: type[Embedder], *args: object, **kwargs: object) -> Embedder:
        embedder = real(cls, *args, **kwargs)
        loads.append(embedder.audio_only)
        return embedder

    monkeypatch.setattr(Embedder, "from_bundle", classmethod(counting))
    lib = str(tmp_path / "lib.sqlite")
    assert main(["--library", lib, "models", "use", str(tiny_bundle)]) == 0
    assert main(["--library", lib, "scan", str(music_folder)]) == 0
    capsys.readouterr()
    assert main(["--library", lib, "embed", "--moments", "--json", "--device", "cpu"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["embedded"] == 8 and lines[1]["moment_tracks"] == 8
    assert loads == [True]
