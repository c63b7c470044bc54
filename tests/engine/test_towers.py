"""Audio towers: registry, output shapes, determinism, checkpoint initialisation."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from engine import read_state_dict
from engine.audio import LogMel, load_windows
from engine.config import AudioEncoderCfg, AudioFrontendCfg, SlapCfg
from engine.towers import (
    InitError,
    audio_encoder_names,
    build_audio_encoder,
    init_audio_encoder_from,
    register_audio_encoder,
)
from slapdesk.library.demo.audio_files import make_track

FRONTEND = AudioFrontendCfg(clip_seconds=2.0, n_windows=2)


@pytest.mark.parametrize(("name", "out_dim"), [("tiny", 32), ("cnn-small", 512)])
def test_tower_output_shape(name: str, out_dim: int) -> None:
    tower = build_audio_encoder(AudioEncoderCfg(name=name), FRONTEND).eval()
    mel = torch.randn(3, FRONTEND.n_mels, 201)
    with torch.inference_mode():
        out = tower(mel)
    assert tower.out_dim == out_dim and out.shape == (3, out_dim)
    assert torch.isfinite(out).all()


def test_tiny_tower_is_a_few_thousand_parameters() -> None:
    tower = build_audio_encoder(AudioEncoderCfg(name="tiny"), FRONTEND)
    assert 1_000 < sum(p.numel() for p in tower.parameters()) < 10_000


def test_cnn_small_eval_is_batch_independent() -> None:
    torch.manual_seed(0)
    tower = build_audio_encoder(AudioEncoderCfg(name="cnn-small"), FRONTEND).eval()
    mel = torch.randn(4, FRONTEND.n_mels, 201)
    with torch.inference_mode():
        batched = tower(mel)
        single = torch.cat([tower(mel[i : i + 1]) for i in range(4)])
        again = tower(mel)
    assert torch.equal(batched, again)
    assert torch.allclose(batched, single, atol=1e-5)


def test_same_tone_in_mp3_flac_wav_embeds_alike(tmp_path: Path) -> None:
    torch.manual_seed(0)
    cfg = AudioFrontendCfg(clip_seconds=2.0, n_windows=2)
    tower = build_audio_encoder(AudioEncoderCfg(name="cnn-small"), cfg).eval()
    logmel = LogMel(cfg)
    rng = np.random.default_rng(1)
    # A chord with a little noise: more realistic than a pure sine for lossy codecs.
    t = np.arange(3 * 44_100) / 44_100
    samples = sum(0.1 * np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6))
    samples = (samples + 0.01 * rng.standard_normal(t.size)).astype(np.float32)
    vectors = {}
    for fmt in ("mp3", "flac", "wav"):
        path = make_track(tmp_path / f"chord_{fmt}", fmt, samples=samples)
        with torch.inference_mode():
            windows = torch.from_numpy(load_windows(path, cfg))
            emb = nn.functional.normalize(tower(logmel(windows)), dim=-1).mean(0)
        vectors[fmt] = nn.functional.normalize(emb, dim=0)
    assert float(vectors["flac"] @ vectors["wav"]) > 0.999
    assert float(vectors["mp3"] @ vectors["flac"]) > 0.99
    assert float(vectors["mp3"] @ vectors["wav"]) > 0.99


def test_unknown_tower_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown audio encoder 'nope'.*cnn-small"):
        build_audio_encoder(AudioEncoderCfg(name="nope"), FRONTEND)
    assert {"tiny", "cnn-small"} <= set(audio_encoder_names())


def test_register_rejects_a_second_factory_under_one_name() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        register_audio_encoder("tiny")(lambda frontend: nn.Identity())


def test_init_from_a_prefixed_safetensors_file_reports_every_key(tmp_path: Path) -> None:
    source = build_audio_encoder(AudioEncoderCfg(name="tiny"), FRONTEND)
    state = {f"module.audio_branch.{k}": v for k, v in source.state_dict().items()}
    state["module.text_branch.weight"] = torch.zeros(2)  # other towers are not ours to judge
    path = tmp_path / "clap.safetensors"
    save_file(state, str(path))
    target = build_audio_encoder(AudioEncoderCfg(name="tiny"), FRONTEND)
    report = init_audio_encoder_from(target, path, strict=True)
    assert report.ok and report.prefix == "audio_branch."
    assert report.missing == [] and report.unexpected == [] and report.mismatched == []
    assert len(report.loaded) == len(source.state_dict())
    for key, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], value)
    # Through the config, the same file initialises the tower at build time.
    built = build_audio_encoder(AudioEncoderCfg(name="tiny", init_from=str(path)), FRONTEND)
    assert torch.equal(built.proj.weight, source.proj.weight)


def test_init_reports_mismatched_missing_and_unexpected(tmp_path: Path) -> None:
    source = build_audio_encoder(AudioEncoderCfg(name="tiny", params={"out_dim": 16}), FRONTEND)
    state = dict(source.state_dict())
    del state["convs.0.bias"]
    state["extra.weight"] = torch.zeros(1)
    path = tmp_path / "other.pt"
    torch.save(collections.OrderedDict(state), path)  # a weights-only pickle is accepted
    target = build_audio_encoder(AudioEncoderCfg(name="tiny"), FRONTEND)
    report = init_audio_encoder_from(target, path)
    assert report.missing == ["convs.0.bias"]
    assert report.unexpected == ["extra.weight"]
    assert {m[0] for m in report.mismatched} == {"proj.weight", "proj.bias"}
    assert ("proj.weight", (16, 32), (32, 32)) in report.mismatched
    with pytest.raises(InitError, match="1 missing"):
        init_audio_encoder_from(target, path, strict=True)


class _Payload:
    """An arbitrary object: unpickling it would need code execution."""


def test_a_pickle_that_needs_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "obj": _Payload()}, path)
    target = build_audio_encoder(AudioEncoderCfg(name="tiny"), FRONTEND)
    with pytest.raises(InitError, match=r"evil\.ckpt: refused.*weights_only=True"):
        init_audio_encoder_from(target, path)
    with pytest.raises(InitError, match="not found"):
        init_audio_encoder_from(target, tmp_path / "absent.safetensors")


class _RunsCode:
    """Unpickling this would call __setstate__, i.e. run code from the file."""

    ran: list[str] = []  # noqa: RUF012

    def __setstate__(self, state: dict) -> None:
        _RunsCode.ran.append("code ran")


def test_the_weights_reader_runs_no_code_and_unwraps_state_dicts(tmp_path: Path) -> None:
    path = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {"w": torch.ones(2)}, "extra": _RunsCode()}, path)
    with pytest.raises(InitError, match=r"evil\.ckpt: refused.*weights_only=True"):
        read_state_dict(path)
    assert _RunsCode.ran == []
    plain = tmp_path / "plain.pt"
    torch.save({"state_dict": {"module.w": torch.ones(2)}, "epoch": 3}, plain)
    assert list(read_state_dict(plain)) == ["w"]  # DDP's "module." wrapper stripped too
    with pytest.raises(InitError, match="not found"):
        read_state_dict(tmp_path / "missing.pt")


@pytest.mark.parametrize("name", ["slap_test", "clap_test", "default-small", "htsat-base"])
def test_model_configs_load(name: str) -> None:
    cfg = SlapCfg.from_name(name)
    assert cfg.name == name
    assert SlapCfg.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
