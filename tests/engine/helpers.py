"""Tiny SLAP/CLAP models for CPU tests."""

from __future__ import annotations

import torch
from torch import nn

from engine.config import AudioFrontendCfg, HeadCfg, SlapCfg
from engine.model import ClapModel, SlapModel

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


def tiny_cfg(objective: str = "slap") -> SlapCfg:
    return SlapCfg(name="tiny-test", objective=objective, frontend=TINY_FRONTEND, head=TINY_HEAD)


class _StandInFrontend(nn.Module):
    """Frames the waveform and takes log energies: shape-compatible with LogMel."""

    def __init__(self, cfg: AudioFrontendCfg) -> None:
        super().__init__()
        self.cfg = cfg
        self.register_buffer("proj", torch.randn(cfg.n_fft, cfg.n_mels) / cfg.n_fft)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        frames = wav.unfold(-1, self.cfg.n_fft, self.cfg.hop_length)
        return torch.log((frames @ self.proj) ** 2 + 1e-6).transpose(1, 2)


class _StandInAudio(nn.Module):
    def __init__(self, n_mels: int) -> None:
        super().__init__()
        self.out_dim = 12
        self.conv = nn.Conv1d(n_mels, 12, 3, padding=1)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv(mel)).mean(-1)


class _StandInText(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.out_dim = 10
        self.emb = nn.Embedding(256, 10)

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        ids = [list(t.encode()[:20]) or [0] for t in texts]
        width = max(len(i) for i in ids)
        input_ids = torch.tensor([i + [0] * (width - len(i)) for i in ids])
        mask = torch.tensor([[1] * len(i) + [0] * (width - len(i)) for i in ids])
        return {"input_ids": input_ids, "attention_mask": mask}

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        m = attention_mask.unsqueeze(-1).float()
        return (self.emb(input_ids) * m).sum(1) / m.sum(1)


def tiny_model(objective: str = "slap", seed: int = 0) -> SlapModel | ClapModel:
    torch.manual_seed(seed)
    cfg = tiny_cfg(objective)
    cls = SlapModel if objective == "slap" else ClapModel
    return cls(
        cfg,
        _StandInAudio(cfg.frontend.n_mels),
        _StandInText(),
        frontend=_StandInFrontend(cfg.frontend),
    )
