"""tools.tower: pack on CPU, train both arms, assemble bundles (all small, on CPU)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from tools.tower import pack as pack_mod
from tools.tower.assemble import assemble
from tools.tower.packfile import dequantise, load_pack, load_state, quantise, save_pack
from tools.tower.train import epoch_draws
from tools.tower.train import main as train_main

REPO = Path(__file__).resolve().parents[2]
DEFAULT = REPO / "resources" / "models" / "default"


def _write_clips(folder: Path) -> Path:
    """Four 4 s clips (tones and a noise burst) and a manifest; the last one weighs 2."""
    rate = 16_000
    t = np.arange(4 * rate) / rate
    sounds = {
        "low.wav": 0.3 * np.sin(2 * np.pi * 110 * t),
        "high.wav": 0.3 * np.sin(2 * np.pi * 1760 * t),
        "beat.wav": 0.3 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 2 * t) > 0),
        "noise.wav": 0.1 * np.random.default_rng(0).standard_normal(t.size),
    }
    lines = []
    for i, (name, samples) in enumerate(sounds.items()):
        soundfile.write(folder / name, samples.astype(np.float32), rate)
        weight = ', "weight": 2' if i == 3 else ""
        lines.append(f'{{"audio": "{name}", "captions": ["{name} one", "{name} two"]{weight}}}')
    manifest = folder / "train.jsonl"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return manifest


@pytest.fixture(scope="module")
def packed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    folder = tmp_path_factory.mktemp("tower")
    manifest = _write_clips(folder)
    built = pack_mod.build(str(DEFAULT), [str(manifest)], None)
    save_pack(built, folder / "pack")
    return folder, built


def test_quantised_mels_come_back_within_half_a_step() -> None:
    mels = np.random.default_rng(1).normal(2.0, 1.0, (3, 96, 188)).astype(np.float32)
    codes, low, high = quantise(mels)
    assert codes.dtype == np.uint8 and (low, high) == (float(mels.min()), float(mels.max()))
    step = (high - low) / 255
    assert np.abs(dequantise(codes, low, high) - mels).max() <= step / 2 + 1e-6


def test_pack_holds_each_clip_window_captions_and_weight(packed) -> None:
    folder, built = packed
    back = load_pack(folder / "pack")
    assert back.mels.shape == (4, 96, built.mels.shape[2]) and built.mels.shape[2] >= 187
    assert back.weights.tolist() == [1, 1, 1, 2]
    assert back.caption_offsets.tolist() == [0, 2, 4, 6, 8]
    assert len(back.text_features) == 8 and back.text_features.shape[1] == 384
    assert not any(k.startswith("text_encoder.") for k in back.init_state)
    assert np.abs(back.mels - built.mels).max() < 0.05


def test_a_clip_is_drawn_as_often_as_its_weight(packed) -> None:
    _, built = packed
    assert epoch_draws(built, seed=3, epoch=0).tolist() == [3, 2, 1, 3, 0]
    assert epoch_draws(built, seed=3, epoch=1).tolist() == [1, 3, 0, 2, 3]  # a new order
    assert epoch_draws(built, seed=3, epoch=0).tolist() == [3, 2, 1, 3, 0]  # repeatable


def test_frozen_arm_keeps_the_tower_and_unfrozen_arm_trains_it(packed, tmp_path: Path) -> None:
    folder, _ = packed
    out = tmp_path / "run"
    code = train_main([str(folder / "pack"), "--out", str(out), "--steps", "3", "--batch", "4",
                       "--warmup", "1", "--tower-lr", "1e-3", "--device", "cpu",
                       "--log-every", "1"])
    assert code == 0
    init = load_state(folder / "pack", "init")
    frozen, unfrozen = load_state(out, "frozen-s0"), load_state(out, "unfrozen-s0")
    tower = [k for k in init if k.startswith("audio_encoder.") and "bn" not in k]
    assert tower and all(np.array_equal(frozen[k], init[k]) for k in tower)
    assert any(not np.array_equal(unfrozen[k], init[k]) for k in tower)
    head = "audio_projector.net.0.weight" if "audio_projector.net.0.weight" in init else next(
        k for k in init if k.startswith("audio_projector."))
    assert not np.array_equal(frozen[head], init[head])
    assert (out / "unfrozen-s0.jsonl").read_text().count("\n") == 3


def test_assembled_bundle_embeds_and_differs_from_the_start(packed, tmp_path: Path) -> None:
    from engine.bundle import load_bundle, read_bundle_info

    folder, _ = packed
    out = tmp_path / "run"
    train_main([str(folder / "pack"), "--out", str(out), "--arms", "unfrozen", "--steps", "2",
                "--batch", "4", "--warmup", "1", "--device", "cpu"])
    model_id = assemble(out, "unfrozen-s0", str(DEFAULT), tmp_path / "bundle")
    assert model_id != read_bundle_info(DEFAULT).model_id
    model = load_bundle(tmp_path / "bundle", device="cpu", with_target=False).model
    with torch.no_grad():
        vector = model.encode_audio(torch.zeros(1, 48_000), normalize=True)
    assert vector.shape == (1, 512) and torch.isfinite(vector).all()


def test_the_gpu_half_imports_neither_pyav_nor_the_text_model() -> None:
    code = ("import sys, tools.tower.train, tools.tower.packfile;"
            "print(sorted(m for m in ('av', 'soxr', 'transformers', 'slapdesk') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "[]"
