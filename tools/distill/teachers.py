"""What the MSD and MTT musicnn teachers hear in each clip of a manifest.

The clips go through the same frozen ``musicnn-pair`` tower the student's heads read, with
the trainer's feature cache (``engine.features.cached_audio_features``): the features
computed here are the ones ``slapdesk-train --feature-cache`` then reads, so every clip is
run through the teachers once. A clip's tag probabilities are the sigmoid of each teacher's
logits, averaged over its cached windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from engine.data import ClipDataset, read_manifest
from engine.features import cached_audio_features
from engine.model import build_model
from engine.run_parts import model_config
from engine.towers.musicnn import tag_names
from engine.towers.musicnn_pair import TEACHERS, layer_slices

WEIGHTS = {"msd": "packaged:msd_musicnn", "mtt": "packaged:mtt_musicnn"}


@dataclass(frozen=True)
class TeacherTags:
    """Per-clip tag probabilities of both teachers for the usable clips of a manifest."""

    paths: list[str]  # clip audio paths as the manifest reader resolved them
    probs: dict[str, np.ndarray]  # teacher -> float32 [N, 50]
    names: dict[str, list[str]]  # teacher -> its 50 tag names


def teacher_tags(manifest: str | Path, model_name: str, cache_dir: str | None,
                 n_windows: int | None = 1, workers: int = 0) -> TeacherTags:
    """Run (or read from ``cache_dir``) the pair tower on every clip of ``manifest``.

    ``model_name`` is a config whose audio tower is ``musicnn-pair`` with ``logits`` among
    its layers; ``n_windows`` must be the ``--cache-windows`` training will use, so the cache
    is shared.
    """
    from engine.config import TrainCfg

    cfg = model_config(TrainCfg(model=model_name))
    if cfg.audio.name != "musicnn-pair" or "logits" not in cfg.audio.params.get("layer", ""):
        raise ValueError(f"{model_name}: needs a musicnn-pair tower whose layers include logits")
    model = build_model(cfg)
    data = read_manifest(manifest)
    source = ClipDataset(data.clips, cfg.frontend)
    feats, kept, _ = cached_audio_features(model, source, torch.device("cpu"), workers,
                                           n_windows, cache_dir)
    where = layer_slices(cfg.audio.params["layer"])
    probs = {t: torch.sigmoid(feats[:, :, where[f"{t}.logits"]]).mean(1).numpy()
             for t in TEACHERS}
    return TeacherTags([str(data.clips[i].path) for i in kept], probs,
                       {t: tag_names(WEIGHTS[t]) for t in TEACHERS})
