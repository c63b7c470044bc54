"""Building a run's parts from its :class:`TrainCfg`: model, optimizer, datasets, caches."""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from engine.config import SlapCfg, TrainCfg
from engine.data import ClipDataset, SourceData, read_manifest, split_clips
from engine.features import (
    CachedAudioDataset,
    EvalSource,
    TextFeatureCache,
    cached_audio_features,
)

if TYPE_CHECKING:
    from engine.model import ClapModel, SlapModel

log = logging.getLogger(__name__)

# Held-out toy clips when training on --synthetic (a fixed, separately seeded set).
_SYNTHETIC_VAL = 64


class _Subset:
    """The first ``n`` clips of an evaluation source."""

    def __init__(self, source: EvalSource, n: int) -> None:
        self.source, self.n = source, min(n, len(source))

    def __len__(self) -> int:
        return self.n

    @property
    def clips(self) -> list[Any] | None:
        """The clips served (the feature cache keys on their paths), when the source has any."""
        clips = getattr(self.source, "clips", None)
        return None if clips is None else clips[: self.n]

    def captions(self, index: int) -> tuple[str, ...]:
        return self.source.captions(index)

    def fixed_windows(self, index: int, n_windows: int | None = None) -> Any:
        return self.source.fixed_windows(index, n_windows)


@dataclass
class RunData:
    """Datasets and caches of one run."""

    train: Any  # ClipDataset, SyntheticDataset or CachedAudioDataset
    val: EvalSource | None  # held-out clips (fixed windows)
    description: str  # one paragraph for the model card
    text_cache: TextFeatureCache | None = None  # frozen text tower
    cached_audio: bool = False  # train reads encoder features, not waveforms
    val_audio_features: tuple[torch.Tensor, list[int]] | None = None  # frozen audio encoder
    spec_augment: nn.Module | None = None


def model_config(cfg: TrainCfg) -> SlapCfg:
    """The architecture: a bundle's (``--init``), a JSON file, or a named config."""
    if cfg.init:
        from engine.bundle import read_bundle_info

        model_cfg = read_bundle_info(cfg.init).cfg
    elif cfg.model.endswith(".json") or Path(cfg.model).is_file():
        model_cfg = SlapCfg.from_dict(json.loads(Path(cfg.model).read_text(encoding="utf-8")))
    else:
        model_cfg = SlapCfg.from_name(cfg.model)
    if cfg.objective and cfg.objective != model_cfg.objective:
        if cfg.init:
            raise ValueError(f"{cfg.init} is a {model_cfg.objective} model: fine-tune it as such")
        model_cfg = dataclasses.replace(model_cfg, objective=cfg.objective)
    return model_cfg


def load_model(cfg: TrainCfg) -> SlapModel | ClapModel:
    """Build the model (or load ``--init``'s bundle, targets reset to its weights)."""
    from engine.model import build_model

    if cfg.init:
        from engine.bundle import load_bundle

        model_config(cfg)  # refuses an --objective the bundle was not trained for
        model = load_bundle(cfg.init, device="cpu", with_target=True).model
        model.train()
    else:
        model = build_model(model_config(cfg))
    if cfg.freeze_text:
        model.text_encoder.requires_grad_(False)
    if cfg.freeze_audio_encoder:
        model.audio_encoder.requires_grad_(False)
    return model


def takes_weight_decay(name: str, param: nn.Parameter) -> bool:
    """Whether AdamW decays this parameter: not biases, norms or the CLAP temperature."""
    return param.ndim >= 2 and name != "logit_scale"


def make_optimizer(model: nn.Module, cfg: TrainCfg) -> torch.optim.AdamW:
    """AdamW; biases, norms and the CLAP temperature get no weight decay."""
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        (decay if takes_weight_decay(name, param) else no_decay).append(param)
    groups = [
        {"params": decay, "weight_decay": cfg.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.999))


def _sources(cfg: TrainCfg) -> list[SourceData]:
    return [read_manifest(path) for path in cfg.manifest]


def _datasets(cfg: TrainCfg, model_cfg: SlapCfg) -> tuple[Any, EvalSource | None, str]:
    """Training set, held-out set and a description of the data."""
    frontend = model_cfg.frontend
    if cfg.synthetic:
        from engine.synthetic import SyntheticDataset

        held_out = SyntheticDataset(min(_SYNTHETIC_VAL, cfg.val_max), frontend, seed=cfg.seed + 1)
        return (
            SyntheticDataset(cfg.synthetic, frontend, seed=cfg.seed),
            held_out if cfg.val_fraction > 0 else None,
            f"{cfg.synthetic} generated toy tones (register, timbre, rhythm captions)",
        )
    sources = _sources(cfg)
    if not sources:
        raise ValueError("no training data: give --manifest or --synthetic")
    clips = [clip for source in sources for clip in source.clips]
    description = "; ".join(source.description for source in sources)
    if cfg.val_manifest:
        val_data = read_manifest(cfg.val_manifest)
        train_clips, val_clips = clips, val_data.clips
        description += f"; validation: {val_data.description}"
    else:
        train_clips, val_clips = split_clips(clips, cfg.val_fraction)
        description += f"; {len(val_clips)} clips held out by hash of path"
    if not train_clips:
        raise ValueError("no usable training clips (see the skipped rows above)")
    train = ClipDataset(train_clips, frontend, seed=cfg.seed)
    val = ClipDataset(val_clips, frontend, seed=cfg.seed) if len(val_clips) >= 2 else None
    return train, (_Subset(val, cfg.val_max) if val is not None else None), description


def _all_captions(source: Any) -> list[str]:
    return [c for i in range(len(source)) for c in source.captions(i)]


def build_run_data(
    cfg: TrainCfg, model: SlapModel | ClapModel, device: torch.device, rank: int
) -> RunData:
    """Datasets, cached features and augmentation of a run.

    Args:
        cfg: the run's configuration.
        model: the model (on ``device``); its frozen towers fill the caches.
        device: where caches live.
        rank: this process's rank (only rank 0 logs the data summary).

    Returns:
        The run's data.
    """
    train, val, description = _datasets(cfg, model.cfg)
    data = RunData(train=train, val=val, description=description)
    if cfg.freeze_text:
        captions = _all_captions(train) + (_all_captions(val) if val is not None else [])
        data.text_cache = TextFeatureCache.build_cached(model, captions, device, cfg.feature_cache)
    if cfg.freeze_audio_encoder:
        feats, kept, bad = cached_audio_features(
            model, train, device, cfg.workers, cfg.cache_windows, cfg.feature_cache
        )
        for item in bad:
            log.warning("skipping %s", item)
        data.train = CachedAudioDataset(feats, kept, train, seed=cfg.seed)
        data.cached_audio = True
        if val is not None:
            vfeats, vkept, _ = cached_audio_features(
                model, val, device, cfg.workers, cfg.cache_windows, cfg.feature_cache
            )
            data.val_audio_features = (vfeats, vkept)
    elif cfg.spec_augment:
        from engine.audio import SpecAugment

        data.spec_augment = SpecAugment()
        data.spec_augment.train()
    if rank == 0:
        log.info("data: %s", description)
    return data
