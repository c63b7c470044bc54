"""Configuration dataclasses for the SLAP engine, one comment per field (meaning, unit).

Architectures are JSON files in ``engine/model_configs/`` loaded into these dataclasses;
nothing reads a global config. ``SlapCfg.from_dict(json.load(f))`` rebuilds a model's
configuration from a bundle's ``config.json`` alone.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

MODEL_CONFIG_DIR = Path(__file__).resolve().parent / "model_configs"


@dataclass(frozen=True)
class AudioFrontendCfg:
    """Decoding and log-mel settings, shared by training and inference."""

    sample_rate: int = 16_000  # Hz; every file is decoded and resampled to this
    clip_seconds: float = 10.0  # length of one model input window, seconds
    n_windows: int = 4  # K evenly spaced windows read per track at inference
    n_fft: int = 1024  # STFT size, samples
    hop_length: int = 160  # STFT hop, samples (10 ms at 16 kHz)
    win_length: int = 1024  # STFT window, samples (Hann)
    n_mels: int = 64  # mel bands
    f_min: float = 50.0  # lowest mel band edge, Hz
    f_max: float = 8_000.0  # highest mel band edge, Hz
    power: float = 2.0  # 1 = magnitude, 2 = power spectrogram before the mel filterbank
    mel_scale: Literal["slaney", "htk"] = "slaney"  # mel formula (librosa's default is slaney)
    mel_norm: Literal["slaney"] | None = "slaney"  # filter area normalisation, as librosa
    # ln(x + log_offset); log10(1 + log_multiplier * x); or "db": 10 * log10(max(x, log_offset))
    # (dB is what LAION-CLAP's HTS-AT saw, so its checkpoints' bn0 statistics fit).
    log: Literal["ln", "log10_1p", "db"] = "ln"
    log_offset: float = 1e-6  # added before ln (floor for "db") to keep silence finite
    log_multiplier: float = 10_000.0  # used by "log10_1p" (musicnn's compression)

    @property
    def clip_samples(self) -> int:
        """Samples in one window."""
        return round(self.clip_seconds * self.sample_rate)


@dataclass(frozen=True)
class AudioEncoderCfg:
    """Which audio tower to build, by registry name, and its keyword arguments."""

    name: str = "cnn-small"  # key in engine.towers registry, e.g. "htsat-base", "cnn-small"
    params: dict[str, Any] = field(default_factory=dict)  # passed to the tower's constructor
    init_from: str | None = None  # optional local checkpoint to initialise the tower from


@dataclass(frozen=True)
class TextEncoderCfg:
    """A Hugging Face encoder loaded from a local folder (never downloaded)."""

    source: str = "packaged:minilm"  # "packaged:minilm" or a local folder path
    pooling: Literal["mean", "cls", "pooler"] = "mean"  # how token states become one vector
    max_length: int = 64  # tokens; longer captions are truncated
    # Tiny random BERT for tests: when set, no files are read and `source` is ignored.
    random_init: dict[str, int] | None = None


@dataclass(frozen=True)
class HeadCfg:
    """Projector and predictor MLPs (LayerNorm or no norm; never BatchNorm)."""

    embed_dim: int = 512  # output size of projector and predictor
    projector_hidden: int = 512  # projector: encoder_dim -> hidden -> embed_dim
    predictor_hidden: int = 4096  # predictor: embed_dim -> hidden -> embed_dim
    norm: Literal["layernorm", "none"] = "layernorm"  # normalisation inside the MLPs


@dataclass(frozen=True)
class SlapCfg:
    """A whole model: front-end, two towers, heads and the training objective."""

    name: str = "slap"  # human-readable architecture name
    objective: Literal["slap", "clap"] = "slap"  # BYOL-style SLAP or the InfoNCE CLAP baseline
    frontend: AudioFrontendCfg = field(default_factory=AudioFrontendCfg)
    audio: AudioEncoderCfg = field(default_factory=AudioEncoderCfg)
    text: TextEncoderCfg = field(default_factory=TextEncoderCfg)
    head: HeadCfg = field(default_factory=HeadCfg)
    ema_tau: float = 0.95  # target = tau * target + (1 - tau) * online, once per optimizer step
    ema_schedule: Literal["constant", "cosine", "linear"] = "constant"  # tau over training
    ema_tau_end: float = 1.0  # final tau for the cosine / linear schedules
    loss_lambda: float = 0.5  # weight of the cross-modal terms; 1 - lambda for intra-modal
    clap_init_temperature: float = 0.07  # CLAP baseline: initial softmax temperature

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SlapCfg:
        """Build from a dictionary such as a bundle's ``config.json`` "model" entry."""
        data = dict(data)
        nested = {
            "frontend": AudioFrontendCfg,
            "audio": AudioEncoderCfg,
            "text": TextEncoderCfg,
            "head": HeadCfg,
        }
        for key, cfg_type in nested.items():
            if key in data and isinstance(data[key], dict):
                data[key] = cfg_type(**data[key])
        return cls(**data)

    @classmethod
    def from_name(cls, name: str) -> SlapCfg:
        """Load a named architecture from ``engine/model_configs/<name>.json``."""
        path = MODEL_CONFIG_DIR / f"{name}.json"
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in MODEL_CONFIG_DIR.glob("*.json")))
            raise ValueError(f"unknown model config {name!r}; known: {known}")
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class TrainCfg:
    """One training run (``slapdesk-train``); built from the command line at once."""

    # -- model ---------------------------------------------------------------------------
    model: str = "default-small"  # name in engine/model_configs, or a JSON file's path
    objective: Literal["slap", "clap"] | None = None  # override the config's objective
    init: str | None = None  # bundle folder to fine-tune from (its architecture wins)
    freeze_text: bool = False  # text tower frozen; its features cached once per caption
    freeze_audio_encoder: bool = False  # audio tower frozen; features of fixed windows cached
    feature_cache: str | None = None  # folder keeping frozen-encoder features across runs
    cache_windows: int | None = None  # fixed windows per clip cached, train and val (None: K)
    # -- data ----------------------------------------------------------------------------
    manifest: tuple[str, ...] = ()  # CSV / JSONL files of audio,caption, read in this order
    synthetic: int = 0  # > 0: train on this many generated toy clips (tests, smoke runs)
    val_manifest: str | None = None  # separate validation manifest (else a fixed split)
    val_fraction: float = 0.05  # share of clips held out, by hash of path
    val_max: int = 1000  # evaluate on at most this many held-out clips
    workers: int = 2  # DataLoader decode processes per rank (0 = in the main process)
    spec_augment: bool = True  # time / frequency masking of the training mels
    # -- optimisation --------------------------------------------------------------------
    batch_size: int = 32  # micro-batch per device, clips
    accumulate: int = 1  # micro-batches per optimizer step (effective = batch×accumulate×world)
    steps: int = 0  # optimizer steps; 0 = as many as ``epochs`` take
    epochs: float = 10.0  # passes over the training clips, when ``steps`` is 0
    lr: float = 1e-4  # peak learning rate (AdamW)
    min_lr: float = 1e-6  # floor of the cosine decay
    weight_decay: float = 0.05  # AdamW decoupled weight decay (not on biases / norms)
    warmup_steps: int = 200  # linear warm-up, optimizer steps (capped at a tenth of the run)
    grad_clip: float = 1.0  # max global gradient norm; 0 = off
    amp: Literal["auto", "bf16", "fp16", "off"] = "auto"  # mixed precision, CUDA only
    max_nonfinite: int = 20  # consecutive skipped (non-finite) steps before giving up
    # -- run -----------------------------------------------------------------------------
    device: str = "auto"  # "auto" (CUDA, MPS, CPU), "cpu", "cuda", "cuda:1", "mps"
    seed: int = 0  # seeds weights, data order, windows and augmentation
    out: str = "runs/slap"  # run folder: checkpoints/, metrics.jsonl, bundle/
    resume: str | None = None  # "latest" (in out/checkpoints) or a checkpoint JSON path
    eval_every: int = 0  # optimizer steps between evaluations; 0 = only at the end
    checkpoint_every: int = 500  # optimizer steps between checkpoints; 0 = only at the end
    keep_checkpoints: int = 2  # newest checkpoints kept
    progress: bool = True  # tqdm progress bar on stderr

    def __post_init__(self) -> None:
        # One manifest used to be a plain string; checkpoints written then still say so.
        manifests = self.manifest
        if manifests is None:
            manifests = ()
        elif isinstance(manifests, str | Path):
            manifests = (str(manifests),)
        object.__setattr__(self, "manifest", tuple(str(m) for m in manifests))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return dataclasses.asdict(self)
