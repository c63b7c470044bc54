from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open

from engine.bundle import (
    BundleError,
    load_bundle,
    read_bundle_info,
    save_bundle,
    weights_hash,
)
from engine.config import SlapCfg
from engine.inference import Embedder

from .helpers import tiny_cfg, tiny_model

CAPTIONS = ["warm jazz piano", "heavy metal guitar riff", "a quiet string quartet"]


def _waveforms(n: int, cfg: SlapCfg, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [
        0.2 * rng.standard_normal(int(2.5 * cfg.frontend.sample_rate)).astype(np.float32)
        for _ in range(n)
    ]


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, torch.nn.Module, str]:
    model = tiny_model(seed=3)
    folder = tmp_path_factory.mktemp("bundles") / "tiny"
    model_id = save_bundle(model, folder, "# Tiny\nA test model.\n", metrics={"R@1": 0.25})
    return folder, model, model_id


def test_bundle_layout_and_config(saved: tuple[Path, torch.nn.Module, str]) -> None:
    folder, model, model_id = saved
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json",
        "model.safetensors",
        "model_card.md",
    ]
    config = json.loads((folder / "config.json").read_text())
    assert config["format_version"] == 1
    assert config["model_id"] == model_id and len(model_id) == 16
    assert config["metrics"] == {"R@1": 0.25}
    assert config["text_encoder"] == "random_init"
    assert SlapCfg.from_dict(config["model"]) == model.cfg
    assert (folder / "model_card.md").read_text() == "# Tiny\nA test model.\n"
    with safe_open(str(folder / "model.safetensors"), "pt") as handle:
        keys = set(handle.keys())
    assert keys == set(model.online_state_dict())
    assert not any(k.startswith("target.") for k in keys)
    assert not list(folder.parent.glob(".tiny.*"))  # no temp folder left behind
    info = read_bundle_info(folder)
    assert info.model_id == model_id and info.metrics == {"R@1": 0.25}


def test_round_trip_reproduces_embeddings_exactly(
    saved: tuple[Path, torch.nn.Module, str],
) -> None:
    folder, model, model_id = saved
    original = Embedder(model, device="cpu")
    loaded = Embedder.from_bundle(folder, device="cpu")
    assert loaded.model_id == original.model_id == model_id
    assert loaded.dim == original.dim == 16
    waves = _waveforms(3, model.cfg)
    a, b = original.embed_audio(waves), loaded.embed_audio(waves)
    assert np.array_equal(a.tracks, b.tracks)
    assert all(np.array_equal(x, y) for x, y in zip(a.windows, b.windows, strict=True))
    assert np.array_equal(original.embed_text(CAPTIONS), loaded.embed_text(CAPTIONS))
    assert loaded.model.target is None  # inference builds no EMA targets


def test_loaded_bundle_can_train_on(saved: tuple[Path, torch.nn.Module, str]) -> None:
    folder = saved[0]
    bundle = load_bundle(folder, device="cpu")
    assert bundle.model.target is not None
    target = dict(bundle.model.target["audio_encoder"].state_dict())
    for key, value in bundle.model.audio_encoder.state_dict().items():
        assert torch.equal(target[key], value)


def test_saving_again_replaces_the_bundle(
    saved: tuple[Path, torch.nn.Module, str], tmp_path: Path
) -> None:
    _, model, model_id = saved
    folder = tmp_path / "b"
    save_bundle(model, folder, "first")
    other = tiny_model(seed=9)
    new_id = save_bundle(other, folder, "second")
    assert new_id != model_id
    assert read_bundle_info(folder).model_id == new_id
    assert (folder / "model_card.md").read_text() == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]
    precious = tmp_path / "my music"
    precious.mkdir()
    (precious / "song.mp3").write_bytes(b"x")
    with pytest.raises(BundleError, match="not a model bundle; not overwriting"):
        save_bundle(model, precious, "card")
    assert (precious / "song.mp3").read_bytes() == b"x"


def _copy(folder: Path, dest: Path) -> Path:
    dest.mkdir()
    for item in folder.iterdir():
        (dest / item.name).write_bytes(item.read_bytes())
    return dest


def test_truncated_weights_give_a_clear_error(
    saved: tuple[Path, torch.nn.Module, str], tmp_path: Path
) -> None:
    folder = _copy(saved[0], tmp_path / "b")
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(BundleError, match=r"model\.safetensors is damaged or truncated"):
        load_bundle(folder, device="cpu")


def test_missing_and_bad_files_are_named(
    saved: tuple[Path, torch.nn.Module, str], tmp_path: Path
) -> None:
    folder = _copy(saved[0], tmp_path / "b")
    (folder / "model.safetensors").unlink()
    with pytest.raises(BundleError, match=r"model\.safetensors is missing"):
        load_bundle(folder, device="cpu")
    with pytest.raises(BundleError, match="does not exist"):
        load_bundle(tmp_path / "nowhere")
    folder = _copy(saved[0], tmp_path / "c")
    (folder / "config.json").write_text("{not json")
    with pytest.raises(BundleError, match=r"config\.json is not valid JSON"):
        load_bundle(folder)
    config = json.loads((saved[0] / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps(dict(config, format_version=99)))
    with pytest.raises(BundleError, match="format_version 99 is not supported"):
        load_bundle(folder)


def test_weights_that_do_not_fit_the_config_are_refused(
    saved: tuple[Path, torch.nn.Module, str], tmp_path: Path
) -> None:
    folder = _copy(saved[0], tmp_path / "b")
    config = json.loads((folder / "config.json").read_text())
    config["model"]["head"]["predictor_hidden"] = 48
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(BundleError, match=r"does not fit config\.json: .*shapes differ"):
        load_bundle(folder, device="cpu")


def test_changed_weights_do_not_match_the_model_id(
    saved: tuple[Path, torch.nn.Module, str], tmp_path: Path
) -> None:
    folder = _copy(saved[0], tmp_path / "b")
    changed = tiny_model(seed=11)
    save_bundle(changed, tmp_path / "other", "x")
    (folder / "model.safetensors").write_bytes(
        (tmp_path / "other" / "model.safetensors").read_bytes()
    )
    with pytest.raises(BundleError, match="does not match the model_id"):
        load_bundle(folder, device="cpu")


def test_weights_hash_is_stable_and_sensitive() -> None:
    state = {"b": torch.zeros(2), "a": torch.arange(3.0)}
    assert weights_hash(state) == weights_hash(dict(reversed(state.items())))
    assert weights_hash(state) != weights_hash({"b": torch.zeros(2), "a": torch.arange(3.0) + 1})
    cfg = tiny_cfg()
    assert weights_hash(state, cfg) != weights_hash(state)


def test_tied_weights_are_saved_once(tmp_path: Path) -> None:
    model = tiny_model(seed=2)
    # Tie two same-shaped tensors, as language models tie embeddings.
    model.text_predictor[3].weight = model.audio_predictor[3].weight
    model_id = save_bundle(model, tmp_path / "tied", "tied")
    with safe_open(str(tmp_path / "tied" / "model.safetensors"), "pt") as handle:
        assert len(list(handle.keys())) == len(model.online_state_dict()) - 1
    info = read_bundle_info(tmp_path / "tied")
    assert info.model_id == model_id
    bundle = load_bundle(tmp_path / "tied", device="cpu")  # aliases restored, id matches
    assert torch.equal(bundle.model.text_predictor[3].weight, model.audio_predictor[3].weight)


def test_text_tower_from_a_local_folder_travels_with_the_bundle(tmp_path: Path) -> None:
    import dataclasses

    from engine.towers import build_text_encoder

    hf_folder = tmp_path / "my-bert"
    tower = build_text_encoder(tiny_cfg().text)
    tower.model.save_pretrained(hf_folder)
    tower.tokenizer.save_pretrained(hf_folder)
    cfg = tiny_cfg()
    cfg = dataclasses.replace(
        cfg, text=dataclasses.replace(cfg.text, source=str(hf_folder), random_init=None)
    )
    from engine.model import build_model

    torch.manual_seed(0)
    model = build_model(cfg)
    model_id = save_bundle(model, tmp_path / "bundle", "card")
    assert Embedder(model, device="cpu").model_id == model_id
    saved_files = {p.name for p in (tmp_path / "bundle" / "text_encoder").iterdir()}
    assert "config.json" in saved_files and "model.safetensors" not in saved_files
    for item in hf_folder.iterdir():  # the original folder is gone: the bundle must suffice
        item.unlink()
    hf_folder.rmdir()
    loaded = Embedder.from_bundle(tmp_path / "bundle", device="cpu")
    expected = Embedder(model, device="cpu").embed_text(CAPTIONS)
    assert np.array_equal(loaded.embed_text(CAPTIONS), expected)


def test_packaged_minilm_round_trip_without_reading_its_weights_twice(tmp_path: Path) -> None:
    import dataclasses

    from engine.config import TextEncoderCfg
    from engine.model import build_model

    cfg = dataclasses.replace(tiny_cfg(), text=TextEncoderCfg(max_length=16))  # packaged:minilm
    torch.manual_seed(0)
    model = build_model(cfg, with_target=False)
    with torch.no_grad():  # as if fine-tuned: the bundle, not the package, holds the weights
        model.text_encoder.model.embeddings.word_embeddings.weight.mul_(1.5)
    save_bundle(model, tmp_path / "b", "card")
    assert json.loads((tmp_path / "b" / "config.json").read_text())["text_encoder"] == (
        "packaged:minilm"
    )
    loaded = Embedder.from_bundle(tmp_path / "b", device="cpu")
    expected = Embedder(model, device="cpu").embed_text(CAPTIONS)
    assert np.array_equal(loaded.embed_text(CAPTIONS), expected)


def test_a_bundle_does_not_need_the_initial_audio_checkpoint(tmp_path: Path) -> None:
    import dataclasses

    from safetensors.torch import save_file

    from engine.model import build_model

    donor = tiny_model(seed=7)
    init = tmp_path / "init.safetensors"
    save_file({k: v.contiguous() for k, v in donor.audio_encoder.state_dict().items()}, init)
    cfg = tiny_cfg()
    cfg = dataclasses.replace(cfg, audio=dataclasses.replace(cfg.audio, init_from=str(init)))
    model = build_model(cfg)
    torch.testing.assert_close(model.audio_encoder.state_dict(), donor.audio_encoder.state_dict())
    model_id = save_bundle(model, tmp_path / "b", "card")
    init.unlink()
    stored = json.loads((tmp_path / "b" / "config.json").read_text())["model"]
    assert stored["audio"]["init_from"] is None
    loaded = Embedder.from_bundle(tmp_path / "b", device="cpu")
    assert loaded.model_id == model_id == Embedder(model, device="cpu").model_id
