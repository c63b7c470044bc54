"""musicnn in PyTorch: a music tagger pretrained on real music, used as an audio tower.

A port of musicnn (Pons & Serra, ISMIR 2019 LBD; ISC licence) whose MSD / MTT checkpoints
were converted once by ``tools/convert_musicnn.py`` into ``resources/models/musicnn/``.
``tools/check_musicnn_port.py`` compares this port with the original TensorFlow model and
``tests/engine/test_musicnn.py`` with a stored reference of its outputs.

Architecture (input: log10(1 + 10000 · mel power), 96 Slaney mels, 16 kHz, hop 256):
- front-end: "timbral" convolutions spanning 7 frames × 38 or 67 mel bands and "temporal"
  convolutions spanning 128 / 64 / 32 frames × 1 band, each ReLU → BN → max over frequency:
  561 channels per frame;
- mid-end: three 7-frame 1-D convolutions (64 channels) with residual connections, densely
  concatenated with the front-end: 753 channels per frame;
- back-end: max and mean over time (1,506 values) → BN → dense 200 + ReLU → BN
  ("penultimate") → dense 50 tag logits.

BatchNorm is kept exactly as in the original and is always in eval mode, with the running
statistics learnt on MSD / MTT frozen. It is then a fixed per-channel affine map: the output of
one clip never depends on the rest of the batch, so SLAP's per-sample losses and the exactness of
gradient accumulation (the reason the trainable heads never use BatchNorm) still hold.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from engine.config import AudioFrontendCfg
from engine.towers.registry import register_audio_encoder

# Outputs the tower can return, with their sizes for the 64-filter / 200-unit models.
LAYERS = ("penultimate", "pooled", "max_pool", "mean_pool", "logits", "tags")
PATCH_FRAMES = 187  # musicnn was trained on 3 s patches: 187 frames at hop 256, 16 kHz
BN_EPS = 1e-3  # tf.compat.v1.layers.batch_normalization's default epsilon
PACKAGED_PREFIX = "packaged:"
PACKAGED_MODELS = ("msd_musicnn", "mtt_musicnn")
DEFAULT_WEIGHTS = "packaged:msd_musicnn"


def musicnn_frontend_cfg(**overrides: Any) -> AudioFrontendCfg:
    """The log-mel front-end musicnn was trained with (librosa defaults, log10(1 + 10000 x)).

    Args:
        **overrides: other AudioFrontendCfg fields, e.g. ``clip_seconds`` or ``n_windows``.
    """
    cfg = AudioFrontendCfg(
        sample_rate=16_000,
        clip_seconds=3.0,
        n_fft=512,
        hop_length=256,
        win_length=512,
        n_mels=96,
        f_min=0.0,
        f_max=8_000.0,
        power=2.0,
        mel_scale="slaney",
        mel_norm="slaney",
        log="log10_1p",
        log_multiplier=10_000.0,
    )
    return replace(cfg, **overrides)


def _resource_roots() -> list[Path]:
    # engine must not import slapdesk, so this mirrors slapdesk.resources: a checkout has
    # resources/ beside engine/, a wheel force-includes it as slapdesk/_resources, and a
    # PyInstaller build unpacks it under sys._MEIPASS.
    root = Path(__file__).resolve().parents[2]
    found = [root / "resources", root / "slapdesk" / "_resources"]
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        found.insert(0, Path(frozen) / "resources")
    return found


def resolve_weights(spec: str) -> Path:
    """Return the safetensors file named by ``spec``.

    Args:
        spec: ``"packaged:msd_musicnn"`` / ``"packaged:mtt_musicnn"`` (the converted weights
            shipped in resources/models/musicnn/) or a path to a ``.safetensors`` file.

    Raises:
        FileNotFoundError: the file does not exist (the message says where it looked).
    """
    if spec.startswith(PACKAGED_PREFIX):
        name = spec[len(PACKAGED_PREFIX) :]
        if name not in PACKAGED_MODELS:
            raise FileNotFoundError(f"unknown packaged musicnn model {name!r}: {PACKAGED_MODELS}")
        tried = [r / "models" / "musicnn" / f"{name}.safetensors" for r in _resource_roots()]
        for path in tried:
            if path.is_file():
                return path
        raise FileNotFoundError(
            f"musicnn weights {name} missing; looked in {[str(p) for p in tried]}"
        )
    path = Path(spec).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"musicnn weights not found: {path}")
    return path


def tag_names(weights: str | Path) -> list[str]:
    """The 50 tag names of a converted model (from the JSON beside its safetensors file)."""
    path = resolve_weights(str(weights)).with_suffix(".json")
    return list(json.loads(path.read_text("utf-8"))["tags"])


class _FrontBlock(nn.Module):
    """Conv2d over (time, mel) → ReLU → BN → max over the remaining mel axis."""

    def __init__(self, filters: int, kernel: tuple[int, int], time_pad: tuple[int, int]) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, filters, kernel)
        self.bn = nn.BatchNorm2d(filters, eps=BN_EPS)
        self.time_pad = time_pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, 1, T, F] → [B, filters, T]."""
        x = self.conv(F.pad(x, (0, 0, *self.time_pad)))
        # musicnn takes max over frequency of BN(ReLU(conv)). BN (frozen, eval) is a
        # per-channel affine map a·x + b and ReLU is monotonic, so that max is BN(ReLU(max))
        # where a ≥ 0 and BN(ReLU(min)) where a < 0: the same value, computed on a tensor
        # F times smaller (the largest activations of the tower; a fifth of its CPU time).
        upward = (self.bn.weight >= 0)[None, :, None]
        picked = torch.where(upward, x.amax(dim=3), x.amin(dim=3))
        return F.batch_norm(
            F.relu(picked), self.bn.running_mean, self.bn.running_var,
            self.bn.weight, self.bn.bias, False, 0.0, self.bn.eps,
        )  # fmt: skip


class _MidBlock(nn.Module):
    """7-frame Conv1d → ReLU → BN (time axis kept by zero padding 3 + 3)."""

    def __init__(self, in_channels: int, filters: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(in_channels, filters, 7, padding=3)
        self.bn = nn.BatchNorm1d(filters, eps=BN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, C, T] → [B, filters, T]."""
        return self.bn(F.relu(self.conv(x)))


class MusicnnNet(nn.Module):
    """The musicnn network (models.build_musicnn) with every intermediate output available."""

    def __init__(
        self,
        n_mels: int = 96,
        n_classes: int = 50,
        midend_filters: int = 64,
        backend_units: int = 200,
    ) -> None:
        super().__init__()
        self.input_bn = nn.BatchNorm2d(1, eps=BN_EPS)
        timbral = int(1.6 * 128)
        temporal = int(1.6 * 32)
        self.timbral74 = _FrontBlock(timbral, (7, int(0.4 * n_mels)), (3, 3))
        self.timbral77 = _FrontBlock(timbral, (7, int(0.7 * n_mels)), (3, 3))
        # TensorFlow's "same" padding puts the odd extra frame after: k - 1 = 63 + 64, etc.
        self.temporal128 = _FrontBlock(temporal, (128, 1), (63, 64))
        self.temporal64 = _FrontBlock(temporal, (64, 1), (31, 32))
        self.temporal32 = _FrontBlock(temporal, (32, 1), (15, 16))
        front = 2 * timbral + 3 * temporal
        self.mid1 = _MidBlock(front, midend_filters)
        self.mid2 = _MidBlock(midend_filters, midend_filters)
        self.mid3 = _MidBlock(midend_filters, midend_filters)
        self.feature_channels = front + 3 * midend_filters  # 753
        self.pool_bn = nn.BatchNorm1d(2 * self.feature_channels, eps=BN_EPS)
        self.dense = nn.Linear(2 * self.feature_channels, backend_units)
        self.dense_bn = nn.BatchNorm1d(backend_units, eps=BN_EPS)
        self.classifier = nn.Linear(backend_units, n_classes)
        self.n_classes = n_classes
        self.backend_units = backend_units

    def features(self, mel: torch.Tensor) -> dict[str, torch.Tensor]:
        """Run one batch of patches.

        Args:
            mel: [B, n_mels, T] log-compressed mel patches (T = 187 as in training; other
                lengths work, as in musicnn, since all pooling is global).

        Returns:
            "timbral" [B, 408, T], "temporal" [B, 153, T], "cnn1".."cnn3" [B, 64, T],
            "max_pool", "mean_pool" [B, 753], "pooled" [B, 1506] (after its BN),
            "penultimate" [B, 200], "logits" and "tags" (sigmoid) [B, n_classes].
        """
        x = self.input_bn(mel.transpose(1, 2).unsqueeze(1))  # [B, 1, T, F] like TF's NHWC
        f74, f77 = self.timbral74(x), self.timbral77(x)
        s1, s2, s3 = self.temporal128(x), self.temporal64(x), self.temporal32(x)
        front = torch.cat([f74, f77, s1, s2, s3], dim=1)  # [B, 561, T]
        cnn1 = self.mid1(front)
        cnn2 = self.mid2(cnn1) + cnn1
        cnn3 = self.mid3(cnn2) + cnn2
        features = torch.cat([front, cnn1, cnn2, cnn3], dim=1)  # [B, 753, T]
        max_pool = features.amax(dim=2)
        mean_pool = features.mean(dim=2)
        # TF flattens [753, 2] (max, mean) channel by channel: interleave, don't concatenate.
        pooled = self.pool_bn(torch.stack([max_pool, mean_pool], dim=2).flatten(1))
        penultimate = self.dense_bn(F.relu(self.dense(pooled)))
        logits = self.classifier(penultimate)
        return {
            "timbral": torch.cat([f74, f77], dim=1),
            "temporal": torch.cat([s1, s2, s3], dim=1),
            "cnn1": cnn1,
            "cnn2": cnn2,
            "cnn3": cnn3,
            "max_pool": max_pool,
            "mean_pool": mean_pool,
            "pooled": pooled,
            "penultimate": penultimate,
            "logits": logits,
            "tags": torch.sigmoid(logits),
        }

    def forward(self, mel: torch.Tensor) -> dict[str, torch.Tensor]:
        """Same as :meth:`features`."""
        return self.features(mel)

    def train(self, mode: bool = True) -> MusicnnNet:
        """Switch train/eval mode; BatchNorm layers stay in eval mode (frozen statistics)."""
        super().train(mode)
        for module in self.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.eval()
        return self

    def load_weights(self, path: str | Path) -> None:
        """Load a converted safetensors file (tools/convert_musicnn.py) into this network."""
        from safetensors.torch import load_file

        state = load_file(str(path))
        try:
            self.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise ValueError(f"{path}: not a converted musicnn model of this size: {exc}") from exc


def split_patches(mel: torch.Tensor, patch_frames: int = PATCH_FRAMES) -> torch.Tensor:
    """Cut [B, F, T] into [B, P, F, patch_frames]: P evenly spaced patches covering T.

    P = max(1, round(T / patch_frames)); with T a whole number of patches they do not overlap
    (musicnn's own extractor); a shorter input is repeated to one patch length, as musicnn's
    training did ("repeat-pad"). Deterministic.
    """
    frames = int(mel.shape[-1])  # a plain int: an exported graph fixes the window length
    if frames < patch_frames:
        reps = -(-patch_frames // frames)
        return mel.repeat(1, 1, reps)[..., :patch_frames].unsqueeze(1)
    count = max(1, round(frames / patch_frames))
    starts = torch.linspace(0, frames - patch_frames, count).round().long().tolist()
    return torch.stack([mel[..., s : s + patch_frames] for s in starts], dim=1)


class MusicnnEncoder(MusicnnNet):
    """Audio tower: log-mel [B, 96, T] → one pooled vector per clip from a chosen layer.

    The clip is cut into 3 s patches (``split_patches``), each patch runs through musicnn as
    one batch, and the chosen layer is averaged over the patches. Its state_dict keys are those
    of the converted files, so ``AudioEncoderCfg.init_from`` can point at one too.
    """

    def __init__(
        self,
        layer: str = "penultimate",
        weights: str | None = DEFAULT_WEIGHTS,
        trainable: bool = False,
        n_mels: int = 96,
        n_classes: int = 50,
        midend_filters: int = 64,
        backend_units: int = 200,
        patch_frames: int = PATCH_FRAMES,
    ) -> None:
        """Build the tower.

        Args:
            layer: output, one of LAYERS or several joined by "+" (concatenated):
                "penultimate" (200-d), "pooled" (1,506-d: max and mean over time, after BN),
                "max_pool" / "mean_pool" (753-d), "logits" or "tags" (sigmoid; n_classes-d).
            weights: "packaged:msd_musicnn", "packaged:mtt_musicnn", a safetensors path, or
                None for random initialisation (tests, or weights loaded from a bundle after).
            trainable: False freezes every parameter (a fixed pretrained feature extractor).
            n_mels: mel bands of the input (96 for the released models).
            n_classes: tags of the classifier (50).
            midend_filters: mid-end channels (64; 512 for musicnn's unreleased "big" model).
            backend_units: penultimate units (200; 500 for "big").
            patch_frames: frames per patch (187 = 3 s, as in training).
        """
        super().__init__(n_mels, n_classes, midend_filters, backend_units)
        self.layers = layer.split("+")
        if not self.layers or not set(self.layers) <= set(LAYERS):
            raise ValueError(f"unknown musicnn layer {layer!r}; choose from {LAYERS}, joined by +")
        if weights is not None:
            self.load_weights(resolve_weights(weights))
        self.layer = layer
        self.patch_frames = patch_frames
        sizes = {
            "penultimate": backend_units,
            "pooled": 2 * self.feature_channels,
            "max_pool": self.feature_channels,
            "mean_pool": self.feature_channels,
            "logits": n_classes,
            "tags": n_classes,
        }
        self.out_dim = sum(sizes[name] for name in self.layers)
        self.requires_grad_(trainable)
        self.eval()

    # The tower returns one vector where the net returns its named layers: a different
    # contract on purpose, while subclassing keeps the converted files' state_dict keys.
    def forward(self, mel: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        """[B, n_mels, T] log-mel → [B, out_dim], averaged over the clip's patches."""
        patches = split_patches(mel, self.patch_frames)  # [B, P, F, frames]
        batch, count = patches.shape[:2]
        feats = self.features(patches.flatten(0, 1))
        out = torch.cat([feats[name] for name in self.layers], dim=1)
        return out.reshape(batch, count, -1).mean(dim=1)


@register_audio_encoder("musicnn", weight_params={"weights": DEFAULT_WEIGHTS})
def build_musicnn(frontend: AudioFrontendCfg, **params: Any) -> MusicnnEncoder:
    """Registry factory: the tower from AudioEncoderCfg.params (MusicnnEncoder's arguments).

    Raises:
        ValueError: pretrained weights are asked for but the front-end differs from musicnn's
            (the weights would be fed a spectrogram they were not trained on).
    """
    expected = musicnn_frontend_cfg()
    fields = (
        "sample_rate",
        "n_fft",
        "hop_length",
        "win_length",
        "n_mels",
        "f_min",
        "f_max",
        "power",
        "mel_scale",
        "mel_norm",
        "log",
        "log_multiplier",
    )
    wrong = [f for f in fields if getattr(frontend, f) != getattr(expected, f)]
    if params.get("weights", "packaged:msd_musicnn") is not None and wrong:
        detail = ", ".join(
            f"{f}={getattr(frontend, f)!r} (musicnn: {getattr(expected, f)!r})" for f in wrong
        )
        raise ValueError(f"musicnn needs its own front-end (musicnn_frontend_cfg()): {detail}")
    return MusicnnEncoder(n_mels=frontend.n_mels, **params)
