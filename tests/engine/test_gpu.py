"""The same model on CUDA: training step under autocast, EMA, bundles and the Embedder.

Skipped without CUDA (conftest); run on a GPU machine with ``pytest -m gpu tests/engine``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.bundle import load_bundle, save_bundle
from engine.inference import Embedder

from .helpers import tiny_model

pytestmark = pytest.mark.gpu

CAPTIONS = [f"caption {i}: some music" for i in range(8)]


def _batch(model, n: int) -> tuple[torch.Tensor, dict]:
    gen = torch.Generator().manual_seed(0)
    wav = 0.1 * torch.randn(n, model.cfg.frontend.clip_samples, generator=gen)
    return wav, model.tokenize(CAPTIONS[:n])


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_training_step_under_autocast_on_cuda(dtype: torch.dtype) -> None:
    model = tiny_model().cuda()
    wav, tokens = _batch(model, 8)
    tokens = {k: v.cuda() for k, v in tokens.items()}
    with torch.autocast("cuda", dtype=dtype):
        out = model(model.frontend(wav.cuda()), tokens)
    assert out["loss"].dtype == torch.float32 and torch.isfinite(out["loss"])
    out["loss"].backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    before = {k: v.clone() for k, v in model.target.state_dict().items()}
    with torch.no_grad():
        for p in model.parameters():
            if p.grad is not None:
                p.sub_(0.1 * p.grad)
    model.update_target(0.9)
    online = model.state_dict()
    for key, value in model.target.state_dict().items():
        expected = 0.9 * before[key] + 0.1 * online[key] if value.is_floating_point() else value
        torch.testing.assert_close(value, expected, rtol=0, atol=1e-6)


def test_accumulation_on_cuda_matches_the_large_batch() -> None:
    model = tiny_model().cuda()
    wav, tokens = _batch(model, 8)
    mel = model.frontend(wav.cuda())
    tokens = {k: v.cuda() for k, v in tokens.items()}
    model(mel, tokens)["loss"].backward()
    full = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)
    for part in (slice(0, 4), slice(4, 8)):
        micro = {k: v[part] for k, v in tokens.items()}
        (model(mel[part], micro)["loss"] / 2).backward()
    for name, param in model.named_parameters():
        if param.grad is not None:
            assert (param.grad - full[name]).abs().max().item() < 1e-4, name


def test_bundle_and_embedder_on_cuda_match_the_cpu(tmp_path: Path) -> None:
    model = tiny_model(seed=4).cuda()
    model_id = save_bundle(model, tmp_path / "b", "card")  # saved from GPU tensors
    on_gpu = Embedder.from_bundle(tmp_path / "b")  # device picked automatically
    on_cpu = Embedder.from_bundle(tmp_path / "b", device="cpu")
    assert on_gpu.device.type == "cuda"
    assert on_gpu.model_id == on_cpu.model_id == model_id
    rng = np.random.default_rng(0)
    sr = model.cfg.frontend.sample_rate
    waves = [0.1 * rng.standard_normal(3 * sr).astype(np.float32) for _ in range(5)]
    gpu, cpu = on_gpu.embed_audio(waves), on_cpu.embed_audio(waves)
    assert gpu.tracks.dtype == np.float32
    assert np.min(np.sum(gpu.tracks * cpu.tracks, axis=1)) > 0.9999
    assert np.array_equal(gpu.tracks, on_gpu.embed_audio(waves).tracks)
    text_gpu, text_cpu = on_gpu.embed_text(CAPTIONS), on_cpu.embed_text(CAPTIONS)
    assert np.min(np.sum(text_gpu * text_cpu, axis=1)) > 0.9999
    assert load_bundle(tmp_path / "b", device="cuda").model.audio_projector[0].weight.is_cuda
