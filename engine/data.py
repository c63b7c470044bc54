"""Training data: manifests, datasets of random windows, a fixed split.

A manifest (CSV / JSONL with ``audio`` and ``caption`` columns, the format of MusicCaps / Song
Describer exports) becomes :class:`Clip` records. Manifests are the engine's only source of
real audio: an application with its own catalogue (SlapDesk's library) writes one first. Bad
rows are collected as :class:`BadRow` (row number and reason) and skipped; they never stop a run.

Datasets return one random window per clip per epoch, decoded in DataLoader worker processes.
Every random choice comes from a generator seeded by (seed, epoch, index): the data a step sees
depends neither on the number of workers nor on where a run was resumed.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.config import AudioFrontendCfg

log = logging.getLogger(__name__)

AUDIO_COLUMNS = ("audio", "path", "file", "filename")
CAPTION_COLUMNS = ("caption", "text", "description")
CAPTIONS_COLUMN = "captions"  # a list per row (JSONL) or a JSON list in a CSV cell
WEIGHT_COLUMN = "weight"  # optional whole number >= 1: times the clip is drawn per epoch


class ManifestError(ValueError):
    """A manifest that cannot be used at all (unreadable, no audio or caption column)."""


@dataclass(frozen=True)
class Clip:
    """One training clip: an audio file and the captions that describe it."""

    path: str  # absolute path of the audio file
    captions: tuple[str, ...]  # at least one, non-empty
    row: int  # manifest line number (1-based)
    key: str  # stable identity for the validation split (the path as written)
    weight: int = 1  # times drawn per training epoch (a manifest's ``weight`` column)


@dataclass(frozen=True)
class BadRow:
    """A row (or track) skipped, with the reason, for the run's report."""

    source: str  # manifest path, or the audio path for decode errors
    row: int  # line number in the manifest, or the clip's row
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: row {self.row}: {self.reason}"


@dataclass
class SourceData:
    """What a source produced: usable clips and skipped rows."""

    clips: list[Clip]
    bad: list[BadRow] = field(default_factory=list)
    description: str = ""  # one line for the model card


# ----------------------------------------------------------------------------- manifests


def _pick(row: dict[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        if name in row and row[name] not in (None, ""):
            return row[name]
    return None


def _row_captions(row: dict[str, Any]) -> list[str]:
    """Captions of one manifest row: ``caption`` and/or a ``captions`` list."""
    found: list[Any] = []
    single = _pick(row, CAPTION_COLUMNS)
    if single is not None:
        found.append(single)
    many = row.get(CAPTIONS_COLUMN)
    if isinstance(many, str) and many.strip().startswith("["):
        try:
            many = json.loads(many)
        except ValueError as exc:
            raise ValueError(f"'captions' is not a JSON list: {exc}") from exc
    if isinstance(many, list):
        found.extend(many)
    elif isinstance(many, str) and many.strip():
        found.append(many)
    return [str(c).strip() for c in found if c is not None and str(c).strip()]


def _iter_rows(path: Path) -> list[tuple[int, dict[str, Any] | str]]:
    """(line number, row dict) per data row; a string instead of a dict is a parse error."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        rows: list[tuple[int, dict[str, Any] | str]] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                rows.append((number, f"not valid JSON: {exc}"))
                continue
            rows.append((number, obj if isinstance(obj, dict) else "not a JSON object"))
        return rows
    reader = csv.DictReader(text.splitlines(keepends=True))
    columns = set(reader.fieldnames or ())
    if not columns & set(AUDIO_COLUMNS) or not columns & {*CAPTION_COLUMNS, CAPTIONS_COLUMN}:
        raise ManifestError(
            f"{path}: needs an 'audio' and a 'caption' (or 'captions') column; "
            f"found {sorted(columns)}"
        )
    rows = []
    for row in reader:
        rows.append((reader.line_num, row))
    return rows


def read_manifest(path: str | Path, check_files: bool = True) -> SourceData:
    """Read a CSV or JSONL manifest of ``audio`` paths and captions.

    Rows with the same audio path merge their captions (repeating a row does not weight it;
    a ``weight`` column does, and merged rows keep the largest). Relative paths resolve
    against the manifest's folder.

    Args:
        path: the manifest (``.csv``, or ``.jsonl`` / ``.ndjson``: one JSON object per line).
        check_files: report rows whose audio file does not exist (and skip them).

    Returns:
        The clips in first-appearance order and the skipped rows (by line number).

    Raises:
        ManifestError: the file is unreadable or lacks the required columns.
    """
    path = Path(path)
    try:
        rows = _iter_rows(path)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ManifestError(f"{path}: cannot read the manifest: {exc}") from exc
    base = path.resolve().parent
    merged: dict[str, Clip] = {}
    bad: list[BadRow] = []
    for number, row in rows:
        if isinstance(row, str):
            bad.append(BadRow(str(path), number, row))
            continue
        audio = _pick(row, AUDIO_COLUMNS)
        try:
            captions = _row_captions(row)
            weight = _row_weight(row)
        except ValueError as exc:
            bad.append(BadRow(str(path), number, str(exc)))
            continue
        if audio is None or not str(audio).strip():
            bad.append(BadRow(str(path), number, "no audio path"))
            continue
        if not captions:
            bad.append(BadRow(str(path), number, "empty caption"))
            continue
        full = str(base / os.path.expanduser(str(audio).strip()))
        if check_files and not os.path.isfile(full):
            bad.append(BadRow(str(path), number, f"audio file not found: {full}"))
            continue
        old = merged.get(full)
        joined = captions if old is None else [*old.captions, *captions]
        merged[full] = Clip(
            path=full,
            captions=tuple(dict.fromkeys(joined)),
            row=number if old is None else old.row,
            key=str(audio).strip(),
            weight=weight if old is None else max(weight, old.weight),
        )
    for item in bad:
        log.warning("skipping %s", item)
    description = f"manifest {path.name}: {len(merged)} clips, {len(bad)} rows skipped"
    return SourceData(list(merged.values()), bad, description=description)


def _row_weight(row: dict[str, Any]) -> int:
    """A row's ``weight`` (1 when absent); ValueError when it is not a whole number >= 1."""
    value = row.get(WEIGHT_COLUMN)
    if value in (None, ""):
        return 1
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = 0.0
    if number < 1 or number != int(number):
        raise ValueError(f"weight {value!r} is not a whole number >= 1")
    return int(number)


class EpochIndices(torch.utils.data.Dataset):
    """One epoch's draw list of a training dataset: clip ``i`` appears ``weight`` times.

    Unweighted data gives ``range(len(dataset))``, so the sampler's order is as it always
    was; the sampler shuffles this list, and ``self[j]`` is the clip the j-th entry draws.
    """

    def __init__(self, dataset: Any) -> None:
        """Read clip weights from a dataset of clips (or of cached features of its clips)."""
        clips = getattr(dataset, "clips", None)
        source_clips = getattr(getattr(dataset, "source", None), "clips", None)
        if hasattr(dataset, "clip_index") and source_clips is not None:  # cached features
            clips = [source_clips[i] for i in dataset.clip_index]
        weights = [getattr(c, "weight", 1) for c in clips] if clips else [1] * len(dataset)
        self.indices = [i for i, w in enumerate(weights) for _ in range(w)]

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, j: int) -> int:
        return self.indices[j]


# ----------------------------------------------------------------------------- split


def split_fraction(key: str) -> float:
    """A stable number in [0, 1) from a clip's key: the same on every machine and run."""
    digest = hashlib.sha1(key.encode("utf-8", "surrogateescape")).hexdigest()
    return int(digest[:12], 16) / float(1 << 48)


def split_clips(clips: list[Clip], val_fraction: float) -> tuple[list[Clip], list[Clip]]:
    """Fixed train / validation split by a hash of each clip's key.

    Args:
        clips: all clips.
        val_fraction: share that goes to validation (0 for none).

    Returns:
        (train, validation); a clip never moves between them when others are added.
    """
    train = [c for c in clips if split_fraction(c.key) >= val_fraction]
    val = [c for c in clips if split_fraction(c.key) < val_fraction]
    return train, val


# ----------------------------------------------------------------------------- datasets


def sample_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    """The generator for one (epoch, clip): independent of workers and of resuming."""
    return np.random.default_rng([seed, epoch, index])


class ClipDataset(torch.utils.data.Dataset):
    """One random window and one of its captions per clip per epoch, decoded on demand.

    A clip that fails to decode is reported in the sample's ``failures`` and replaced by the
    next clip, so batches keep their size (DDP ranks stay in step) and the run goes on.
    """

    def __init__(
        self, clips: list[Clip], frontend: AudioFrontendCfg, seed: int = 0, max_tries: int = 8
    ) -> None:
        """Create the dataset.

        Args:
            clips: the clips to serve.
            frontend: sample rate and window length.
            seed: base seed of the window and caption choices.
            max_tries: clips tried in a row before giving up with an error.
        """
        if not clips:
            raise ValueError("no clips to train on")
        self.clips = clips
        self.frontend = frontend
        self.seed = seed
        self.max_tries = max_tries
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose windows and captions ``__getitem__`` returns."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.clips)

    def captions(self, index: int) -> tuple[str, ...]:
        """All captions of clip ``index``."""
        return self.clips[index].captions

    def fixed_windows(self, index: int, n_windows: int | None = None) -> np.ndarray:
        """The deterministic inference windows ``[K, clip_samples]`` of clip ``index``."""
        from engine.audio import load_windows

        return load_windows(self.clips[index].path, self.frontend, n_windows)

    def _load(self, index: int, rng: np.random.Generator) -> np.ndarray:
        from engine.audio import load_random_window

        return load_random_window(self.clips[index].path, self.frontend, rng)

    def __getitem__(self, index: int) -> dict[str, Any]:
        from engine.audio import AudioDecodeError

        failures: list[BadRow] = []
        for attempt in range(self.max_tries):
            current = (index + attempt) % len(self.clips)
            rng = sample_rng(self.seed, self.epoch, current)
            try:
                waveform = self._load(current, rng)
            except (AudioDecodeError, OSError, ValueError, RuntimeError) as exc:
                clip = self.clips[current]
                failures.append(BadRow(clip.path, clip.row, f"cannot decode: {exc}"))
                continue
            captions = self.captions(current)
            caption = captions[int(rng.integers(len(captions)))]
            return {
                "index": current,
                "waveform": waveform,
                "caption": caption,
                "failures": failures,
            }
        raise RuntimeError(f"{self.max_tries} clips in a row failed to decode: {failures[-1]}")


def collate(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack samples into a batch: waveform [B, N], captions, clip indices, decode failures."""
    return {
        "waveform": torch.from_numpy(np.stack([s["waveform"] for s in samples])),
        "captions": [s["caption"] for s in samples],
        "index": torch.tensor([s["index"] for s in samples], dtype=torch.int64),
        "failures": [f for s in samples for f in s["failures"]],
    }
