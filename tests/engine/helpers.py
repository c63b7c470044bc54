"""Tiny SLAP/CLAP models for CPU tests: the real model classes with the "tiny" towers."""

from __future__ import annotations

import torch

from engine.config import AudioEncoderCfg, AudioFrontendCfg, HeadCfg, SlapCfg, TextEncoderCfg
from engine.model import ClapModel, SlapModel, build_model

TINY_FRONTEND = AudioFrontendCfg(
    sample_rate=8_000,
    clip_seconds=1.0,
    n_windows=3,
    n_fft=256,
    hop_length=128,
    win_length=256,
    n_mels=16,
    f_min=0.0,
    f_max=4_000.0,
)
TINY_HEAD = HeadCfg(embed_dim=16, projector_hidden=24, predictor_hidden=32)
# A one-layer random BERT without dropout, so that forward passes are deterministic.
TINY_TEXT = TextEncoderCfg(
    max_length=16,
    random_init={
        "hidden_size": 16,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "intermediate_size": 32,
        "hidden_dropout_prob": 0,
        "attention_probs_dropout_prob": 0,
    },
)


def tiny_cfg(objective: str = "slap") -> SlapCfg:
    return SlapCfg(
        name="tiny-test",
        objective=objective,  # type: ignore[arg-type]
        frontend=TINY_FRONTEND,
        audio=AudioEncoderCfg(name="tiny", params={"width": 4, "out_dim": 12}),
        text=TINY_TEXT,
        head=TINY_HEAD,
    )


def tiny_model(objective: str = "slap", seed: int = 0) -> SlapModel | ClapModel:
    torch.manual_seed(seed)
    return build_model(tiny_cfg(objective))
