"""A model bundle reads only its own files; import refuses links and loads the copy first."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from engine.bundle import BundleError, load_bundle, read_bundle_info, save_bundle
from engine.config import AudioEncoderCfg, SlapCfg
from engine.model import build_model
from engine.towers.musicnn import musicnn_frontend_cfg
from slapdesk import cli


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("SLAPDESK_CONFIG", str(tmp_path / "cfg"))
    return tmp_path


def _copy(bundle: Path, folder: Path) -> Path:
    shutil.copytree(bundle, folder)
    return folder


def _edit_config(folder: Path, edit) -> None:
    config = json.loads((folder / "config.json").read_text())
    edit(config)
    (folder / "config.json").write_text(json.dumps(config))


def _models(home: Path, *args: str) -> int:
    return cli.main(["--library", str(home / "library.sqlite"), "models", *args])


def _imported(home: Path) -> list[str]:
    folder = home / "models"  # beside the library file
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_import_refuses_a_symlink_inside_the_bundle(tiny_bundle, home: Path, capsys) -> None:
    secret = home / "secret.txt"
    secret.write_text("not for a model bundle")
    bundle = _copy(tiny_bundle, home / "linked")
    (bundle / "model_card.md").unlink()
    (bundle / "model_card.md").symlink_to(secret)
    assert _models(home, "import", str(bundle)) == 2
    assert "model_card.md is a symbolic link" in _one_line(capsys.readouterr().err)
    assert _imported(home) == []  # nothing listed, no hidden half-copy either


def test_import_loads_the_bundle_before_listing_it(tiny_bundle, home: Path, capsys) -> None:
    bundle = _copy(tiny_bundle, home / "damaged")
    weights = bundle / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-64])  # a valid config, a cut weights file
    assert _models(home, "import", str(bundle)) == 2
    assert "damaged" in _one_line(capsys.readouterr().err)
    assert _imported(home) == []
    assert _models(home, "import", str(tiny_bundle), "--name", "tiny2") == 0
    assert _imported(home) == ["tiny2"]


@pytest.mark.parametrize("where", ["absolute", "relative"])
def test_weights_outside_the_bundle_are_refused(tiny_bundle, home: Path, capsys,
                                                where: str) -> None:  # fmt: skip
    outside = home / "elsewhere.safetensors"
    outside.write_bytes(b"\0" * 64)
    spec = str(outside) if where == "absolute" else "../elsewhere.safetensors"
    bundle = _copy(tiny_bundle, home / "reaching")
    _edit_config(bundle, lambda c: c["model"]["audio"]["params"].update(weights=spec))
    with pytest.raises(BundleError, match="outside the bundle folder"):
        read_bundle_info(bundle)
    assert _models(home, "use", str(bundle)) == 2
    assert "lie outside the bundle folder" in _one_line(capsys.readouterr().err)
    assert _models(home, "import", str(bundle)) == 2
    capsys.readouterr()
    assert _imported(home) == []


def test_text_source_outside_the_bundle_is_refused(tiny_bundle, home: Path) -> None:
    bundle = _copy(tiny_bundle, home / "text")
    def edit(config: dict) -> None:
        config["model"]["text"].update(source=str(home), random_init=None)
    _edit_config(bundle, edit)
    with pytest.raises(BundleError, match="text encoder source"):
        read_bundle_info(bundle)


@pytest.fixture(scope="module")
def musicnn_bundle(tmp_path_factory) -> Path:
    """A bundle whose audio tower reads its own weights file (musicnn, random weights)."""
    import torch

    torch.manual_seed(0)
    base = SlapCfg.from_name("slap_test")
    cfg = dataclasses.replace(
        base,
        frontend=musicnn_frontend_cfg(clip_seconds=1.0, n_windows=1),
        audio=AudioEncoderCfg("musicnn", {"weights": None, "layer": "penultimate"}),
    )
    folder = tmp_path_factory.mktemp("musicnn") / "bundle"
    save_bundle(build_model(cfg), folder, "# test\n")
    return folder


def test_unreadable_weights_file_is_one_clear_line(musicnn_bundle, home: Path, capsys) -> None:
    bundle = _copy(musicnn_bundle, home / "own-weights")
    (bundle / "audio.safetensors").write_bytes(b"this is not a safetensors file")
    _edit_config(bundle, lambda c: c["model"]["audio"]["params"].update(
        weights="audio.safetensors"))
    with pytest.raises(BundleError, match="cannot build the model"):
        load_bundle(bundle, device="cpu", with_target=False)
    assert _models(home, "use", str(bundle)) == 2
    line = _one_line(capsys.readouterr().err)
    assert "config.json: cannot build the model" in line and "SafetensorError" not in line
