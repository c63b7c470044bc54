"""The audio half of a model: what embedding audio runs, built without the text side.

A SLAP or CLAP model's audio vectors come from its front-end, its audio tower and the audio
head (projector, and for SLAP the predictor); the text tower, which costs importing
transformers and building a BERT, takes no part. :class:`AudioSide` holds those parts under
the whole model's names, so the same weights load into it and ``encode_audio`` gives the
whole model's vectors. ``engine.audio_bundle`` reads and checks a bundle's weights for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import torch
import torch.nn.functional as F  # noqa: N812 (the usual torch alias)
from torch import nn

from engine.heads import build_predictor, build_projector
from engine.melspec import LogMel

if TYPE_CHECKING:
    import numpy as np

    from engine.audio_bundle import AudioWeights
    from engine.config import SlapCfg


class AudioSide(nn.Module):
    """Front-end, audio tower and audio head of a model; ``encode_audio`` as the model's."""

    def __init__(self, cfg: SlapCfg) -> None:
        """Build the parts ``cfg`` describes (weights random or packaged, as the model's)."""
        from engine.towers import build_audio_encoder

        super().__init__()
        self.cfg = cfg
        self.frontend = LogMel(cfg.frontend)
        self.audio_encoder = build_audio_encoder(cfg.audio, cfg.frontend)
        self.audio_projector = build_projector(cast(int, self.audio_encoder.out_dim), cfg.head)
        # SLAP embeds with the predictor's output; CLAP with the projector's.
        self.audio_predictor = build_predictor(cfg.head) if cfg.objective == "slap" else None

    @property
    def dim(self) -> int:
        """Size of the joint embedding."""
        return self.cfg.head.embed_dim

    def encode_audio(self, waveform: torch.Tensor, normalize: bool = False) -> torch.Tensor:
        """Embed waveforms [B, N] (model sample rate, one window each) -> [B, D]."""
        return self.encode_audio_mel(self.frontend(waveform), normalize=normalize)

    def encode_audio_mel(self, mel: torch.Tensor, normalize: bool = False) -> torch.Tensor:
        """Embed log-mel spectrograms [B, n_mels, T] -> [B, D]."""
        vectors = self.audio_projector(self.audio_encoder(mel))
        if self.audio_predictor is not None:
            vectors = self.audio_predictor(vectors)
        return F.normalize(vectors, dim=-1) if normalize else vectors


def load_audio_side(weights: AudioWeights, device: str | torch.device = "cpu") -> AudioSide:
    """An :class:`AudioSide` holding a bundle's checked audio weights, in eval mode.

    Raises:
        KeyError: the weights do not fit the configuration's audio side (names or shapes).
    """
    from engine.bundle_info import buildable_cfg

    model = AudioSide(buildable_cfg(weights.info))
    state: dict[str, np.ndarray] = weights.state
    try:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    except RuntimeError as exc:  # missing, unexpected or misshapen weights
        raise KeyError(f"the audio weights do not fit the model: {exc}") from exc
    model.cfg = weights.info.cfg  # as stored, as the whole model's
    return model.eval().to(device)
