"""A tower with a few thousand parameters, for tests (open_clip's TinyAudioTower idea)."""

from __future__ import annotations

import torch
from torch import nn

from engine.config import AudioFrontendCfg
from engine.towers.registry import register_audio_encoder


@register_audio_encoder("tiny")
class TinyAudioTower(nn.Module):
    """Two strided convolutions, mean + max pooling over time, a linear layer."""

    def __init__(self, frontend: AudioFrontendCfg, width: int = 8, out_dim: int = 32) -> None:
        """Create the tower.

        Args:
            frontend: the log-mel settings (``n_mels``).
            width: channels of the first convolution (the second has twice as many).
            out_dim: output size.
        """
        super().__init__()
        self.out_dim = out_dim
        self.convs = nn.Sequential(
            nn.Conv2d(1, width, 3, stride=2, padding=1),
            nn.GELU(),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1),
            nn.GELU(),
        )
        self.proj = nn.Linear(4 * width, out_dim)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """Embed log-mel ``[B, n_mels, T]`` into ``[B, out_dim]``."""
        x = self.convs(mel[:, None]).mean(dim=2)  # [B, C, T']
        pooled = torch.cat([x.mean(dim=-1), x.amax(dim=-1)], dim=1)
        return self.proj(pooled)
