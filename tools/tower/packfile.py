"""The pack's files: 8-bit log-mels, caption features, weights in float16 parts.

Sizes matter more than anything here: the GPU machine takes 64 MiB of files with it and gives
back at most 16 MiB per file. Log-mels are quantised to 8 bits over the pack's own range (a
step of ~0.02 in log10(1 + 10^4·power), about 0.2 dB: far below what the tower resolves);
weights travel in float16, split into parts under the per-file limit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MEL_FILE = "mels.npz"
TEXT_FILE = "text.npz"
META_FILE = "pack.json"
INIT_PREFIX = "init"
PART_BYTES = 15 * 2**20  # under the 16 MiB a file may have coming back from the machine


@dataclass
class Pack:
    """Training data and starting weights for one GPU run."""

    mels: np.ndarray  # [N, n_mels, T] float32 log-mels of each clip's fixed window
    caption_ids: np.ndarray  # [C] int32: row of text_features of each caption, clip by clip
    caption_offsets: np.ndarray  # [N + 1] int64: clip i's captions are ids[off[i]:off[i+1]]
    weights: np.ndarray  # [N] int32: times each clip is drawn per epoch
    text_features: np.ndarray  # [U, text_dim] float32, one row per distinct caption
    init_state: dict[str, np.ndarray]  # online weights to start from (no text tower)
    model_cfg: dict[str, Any]  # SlapCfg.to_dict() of the starting bundle
    paths: list[str]  # each clip's audio file, for the record

    def captions_of(self, clip: int) -> np.ndarray:
        """Text-feature rows of clip ``clip``'s captions."""
        return self.caption_ids[self.caption_offsets[clip] : self.caption_offsets[clip + 1]]


def quantise(mels: np.ndarray) -> tuple[np.ndarray, float, float]:
    """8-bit codes of ``mels`` over their own range, and that range (low, high)."""
    low, high = float(mels.min()), float(mels.max())
    scale = (high - low) / 255.0 or 1.0
    codes = np.rint((mels - low) / scale).clip(0, 255).astype(np.uint8)
    return codes, low, high


def dequantise(codes: np.ndarray, low: float, high: float) -> np.ndarray:
    """Float32 log-mels back from their codes (error at most half a step)."""
    scale = (high - low) / 255.0 or 1.0
    return (codes.astype(np.float32) * np.float32(scale) + np.float32(low)).astype(np.float32)


def save_state(state: dict[str, np.ndarray], folder: Path, prefix: str) -> list[Path]:
    """Write weights in float16 as ``prefix-K.npz`` parts, each under ``PART_BYTES``."""
    parts: list[dict[str, np.ndarray]] = [{}]
    size = 0
    for name in sorted(state):
        value = np.asarray(state[name], dtype=np.float16)
        if parts[-1] and size + value.nbytes > PART_BYTES:
            parts.append({})
            size = 0
        parts[-1][name] = value
        size += value.nbytes
    paths = []
    for k, part in enumerate(parts):
        path = folder / f"{prefix}-{k}.npz"
        np.savez(path, **part)
        paths.append(path)
    return paths


def load_state(folder: Path, prefix: str) -> dict[str, np.ndarray]:
    """Weights written by :func:`save_state`, as float32."""
    paths = sorted(folder.glob(f"{prefix}-*.npz"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    if not paths:
        raise FileNotFoundError(f"no {prefix}-*.npz weight parts in {folder}")
    state: dict[str, np.ndarray] = {}
    for path in paths:
        with np.load(path) as part:
            state.update({name: part[name].astype(np.float32) for name in part.files})
    return state


def save_pack(pack: Pack, folder: Path) -> None:
    """Write ``pack`` into ``folder`` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    codes, low, high = quantise(pack.mels)
    np.savez_compressed(folder / MEL_FILE, codes=codes)
    np.savez(folder / TEXT_FILE, features=pack.text_features.astype(np.float16),
             caption_ids=pack.caption_ids, caption_offsets=pack.caption_offsets,
             weights=pack.weights)
    save_state(pack.init_state, folder, INIT_PREFIX)
    meta = {"mel_range": [low, high], "model": pack.model_cfg, "paths": pack.paths}
    (folder / META_FILE).write_text(json.dumps(meta), encoding="utf-8")


def load_pack(folder: Path) -> Pack:
    """Read a pack written by :func:`save_pack`."""
    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    with np.load(folder / MEL_FILE) as mel_file:
        mels = dequantise(mel_file["codes"], *meta["mel_range"])
    with np.load(folder / TEXT_FILE) as text:
        return Pack(
            mels=mels,
            caption_ids=text["caption_ids"],
            caption_offsets=text["caption_offsets"],
            weights=text["weights"],
            text_features=text["features"].astype(np.float32),
            init_state=load_state(folder, INIT_PREFIX),
            model_cfg=meta["model"],
            paths=meta["paths"],
        )
