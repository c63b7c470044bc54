"""SLAP and the CLAP baseline: two towers, their heads, and (SLAP) the EMA target networks.

Per modality the online branch is encoder -> projector -> predictor; SLAP's target branch is an
EMA copy of encoder + projector kept inside the module under ``target.*``. Bundles hold the
online weights only (:meth:`SlapModel.online_state_dict`); training checkpoints hold all.
Inference embeddings are the online predictor outputs q, L2-normalised (as in the paper).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, cast

import torch
import torch.nn.functional as F  # noqa: N812 (the usual torch alias)
from torch import nn

from engine.ema import copy_into_, ema_update_, make_target
from engine.heads import build_predictor, build_projector
from engine.loss import clap_loss, slap_loss_terms

if TYPE_CHECKING:
    from engine.config import SlapCfg
    from engine.towers.text import TextEncoder

# Prefix of the EMA target networks in the state dict; never stored in a bundle.
TARGET_PREFIX = "target."
# CLIP's cap on the logit scale (temperature >= 0.01), which keeps InfoNCE stable.
MAX_LOGIT_SCALE = 100.0


def _default_frontend(cfg: SlapCfg) -> nn.Module:
    """The log-mel front-end shared by training and inference (no PyAV needed to build it)."""
    from engine.melspec import LogMel

    return LogMel(cfg.frontend)


def _maybe_normalize(x: torch.Tensor, normalize: bool) -> torch.Tensor:
    return F.normalize(x, dim=-1) if normalize else x


class _TwoTowerModel(nn.Module):
    """What SLAP and CLAP share: front-end, towers, projectors and the encode_* API."""

    cfg: SlapCfg
    text_encoder: TextEncoder

    def __init__(
        self,
        cfg: SlapCfg,
        audio_encoder: nn.Module,
        text_encoder: TextEncoder,
        frontend: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.cfg = cfg
        self.frontend = frontend if frontend is not None else _default_frontend(cfg)
        self.audio_encoder = audio_encoder
        self.text_encoder = text_encoder
        # Every registered audio tower has an int out_dim (build_audio_encoder checks it).
        audio_dim = cast(int, audio_encoder.out_dim)
        self.audio_projector = build_projector(audio_dim, cfg.head)
        self.text_projector = build_projector(text_encoder.out_dim, cfg.head)

    @property
    def dim(self) -> int:
        """Size of the joint embedding."""
        return self.cfg.head.embed_dim

    @property
    def text_feature_dim(self) -> int:
        """Size of the text tower's output (what ``encode_text_features`` takes)."""
        return self.text_encoder.out_dim

    # -- heads (overridden by SLAP, which adds predictors) --------------------------------
    def _audio_head(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.audio_projector(hidden)

    def _text_head(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.text_projector(hidden)

    # -- public encoders ------------------------------------------------------------------
    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        """Tokenize captions with the text tower's tokenizer."""
        return self.text_encoder.tokenize(list(texts))

    def text_features(self, tokens: dict[str, torch.Tensor]) -> torch.Tensor:
        """Text-tower outputs [B, text_dim] (what a frozen-text trainer caches)."""
        return self.text_encoder(**tokens)

    def encode_audio(self, waveform: torch.Tensor, normalize: bool = False) -> torch.Tensor:
        """Embed waveforms [B, N] (model sample rate, one window each) -> [B, D]."""
        return self.encode_audio_mel(self.frontend(waveform), normalize=normalize)

    def encode_audio_mel(self, mel: torch.Tensor, normalize: bool = False) -> torch.Tensor:
        """Embed log-mel spectrograms [B, n_mels, T] -> [B, D]."""
        return _maybe_normalize(self._audio_head(self.audio_encoder(mel)), normalize)

    def encode_audio_features(
        self, features: torch.Tensor, normalize: bool = False
    ) -> torch.Tensor:
        """Embed precomputed audio-tower outputs [B, audio_dim] -> [B, D]."""
        return _maybe_normalize(self._audio_head(features), normalize)

    def encode_text(self, tokens: dict[str, torch.Tensor], normalize: bool = False) -> torch.Tensor:
        """Embed tokenized captions (from :meth:`tokenize`) -> [B, D]."""
        return self.encode_text_features(self.text_features(tokens), normalize=normalize)

    def encode_text_features(self, features: torch.Tensor, normalize: bool = False) -> torch.Tensor:
        """Embed precomputed text-tower outputs [B, text_dim] -> [B, D]."""
        return _maybe_normalize(self._text_head(features), normalize)

    def _online_audio_features(
        self, mel: torch.Tensor | None, audio_features: torch.Tensor | None
    ) -> torch.Tensor:
        if audio_features is not None:
            return audio_features
        if mel is None:
            raise ValueError("forward needs mel or audio_features")
        return self.audio_encoder(mel)

    def _online_text_features(
        self, tokens: dict[str, torch.Tensor] | None, text_features: torch.Tensor | None
    ) -> torch.Tensor:
        if text_features is not None:
            return text_features
        if tokens is None:
            raise ValueError("forward needs tokens or text_features")
        return self.text_features(tokens)

    # -- weights --------------------------------------------------------------------------
    def online_state_dict(self) -> dict[str, torch.Tensor]:
        """The weights a bundle stores: everything but the EMA targets."""
        return {k: v for k, v in self.state_dict().items() if not k.startswith(TARGET_PREFIX)}

    def load_online_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Load online weights (strictly); SLAP's targets are reset to the loaded weights.

        Raises:
            KeyError: If keys are missing or unexpected (target keys may be absent).
        """
        result = self.load_state_dict(state, strict=False)
        missing = [k for k in result.missing_keys if not k.startswith(TARGET_PREFIX)]
        if missing or result.unexpected_keys:
            raise KeyError(
                f"weights do not match the model: missing {missing[:8]}, "
                f"unexpected {result.unexpected_keys[:8]}"
            )
        self.reset_target()

    def reset_target(self) -> None:
        """Copy the online weights into the targets (no-op without targets)."""

    def update_target(self, tau: float) -> None:
        """Move the targets toward the online weights (no-op without targets)."""


class SlapModel(_TwoTowerModel):
    """SLAP: BYOL-style text-audio pretraining without negatives.

    ``forward`` returns the loss and its four named terms; ``update_target(tau)`` is called
    once per optimizer step by the trainer.
    """

    has_target = True

    def __init__(
        self,
        cfg: SlapCfg,
        audio_encoder: nn.Module,
        text_encoder: TextEncoder,
        frontend: nn.Module | None = None,
        with_target: bool = True,
    ) -> None:
        super().__init__(cfg, audio_encoder, text_encoder, frontend)
        self.audio_predictor = build_predictor(cfg.head)
        self.text_predictor = build_predictor(cfg.head)
        # Targets: EMA copies of encoder + projector (no predictor: BYOL's asymmetry).
        # Inference needs none of them, so an embedder builds the model without.
        self.target: nn.ModuleDict | None = None
        if with_target:
            self.target = nn.ModuleDict(
                {
                    "audio_encoder": make_target(self.audio_encoder),
                    "audio_projector": make_target(self.audio_projector),
                    "text_encoder": make_target(self.text_encoder),
                    "text_projector": make_target(self.text_projector),
                }
            )

    def _audio_head(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.audio_predictor(self.audio_projector(hidden))

    def _text_head(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.text_predictor(self.text_projector(hidden))

    def _online_pairs(self) -> list[tuple[nn.Module, nn.Module]]:
        return [(target, getattr(self, name)) for name, target in self._targets().items()]

    def _targets(self) -> nn.ModuleDict:
        if self.target is None:
            raise RuntimeError("this SlapModel was built without EMA targets (inference only)")
        return self.target

    @torch.no_grad()
    def update_target(self, tau: float) -> None:
        """EMA step, in place: target ← τ·target + (1 − τ)·online (buffers too)."""
        for target, online in self._online_pairs():
            ema_update_(target, online, tau)

    @torch.no_grad()
    def reset_target(self) -> None:
        """Make the targets exact copies of the online encoder + projector (if any)."""
        if self.target is None:
            return
        for target, online in self._online_pairs():
            copy_into_(target, online)

    @torch.no_grad()
    def target_embeddings(
        self,
        mel: torch.Tensor | None,
        tokens: dict[str, torch.Tensor] | None = None,
        text_features: torch.Tensor | None = None,
        audio_features: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Target projections (z̄A, z̄T), without gradient.

        Precomputed tower outputs (frozen towers) skip the target encoders, as they skip the
        online ones: a frozen tower's EMA copy stays equal to it.
        """
        target = self._targets()
        if audio_features is None:
            if mel is None:
                raise ValueError("forward needs mel or audio_features")
            audio_features = target["audio_encoder"](mel)
        z_audio = target["audio_projector"](audio_features)
        if text_features is None:
            if tokens is None:
                raise ValueError("forward needs tokens or text_features")
            text_features = target["text_encoder"](**tokens)
        z_text = target["text_projector"](text_features)
        return z_audio, z_text

    def forward(
        self,
        mel: torch.Tensor | None,
        tokens: dict[str, torch.Tensor] | None = None,
        text_features: torch.Tensor | None = None,
        target_mel: torch.Tensor | None = None,
        audio_features: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """Compute the SLAP loss for a batch of paired audio and captions.

        Args:
            mel: Log-mel spectrograms [B, n_mels, T] (online view); None with
                ``audio_features``.
            tokens: Tokenized captions (from :meth:`tokenize`); ignored when ``text_features``
                is given.
            text_features: Precomputed text-tower outputs [B, text_dim] (frozen text tower):
                both text encoders are skipped.
            target_mel: Optional second audio view for the target branch (default: ``mel``).
            audio_features: Precomputed audio-tower outputs [B, audio_dim] (frozen audio
                tower): both audio encoders are skipped.

        Returns:
            "loss" (scalar, batch mean), "a2t", "t2a", "a2a", "t2t" (batch means, detached),
            "loss_per_sample" [B], "q_audio", "q_text" (online predictions [B, D]) and
            "z_audio", "z_text" (target projections [B, D]).
        """
        hidden_text = self._online_text_features(tokens, text_features)
        q_audio = self._audio_head(self._online_audio_features(mel, audio_features))
        q_text = self._text_head(hidden_text)
        z_audio, z_text = self.target_embeddings(
            mel if target_mel is None else target_mel, tokens, text_features, audio_features
        )
        terms = slap_loss_terms(q_audio, q_text, z_audio, z_text, self.cfg.loss_lambda)
        out = {name: terms[name].mean().detach() for name in ("a2t", "t2a", "a2a", "t2t")}
        out["loss"] = terms["loss"].mean()
        out["loss_per_sample"] = terms["loss"]
        out.update(q_audio=q_audio, q_text=q_text, z_audio=z_audio, z_text=z_text)
        return out


class ClapModel(_TwoTowerModel):
    """The CLAP baseline: same towers and projectors, symmetric InfoNCE, learnable temperature."""

    has_target = False

    def __init__(
        self,
        cfg: SlapCfg,
        audio_encoder: nn.Module,
        text_encoder: TextEncoder,
        frontend: nn.Module | None = None,
    ) -> None:
        super().__init__(cfg, audio_encoder, text_encoder, frontend)
        # Stored as log(1 / T), as CLIP does, so the optimizer works on a well-scaled value.
        init = math.log(1.0 / cfg.clap_init_temperature)
        self.logit_scale = nn.Parameter(torch.tensor(init, dtype=torch.float32))

    def scale(self) -> torch.Tensor:
        """The current 1 / temperature, capped at ``MAX_LOGIT_SCALE``."""
        return self.logit_scale.clamp(max=math.log(MAX_LOGIT_SCALE)).exp()

    def forward(
        self,
        mel: torch.Tensor | None,
        tokens: dict[str, torch.Tensor] | None = None,
        text_features: torch.Tensor | None = None,
        audio_features: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """Compute the symmetric InfoNCE loss over the batch.

        Args:
            mel: Log-mel spectrograms [B, n_mels, T]; None with ``audio_features``.
            tokens: Tokenized captions; ignored when ``text_features`` is given.
            text_features: Precomputed text-tower outputs [B, text_dim].
            audio_features: Precomputed audio-tower outputs [B, audio_dim].

        Returns:
            "loss", "a2t", "t2a", "logit_scale" (1 / temperature, detached), "logits" [B, B],
            "z_audio", "z_text" (unnormalised projections [B, D]).
        """
        z_audio = self.encode_audio_features(self._online_audio_features(mel, audio_features))
        z_text = self.encode_text_features(self._online_text_features(tokens, text_features))
        scale = self.scale()
        out = clap_loss(z_audio, z_text, scale)
        out["a2t"] = out["a2t"].detach()
        out["t2a"] = out["t2a"].detach()
        out.update(logit_scale=scale.detach(), z_audio=z_audio, z_text=z_text)
        return out


def build_model(
    cfg: SlapCfg, *, with_target: bool = True, text_encoder: TextEncoder | None = None
) -> SlapModel | ClapModel:
    """Build a SLAP or CLAP model from its configuration (towers from the registry).

    Args:
        cfg: The whole model configuration; ``cfg.objective`` picks SLAP or CLAP.
        with_target: SLAP only: build the EMA targets (training); inference needs none.
        text_encoder: A text tower built by the caller (e.g. from a bundle's own tokenizer
            files); default: ``build_text_encoder(cfg.text)``.

    Returns:
        The model in training mode, targets equal to the online weights.

    Raises:
        ValueError: For an unknown objective or audio tower.
        MissingModelError: If the text model's files are not available locally.
    """
    from engine.towers import build_audio_encoder, build_text_encoder

    if cfg.objective not in ("slap", "clap"):
        raise ValueError(f"unknown objective {cfg.objective!r}; use 'slap' or 'clap'")
    audio = build_audio_encoder(cfg.audio, cfg.frontend)
    text = text_encoder if text_encoder is not None else build_text_encoder(cfg.text)
    if cfg.objective == "clap":
        return ClapModel(cfg, audio, text)
    return SlapModel(cfg, audio, text, with_target=with_target)
