from __future__ import annotations

import copy
import dataclasses
from dataclasses import replace

import pytest
import torch
from torch import nn

from engine.ema import ema_update_, make_target
from engine.model import SlapModel

from .helpers import TINY_FRONTEND, TINY_HEAD, TINY_TEXT, tiny_model

CAPTIONS = [f"caption number {i} with some words" for i in range(16)]


def _batch(model: SlapModel, n: int, seed: int = 0) -> tuple[torch.Tensor, dict]:
    gen = torch.Generator().manual_seed(seed)
    wav = 0.1 * torch.randn(n, model.cfg.frontend.clip_samples, generator=gen)
    return model.frontend(wav), model.tokenize(CAPTIONS[:n])


def test_forward_returns_the_loss_and_its_terms() -> None:
    model = tiny_model()
    mel, tokens = _batch(model, 4)
    out = model(mel, tokens)
    assert out["loss"].shape == () and out["loss"].requires_grad
    for name in ("a2t", "t2a", "a2a", "t2t"):
        assert not out[name].requires_grad
    expected = 0.5 * (out["a2t"] + out["t2a"]) + 0.5 * (out["a2a"] + out["t2t"])
    assert out["loss"].item() == pytest.approx(expected.item(), abs=1e-6)
    assert out["q_audio"].shape == (4, model.dim) and out["z_text"].shape == (4, model.dim)
    # At initialisation the target equals the online encoder + projector.
    torch.testing.assert_close(out["z_audio"], model.audio_projector(model.audio_encoder(mel)))


def test_text_features_skip_the_text_towers() -> None:
    model = tiny_model()
    mel, tokens = _batch(model, 4)
    features = model.text_features(tokens)
    with_tokens = model(mel, tokens)
    with_features = model(mel, text_features=features)
    torch.testing.assert_close(with_tokens["loss"], with_features["loss"])
    torch.testing.assert_close(
        model.encode_text(tokens), model.encode_text_features(features), rtol=0, atol=0
    )


def test_audio_features_skip_the_audio_towers() -> None:
    for objective in ("slap", "clap"):
        model = tiny_model(objective)
        mel, tokens = _batch(model, 4)
        features = model.audio_encoder(mel)
        full = model(mel, tokens)
        cached = model(None, tokens, audio_features=features)
        torch.testing.assert_close(full["loss"], cached["loss"], rtol=0, atol=0)
        torch.testing.assert_close(
            model.encode_audio_mel(mel), model.encode_audio_features(features), rtol=0, atol=0
        )
    with pytest.raises(ValueError, match="mel or audio_features"):
        model(None, tokens)


def test_encoders_normalise_only_when_asked() -> None:
    model = tiny_model().eval()
    wav = torch.randn(3, model.cfg.frontend.clip_samples)
    raw = model.encode_audio(wav)
    unit = model.encode_audio(wav, normalize=True)
    assert not torch.allclose(raw.norm(dim=-1), torch.ones(3))
    torch.testing.assert_close(unit.norm(dim=-1), torch.ones(3))
    torch.testing.assert_close(unit, raw / raw.norm(dim=-1, keepdim=True))


def test_bundle_weights_exclude_the_targets() -> None:
    model = tiny_model()
    online = model.online_state_dict()
    assert online and not any(k.startswith("target.") for k in online)
    assert any(k.startswith("target.") for k in model.state_dict())
    other = tiny_model(seed=5)
    other.load_online_state_dict(online)
    for key, value in other.state_dict().items():
        source = key.removeprefix("target.") if key.startswith("target.") else key
        torch.testing.assert_close(value, model.state_dict()[source], rtol=0, atol=0)
    with pytest.raises(KeyError, match="missing"):
        other.load_online_state_dict({k: v for k, v in online.items() if "predictor" not in k})


def test_heads_have_no_batchnorm() -> None:
    model = tiny_model()
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def test_gradient_accumulation_equals_the_large_batch() -> None:
    model = tiny_model()
    mel, tokens = _batch(model, 16)

    model.zero_grad(set_to_none=True)
    model(mel, tokens)["loss"].backward()
    # The BERT pooler is unused with mean pooling: its grad stays None in both runs.
    full = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    model.zero_grad(set_to_none=True)
    for i in range(4):
        part = slice(4 * i, 4 * i + 4)
        micro = {k: v[part] for k, v in tokens.items()}
        (model(mel[part], micro)["loss"] / 4).backward()
    accumulated = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    assert accumulated.keys() == full.keys()
    assert any(n.startswith("text_encoder.") for n in full)
    assert any(n.startswith("audio_encoder.") for n in full)
    for name, grad in accumulated.items():
        assert (grad - full[name]).abs().max().item() < 1e-5, name


def test_target_has_no_gradient() -> None:
    model = tiny_model()
    mel, tokens = _batch(model, 4)
    model(mel, tokens)["loss"].backward()
    target_params = list(model.target.parameters())
    assert target_params
    assert all(not p.requires_grad and p.grad is None for p in target_params)
    assert model.audio_predictor[0].weight.grad is not None


def test_ema_moves_the_target_by_exactly_one_minus_tau() -> None:
    model = tiny_model()
    with torch.no_grad():  # make online and target differ
        for p in model.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    tau = 0.95
    model.update_target(tau)
    after = model.state_dict()
    moved = 0
    for key, value in after.items():
        if key.startswith("target."):
            online = before[key.removeprefix("target.")]
            expected = tau * before[key] + (1 - tau) * online
            torch.testing.assert_close(value, expected, rtol=0, atol=1e-6)
            moved += int(not torch.equal(value, before[key]))
        else:
            assert torch.equal(value, before[key]), key  # online untouched
    assert moved > 0


def test_ema_updates_float_buffers_and_copies_integer_ones() -> None:
    online = nn.BatchNorm1d(3)  # a module with float and integer buffers
    target = make_target(online)
    with torch.no_grad():
        online.running_mean.fill_(2.0)
        online.weight.fill_(3.0)
        online.num_batches_tracked.fill_(7)
    ema_update_(target, online, 0.9)
    torch.testing.assert_close(target.running_mean, torch.full((3,), 0.2))
    torch.testing.assert_close(target.weight, torch.full((3,), 0.9 + 0.3))
    assert int(target.num_batches_tracked) == 7
    assert not any(p.requires_grad for p in target.parameters())
    with pytest.raises(ValueError, match="tau"):
        ema_update_(target, online, 1.5)


def test_clap_forward_and_temperature() -> None:
    model = tiny_model("clap")
    mel, tokens = _batch(model, 4)
    out = model(mel, tokens)
    assert out["logit_scale"].item() == pytest.approx(1 / 0.07, rel=1e-5)
    assert out["loss"].item() == pytest.approx(0.5 * (out["a2t"] + out["t2a"]).item(), abs=1e-6)
    out["loss"].backward()
    assert model.logit_scale.grad is not None
    with torch.no_grad():
        model.logit_scale.fill_(10.0)
    assert model.scale().item() == pytest.approx(100.0)
    model.update_target(0.9)  # no targets: a no-op the trainer may call anyway
    assert copy.deepcopy(model).online_state_dict().keys() == model.state_dict().keys()


def test_inference_model_without_targets() -> None:
    model = tiny_model()
    bare = type(model)(
        model.cfg, model.audio_encoder, model.text_encoder, model.frontend, with_target=False
    )
    assert bare.target is None
    assert bare.online_state_dict().keys() == model.online_state_dict().keys()
    bare.reset_target()  # nothing to reset: fine
    with pytest.raises(RuntimeError, match="without EMA targets"):
        bare.update_target(0.9)


def test_the_public_api_builds_saves_loads_and_embeds(tmp_path) -> None:
    import engine

    cfg = engine.SlapCfg(
        name="api-test",
        frontend=engine.AudioFrontendCfg(**dataclasses.asdict(TINY_FRONTEND)),
        audio=engine.AudioEncoderCfg(name="tiny", params={"out_dim": 16}),
        text=engine.TextEncoderCfg(**dataclasses.asdict(TINY_TEXT)),
        head=engine.HeadCfg(**dataclasses.asdict(TINY_HEAD)),
    )
    model = engine.build_model(cfg)
    assert isinstance(model, engine.SlapModel)
    assert isinstance(engine.build_model(replace(cfg, objective="clap")), engine.ClapModel)
    model_id = engine.save_bundle(model, tmp_path / "bundle", "# a model card\n")
    info = engine.read_bundle_info(tmp_path / "bundle")
    assert isinstance(info, engine.BundleInfo)
    assert (info.model_id, info.cfg) == (model_id, cfg)
    bundle = engine.load_bundle(tmp_path / "bundle", device=engine.resolve_device("cpu"))
    assert isinstance(bundle, engine.Bundle)
    assert bundle.model_id == model_id
    weights = engine.read_state_dict(tmp_path / "bundle" / "model.safetensors")
    assert weights.keys() == model.online_state_dict().keys()
    with pytest.raises(engine.BundleError, match="does not exist"):
        engine.load_bundle(tmp_path / "nowhere")

    embedder = engine.Embedder(bundle.model, device="cpu")
    waveforms = [torch.randn(TINY_FRONTEND.sample_rate * 2).numpy() for _ in range(2)]
    audio = embedder.embed_audio(waveforms)
    assert isinstance(audio, engine.AudioEmbeddings)
    assert audio.tracks.shape == (2, 16)
    text = embedder.embed_text(["a calm piano", "loud drums"])
    assert text.shape == (2, 16)

    q = torch.nn.functional.normalize(torch.randn(4, 16), dim=-1)
    assert float(engine.slap_loss(q, q, q, q)["loss"]) == pytest.approx(0.0, abs=1e-5)
    assert set(engine.clap_loss(q, q, 10.0)) >= {"loss"}
    assert engine.ema_tau(0, 100) == 0.95
    assert engine.warmup_cosine_lr(0, 1e-3, warmup_steps=10, total_steps=100) < 1e-3
    with pytest.raises(AttributeError):
        engine.no_such_name  # noqa: B018
