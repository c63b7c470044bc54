"""The musicnn port against stored outputs of the original TensorFlow model (no TF needed).

tests/data/musicnn_reference.npz is written by tools/check_musicnn_port.py --write-reference:
two log-mel patches (piano-like notes, a drum pattern) and what TF musicnn computed from them,
plus librosa's log-mel of a closed-form probe signal.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.audio import LogMel
from engine.config import AudioEncoderCfg, SlapCfg
from engine.towers import build_audio_encoder
from engine.towers.musicnn import (
    LAYERS,
    MusicnnEncoder,
    musicnn_frontend_cfg,
    resolve_weights,
    split_patches,
    tag_names,
)

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "musicnn_reference.npz"
MODELS = ("msd_musicnn", "mtt_musicnn")


def _weights_or_skip(name: str) -> str:
    try:
        resolve_weights(f"packaged:{name}")
    except FileNotFoundError:
        pytest.skip(f"converted musicnn weights {name} absent (run tools/convert_musicnn.py)")
    return f"packaged:{name}"


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    return dict(np.load(REFERENCE))


@pytest.mark.parametrize("name", MODELS)
def test_port_matches_tensorflow_reference(name: str, reference: dict[str, np.ndarray]) -> None:
    net = MusicnnEncoder(weights=_weights_or_skip(name))
    mel = torch.from_numpy(reference["mel"].astype(np.float32))  # [2, 96, 187]
    with torch.inference_mode():
        out = net.features(mel)
    for key in ("tags", "penultimate", "mean_pool"):
        np.testing.assert_allclose(out[key].numpy(), reference[f"{name}/{key}"], rtol=0, atol=1e-4)
    # max_pool values reach ~160: float32 summation order differs, so compare relative to scale.
    ref_max = reference[f"{name}/max_pool"]
    assert np.abs(out["max_pool"].numpy() - ref_max).max() < 1e-5 * np.abs(ref_max).max()


def test_tags_are_sensible_for_drums_and_piano(reference: dict[str, np.ndarray]) -> None:
    net = MusicnnEncoder(weights=_weights_or_skip("mtt_musicnn"), layer="tags")
    with torch.inference_mode():
        tags = net(torch.from_numpy(reference["mel"].astype(np.float32))).numpy()
    names = tag_names("packaged:mtt_musicnn")
    piano_top = [names[i] for i in np.argsort(-tags[0])[:3]]
    drum_top = [names[i] for i in np.argsort(-tags[1])[:5]]
    assert "piano" in piano_top
    assert {"drums", "beat"} <= set(drum_top)


def test_logmel_matches_librosa_front_end(reference: dict[str, np.ndarray]) -> None:
    # The same closed-form probe as tools/check_musicnn_port.frontend_probe.
    t = np.arange(3 * 16_000) / 16_000
    chirp = np.sin(2 * np.pi * (100 * t + 600 * t**2))
    probe = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.1 * np.sin(2 * np.pi * 1250 * t) + 0.2 * chirp
    with torch.inference_mode():
        mel = LogMel(musicnn_frontend_cfg())(torch.from_numpy(probe.astype(np.float32))[None])
    assert mel.shape == (1, 96, 188)
    expected = reference["probe_librosa_mel"]  # frames 60..91
    np.testing.assert_allclose(mel[0, :, 60:92].numpy(), expected, rtol=0, atol=1e-4)


@pytest.mark.parametrize(
    ("layer", "dim"),
    [("penultimate", 200), ("pooled", 1506), ("max_pool", 753), ("pooled+penultimate", 1706)],
)
def test_registry_builds_tower_with_out_dim(layer: str, dim: int) -> None:
    # Short patches keep the test quick; the released models use 187 frames.
    params = {"layer": layer, "weights": None, "patch_frames": 32}
    tower = build_audio_encoder(
        AudioEncoderCfg(name="musicnn", params=params), musicnn_frontend_cfg()
    )
    assert tower.out_dim == dim
    mel = torch.randn(2, 96, 96)  # three patches per clip, averaged
    with torch.inference_mode():
        assert tower(mel).shape == (2, dim)
    assert set(layer.split("+")) <= set(LAYERS)
    with pytest.raises(ValueError, match="unknown musicnn layer"):
        MusicnnEncoder(layer="penultimate+nonsense", weights=None)


def test_wrong_front_end_is_refused_for_pretrained_weights() -> None:
    cfg = AudioEncoderCfg(name="musicnn", params={"weights": "packaged:msd_musicnn"})
    with pytest.raises(ValueError, match="hop_length"):
        build_audio_encoder(cfg, musicnn_frontend_cfg(hop_length=160))


def test_split_patches_covers_the_clip_deterministically() -> None:
    mel = torch.arange(626, dtype=torch.float32).expand(1, 2, 626)
    patches = split_patches(mel, 187)
    assert patches.shape == (1, 3, 2, 187)
    assert [int(p[0, 0]) for p in patches[0]] == [0, 220, 439]  # evenly spaced, end reached
    assert int(patches[0, -1, 0, -1]) == 625
    short = split_patches(torch.arange(100, dtype=torch.float32).expand(1, 2, 100), 187)
    assert short.shape == (1, 1, 2, 187) and int(short[0, 0, 0, 100]) == 0  # repeat-padded
    assert split_patches(torch.zeros(1, 2, 188), 187).shape == (1, 1, 2, 187)


def test_batchnorm_stays_frozen_and_samples_stay_independent() -> None:
    torch.manual_seed(0)
    tower = MusicnnEncoder(weights=None, trainable=True, patch_frames=16)
    tower.train()
    bns = [m for m in tower.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert len(bns) == 11 and not any(m.training for m in bns)
    before = bns[0].running_mean.clone()
    mel = torch.randn(3, 96, 16)
    alone = tower(mel[:1])
    together = tower(mel)
    torch.testing.assert_close(alone[0], together[0])  # no batch statistics
    together.sum().backward()
    assert tower.dense.weight.grad is not None
    assert torch.equal(bns[0].running_mean, before)


def test_init_from_accepts_a_converted_file() -> None:
    path = resolve_weights(_weights_or_skip("mtt_musicnn"))
    cfg = AudioEncoderCfg(name="musicnn", params={"weights": None}, init_from=str(path))
    tower = build_audio_encoder(cfg, musicnn_frontend_cfg())
    reference = MusicnnEncoder(weights="packaged:mtt_musicnn")
    assert torch.equal(tower.timbral74.conv.weight, reference.timbral74.conv.weight)
    assert torch.equal(tower.dense_bn.running_var, reference.dense_bn.running_var)


def test_frozen_by_default() -> None:
    tower = MusicnnEncoder(weights=None)
    assert not any(p.requires_grad for p in tower.parameters())


def test_default_musicnn_model_config() -> None:
    cfg = SlapCfg.from_name("default-musicnn")
    assert cfg.audio.name == "musicnn"
    assert cfg.frontend == musicnn_frontend_cfg(
        clip_seconds=cfg.frontend.clip_seconds, n_windows=cfg.frontend.n_windows
    )
    assert cfg.text.source == "packaged:minilm"
    _weights_or_skip("msd_musicnn")
    tower = build_audio_encoder(cfg.audio, cfg.frontend)
    assert tower.out_dim == 1706  # pooled (1,506) + penultimate (200)
    assert not any(p.requires_grad for p in tower.parameters())
