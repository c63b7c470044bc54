"""``cnn-small``: a compact conv encoder that embeds quickly on a CPU (the default model's tower).

A 2-D stem sees local time-frequency patterns (onsets, harmonics) and shrinks the mel
image 8x in frequency and time; then the frequency axis is folded into channels and 1-D
ConvNeXt-style blocks (depthwise conv + pointwise MLP, residual) model time. Only
GroupNorm / LayerNorm: eval is deterministic and batch size 1 is the same as any other.
"""

from __future__ import annotations

import torch
from torch import nn

from engine.config import AudioFrontendCfg
from engine.towers.registry import register_audio_encoder


class _Block1d(nn.Module):
    """Depthwise temporal conv, LayerNorm over channels, pointwise MLP, residual."""

    def __init__(self, channels: int, kernel: int = 7, expansion: int = 2) -> None:
        super().__init__()
        self.dw = nn.Conv1d(channels, channels, kernel, padding=kernel // 2, groups=channels)
        self.norm = nn.LayerNorm(channels)
        self.mlp = nn.Sequential(
            nn.Linear(channels, expansion * channels),
            nn.GELU(),
            nn.Linear(expansion * channels, channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [B, C, T]
        y = self.norm(self.dw(x).transpose(1, 2))
        return x + self.mlp(y).transpose(1, 2)


def _conv2d(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.GroupNorm(1, c_out), nn.GELU()
    )


@register_audio_encoder("cnn-small")
class CnnSmall(nn.Module):
    """Log-mel ``[B, n_mels, T]`` -> ``[B, out_dim]``; about 1.7M parameters by default."""

    def __init__(
        self,
        frontend: AudioFrontendCfg,
        stem_channels: tuple[int, int, int] = (16, 32, 48),
        channels: tuple[int, int] = (192, 320),
        blocks: tuple[int, int] = (2, 2),
        out_dim: int = 512,
    ) -> None:
        """Create the tower.

        Args:
            frontend: the log-mel settings (``n_mels``).
            stem_channels: channels of the three stride-2 2-D convolutions.
            channels: widths of the two 1-D stages (the second runs at half the frame rate).
            blocks: residual blocks per 1-D stage.
            out_dim: output size.
        """
        super().__init__()
        self.out_dim = out_dim
        # Normalise each example's log-mel as a whole: robust to loudness and log flavour.
        self.input_norm = nn.GroupNorm(1, 1)
        c1, c2, c3 = stem_channels
        self.stem = nn.Sequential(_conv2d(1, c1), _conv2d(c1, c2), _conv2d(c2, c3))
        freq = frontend.n_mels
        for _ in range(3):
            freq = (freq + 1) // 2
        self.fold = nn.Conv1d(c3 * freq, channels[0], 1)
        self.stage1 = nn.Sequential(*[_Block1d(channels[0]) for _ in range(blocks[0])])
        self.down = nn.Conv1d(channels[0], channels[1], 3, stride=2, padding=1)
        self.stage2 = nn.Sequential(*[_Block1d(channels[1]) for _ in range(blocks[1])])
        self.norm = nn.LayerNorm(2 * channels[1])
        self.proj = nn.Linear(2 * channels[1], out_dim)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """Embed log-mel ``[B, n_mels, T]`` into ``[B, out_dim]``."""
        x = self.stem(self.input_norm(mel[:, None]))  # [B, C, F', T']
        x = self.fold(x.flatten(1, 2))  # frequency folded into channels: [B, C, T']
        x = self.stage2(self.down(self.stage1(x)))
        pooled = torch.cat([x.mean(dim=-1), x.amax(dim=-1)], dim=1)
        return self.proj(self.norm(pooled))
