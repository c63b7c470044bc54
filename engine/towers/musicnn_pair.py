"""Both musicnn taggers side by side as one audio tower: MSD and MTT features concatenated.

The MSD model (Million Song Dataset tags: genres, moods, eras, vocals) and the MTT model
(MagnaTagATune tags: instruments, tempo, "no vocals", classical) hear different things; the
heads read both. One log-mel front-end feeds both networks, so the second costs only its own
forward pass. Output layout: the MSD model's chosen layers, then the MTT model's, so
:func:`layer_slices` finds each teacher's tag logits in a cached feature vector.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from engine.config import AudioFrontendCfg
from engine.towers.musicnn import MusicnnEncoder, build_musicnn
from engine.towers.registry import register_audio_encoder

# The pair's weight parameters and their defaults: the two packaged taggers.
PAIR_WEIGHTS: dict[str, str | None] = {
    "msd_weights": "packaged:msd_musicnn",
    "mtt_weights": "packaged:mtt_musicnn",
}

TEACHERS = ("msd", "mtt")


class MusicnnPair(nn.Module):
    """MSD and MTT musicnn towers; ``forward`` concatenates their outputs."""

    def __init__(self, msd: MusicnnEncoder, mtt: MusicnnEncoder) -> None:
        """Wrap two built towers (same layers, same patching)."""
        super().__init__()
        self.msd = msd
        self.mtt = mtt
        self.layer = msd.layer
        self.out_dim = msd.out_dim + mtt.out_dim

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """[B, n_mels, T] log-mel -> [B, msd.out_dim + mtt.out_dim]."""
        return torch.cat([self.msd(mel), self.mtt(mel)], dim=1)

    def train(self, mode: bool = True) -> MusicnnPair:
        """Switch mode; the towers keep their BatchNorm in eval mode (frozen statistics)."""
        super().train(mode)
        self.msd.train(mode)
        self.mtt.train(mode)
        return self


def layer_slices(layer: str, n_classes: int = 50, backend_units: int = 200,
                 feature_channels: int = 753) -> dict[str, slice]:
    """Where each teacher's layers sit in the pair's output, e.g. ``"mtt.logits"``."""
    sizes = {"penultimate": backend_units, "pooled": 2 * feature_channels,
             "max_pool": feature_channels, "mean_pool": feature_channels,
             "logits": n_classes, "tags": n_classes}
    found, start = {}, 0
    for teacher in TEACHERS:
        for name in layer.split("+"):
            found[f"{teacher}.{name}"] = slice(start, start + sizes[name])
            start += sizes[name]
    return found


@register_audio_encoder("musicnn-pair", weight_params=PAIR_WEIGHTS)
def build_musicnn_pair(frontend: AudioFrontendCfg, **params: Any) -> MusicnnPair:
    """Registry factory.

    Params: ``layer`` (as for musicnn, applied to both), ``msd_weights`` / ``mtt_weights``
    (default: the packaged models; None for random initialisation, e.g. before a bundle's
    weights are loaded) and ``trainable``.
    """
    layer = params.get("layer", "penultimate")
    trainable = params.get("trainable", False)
    msd = build_musicnn(frontend, layer=layer, trainable=trainable,
                        weights=params.get("msd_weights", PAIR_WEIGHTS["msd_weights"]))
    mtt = build_musicnn(frontend, layer=layer, trainable=trainable,
                        weights=params.get("mtt_weights", PAIR_WEIGHTS["mtt_weights"]))
    return MusicnnPair(msd, mtt)
