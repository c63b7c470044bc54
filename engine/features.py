"""Cached tower features for frozen-tower training, and embedding of evaluation sets.

With a frozen text tower, each distinct caption goes through it once and training reads the
cached features: the heads train on CPU in minutes. With a frozen audio encoder, each clip's
K fixed windows go through it once; every epoch then picks one of those K feature vectors per
clip, so head-only training of a pretrained backbone needs no decoding at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import torch

from engine.data import BadRow, sample_rng

if TYPE_CHECKING:
    from engine.model import ClapModel, SlapModel

log = logging.getLogger(__name__)


class EvalSource(Protocol):
    """What evaluation and the audio-feature cache need from a dataset."""

    def __len__(self) -> int: ...

    def captions(self, index: int) -> tuple[str, ...]:
        """All captions of clip ``index``."""
        ...

    def fixed_windows(self, index: int, n_windows: int | None = None) -> np.ndarray:
        """Deterministic windows ``[K, clip_samples]`` of clip ``index``."""
        ...


class TextFeatureCache:
    """Text-tower outputs per distinct caption, computed once (the tower is frozen)."""

    def __init__(self, features: torch.Tensor, index: dict[str, int]) -> None:
        """Wrap ``features`` [U, text_dim] whose row ``index[caption]`` belongs to ``caption``."""
        self.features = features
        self.index = index

    @classmethod
    @torch.no_grad()
    def build(
        cls,
        model: SlapModel | ClapModel,
        captions: Iterable[str],
        device: torch.device,
        batch_size: int = 256,
    ) -> TextFeatureCache:
        """Run every distinct caption through ``model``'s text tower once, in eval mode."""
        unique = list(dict.fromkeys(captions))
        tower = model.text_encoder
        was_training = tower.training
        tower.eval()
        chunks = []
        for start in range(0, len(unique), batch_size):
            tokens = model.tokenize(unique[start : start + batch_size])
            tokens = {k: v.to(device) for k, v in tokens.items()}
            chunks.append(model.text_features(tokens).float())
        tower.train(was_training)
        features = torch.cat(chunks) if chunks else torch.zeros(0, model.text_feature_dim)
        log.info("cached text features of %d distinct captions", len(unique))
        return cls(features.to(device), {c: i for i, c in enumerate(unique)})

    @classmethod
    def build_cached(
        cls, model: SlapModel | ClapModel, captions: Iterable[str], device: torch.device,
        cache_dir: str | None,
    ) -> TextFeatureCache:
        """``build``, kept in ``cache_dir`` (keyed by text tower config + captions) when given."""
        if cache_dir is None:
            return cls.build(model, captions, device)
        import dataclasses
        import hashlib
        import json

        unique = list(dict.fromkeys(captions))
        key = hashlib.sha256(
            json.dumps([dataclasses.asdict(model.cfg.text), unique]).encode()
        ).hexdigest()[:24]
        stored = _read_cached(cache_dir, f"text-{key}")
        if stored is not None:
            features, names = stored
            return cls(features.to(device), {c: i for i, c in enumerate(names)})
        built = cls.build(model, unique, device)
        _write_cached(cache_dir, f"text-{key}", built.features, unique)
        return built

    def lookup(self, captions: list[str]) -> torch.Tensor:
        """Features [B, text_dim] of ``captions`` (each must have been cached)."""
        rows = torch.tensor([self.index[c] for c in captions], device=self.features.device)
        return self.features.index_select(0, rows)


class _WindowsDataset(torch.utils.data.Dataset):
    """Fixed windows of each clip of a source, for batched embedding in worker processes."""

    def __init__(self, source: EvalSource, n_windows: int | None) -> None:
        self.source = source
        self.n_windows = n_windows

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int) -> tuple[int, np.ndarray | None, str]:
        from engine.audio import AudioDecodeError

        try:
            return index, self.source.fixed_windows(index, self.n_windows), ""
        except (AudioDecodeError, OSError, ValueError, RuntimeError) as exc:
            return index, None, str(exc)


def _first(batch: list[Any]) -> Any:
    return batch[0]


def iter_fixed_windows(
    source: EvalSource, n_windows: int | None = None, workers: int = 0
) -> Iterator[tuple[int, np.ndarray | None, str]]:
    """(index, windows [K, S] or None, error) per clip, decoded in ``workers`` processes."""
    loader = torch.utils.data.DataLoader(
        _WindowsDataset(source, n_windows),
        batch_size=1,
        num_workers=workers,
        collate_fn=_first,
        generator=torch.Generator(),  # never draw from (and so shift) the global RNG
    )
    yield from loader


@torch.no_grad()
def compute_audio_features(
    model: SlapModel | ClapModel,
    source: EvalSource,
    device: torch.device,
    workers: int = 0,
    n_windows: int | None = None,
) -> tuple[torch.Tensor, list[int], list[BadRow]]:
    """Audio-encoder outputs of every clip's fixed windows (the encoder is frozen).

    Returns:
        features [N_ok, K, encoder_dim] on ``device``, the clip index of each row, and the
        clips that failed to decode.
    """
    encoder = model.audio_encoder
    was_training = encoder.training
    encoder.eval()
    rows, kept, bad = [], [], []
    for index, windows, error in iter_fixed_windows(source, n_windows, workers=workers):
        if windows is None:
            bad.append(BadRow("audio", index, f"cannot decode: {error}"))
            continue
        mel = model.frontend(torch.from_numpy(windows).to(device))
        rows.append(encoder(mel).float())
        kept.append(index)
    encoder.train(was_training)
    if not rows:
        raise ValueError("no clip could be decoded for the audio-feature cache")
    log.info("cached audio-encoder features of %d clips (%d failed)", len(kept), len(bad))
    return torch.stack(rows), kept, bad


class CachedAudioDataset(torch.utils.data.Dataset):
    """Training samples from cached encoder features: a random window and caption per epoch."""

    def __init__(
        self, features: torch.Tensor, clip_index: list[int], source: EvalSource, seed: int
    ) -> None:
        """Serve ``features`` [N, K, dim] (row i from clip ``clip_index[i]`` of ``source``)."""
        self.features = features.cpu()
        self.clip_index = clip_index
        self.source = source
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose windows and captions ``__getitem__`` returns."""
        self.epoch = epoch

    def __len__(self) -> int:
        return self.features.shape[0]

    def __getitem__(self, index: int) -> dict[str, Any]:
        rng = sample_rng(self.seed, self.epoch, index)
        window = int(rng.integers(self.features.shape[1]))
        captions = self.source.captions(self.clip_index[index])
        return {
            "index": index,
            "waveform": self.features[index, window].numpy(),
            "caption": captions[int(rng.integers(len(captions)))],
            "failures": [],
        }


@torch.no_grad()
def embed_eval_set(
    model: SlapModel | ClapModel,
    source: EvalSource,
    device: torch.device,
    text_cache: TextFeatureCache | None = None,
    audio_features: tuple[torch.Tensor, list[int]] | None = None,
    workers: int = 0,
    text_batch: int = 256,
) -> tuple[torch.Tensor, torch.Tensor, list[int], list[BadRow]]:
    """Embed every clip (mean of its unit-norm window embeddings) and every caption.

    Args:
        model: a SLAP or CLAP model (its mode is restored afterwards).
        source: clips with ``fixed_windows`` and ``captions``.
        device: where to run.
        text_cache: cached text-tower features (frozen text tower).
        audio_features: cached encoder features and their clip indices (frozen encoder).
        workers: decode processes.
        text_batch: captions per text batch.

    Returns:
        audio [N, D], text [M, D] (unit norm, CPU), the clip row of each caption, and the
        clips that failed to decode.
    """
    was_training = model.training
    model.eval()
    audio_rows: list[torch.Tensor] = []
    clips: list[int] = []
    bad: list[BadRow] = []
    if audio_features is not None:
        feats, clips = audio_features
        for row in feats:
            emb = model.encode_audio_features(row.to(device), normalize=True)
            audio_rows.append(torch.nn.functional.normalize(emb.mean(0), dim=0))
        clips = list(clips)
    else:
        for index, windows, error in iter_fixed_windows(source, workers=workers):
            if windows is None:
                bad.append(BadRow("audio", index, f"cannot decode: {error}"))
                continue
            emb = model.encode_audio(torch.from_numpy(windows).to(device), normalize=True)
            audio_rows.append(torch.nn.functional.normalize(emb.float().mean(0), dim=0))
            clips.append(index)
    text, owner = _embed_captions(model, source, clips, device, text_cache, text_batch)
    model.train(was_training)
    audio = torch.stack(audio_rows).cpu() if audio_rows else torch.zeros(0, model.dim)
    return audio, text, owner, bad


def _embed_captions(
    model: SlapModel | ClapModel,
    source: EvalSource,
    clips: list[int],
    device: torch.device,
    text_cache: TextFeatureCache | None,
    text_batch: int,
) -> tuple[torch.Tensor, list[int]]:
    """Every caption of the embedded clips (unit norm, CPU) and the clip row each belongs to."""
    captions, owner = [], []
    for row, index in enumerate(clips):
        for caption in source.captions(index):
            captions.append(caption)
            owner.append(row)
    text_rows = []
    for start in range(0, len(captions), text_batch):
        chunk = captions[start : start + text_batch]
        if text_cache is not None:
            emb = model.encode_text_features(text_cache.lookup(chunk), normalize=True)
        else:
            tokens = {k: v.to(device) for k, v in model.tokenize(chunk).items()}
            emb = model.encode_text(tokens, normalize=True)
        text_rows.append(emb.float())
    text = torch.cat(text_rows).cpu() if text_rows else torch.zeros(0, model.dim)
    return text, owner


def _cache_key(model: SlapModel | ClapModel, source: EvalSource, n_windows: int | None) -> str:
    """A hash of everything the features depend on: encoder, front-end, clips, windows."""
    import dataclasses
    import hashlib
    import json

    clips = getattr(source, "clips", None)
    paths = [str(getattr(c, "path", c)) for c in clips] if clips is not None else [len(source)]
    weights = hashlib.sha256()
    for name, tensor in sorted(model.audio_encoder.state_dict().items()):
        weights.update(name.encode())
        weights.update(tensor.detach().cpu().float().numpy().tobytes())
    described = {
        "audio": dataclasses.asdict(model.cfg.audio),
        "frontend": dataclasses.asdict(model.cfg.frontend),
        "n_windows": n_windows,
        "clips": paths,
        "weights": weights.hexdigest(),
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:24]


def cached_audio_features(
    model: SlapModel | ClapModel,
    source: EvalSource,
    device: torch.device,
    workers: int = 0,
    n_windows: int | None = None,
    cache_dir: str | None = None,
) -> tuple[torch.Tensor, list[int], list[BadRow]]:
    """``compute_audio_features``, kept on disk in ``cache_dir`` for later runs.

    Comparing objectives or batch sizes on one frozen backbone then pays for the backbone
    once. The key covers the encoder's weights and config, the front-end, the clip list and
    the window count, so a stale file is never reused.
    """
    if cache_dir is None:
        return compute_audio_features(model, source, device, workers, n_windows)
    import dataclasses

    key = _cache_key(model, source, n_windows)
    stored = _read_cached(cache_dir, key)
    if stored is not None:
        features, info = stored
        bad = [BadRow(**row) for row in info["bad"]]
        return features.to(device), list(info["kept"]), bad
    feats, kept, bad = compute_audio_features(model, source, device, workers, n_windows)
    rows = [dataclasses.asdict(row) for row in bad]
    _write_cached(cache_dir, key, feats, {"kept": kept, "bad": rows})
    return feats, kept, bad


def _read_cached(cache_dir: str, key: str) -> tuple[torch.Tensor, Any] | None:
    """Features and their JSON description stored under ``key``, or None when absent."""
    import json
    from pathlib import Path

    from safetensors.torch import load_file

    tensors, meta = Path(cache_dir) / f"{key}.safetensors", Path(cache_dir) / f"{key}.json"
    # The JSON is written last, so a file without it is an interrupted write: recompute.
    if not (tensors.is_file() and meta.is_file()):
        return None
    log.info("cached features read from %s", tensors)
    return load_file(str(tensors))["features"], json.loads(meta.read_text(encoding="utf-8"))


def _write_cached(cache_dir: str, key: str, features: torch.Tensor, meta: Any) -> None:
    """Store ``features`` (atomically) and then their JSON description under ``key``."""
    import json
    from pathlib import Path

    from safetensors.torch import save_file

    from engine.atomic_files import replace_file, temp_path, write_text_atomically

    folder = Path(cache_dir)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = folder / f"{key}.safetensors"
    partial = temp_path(tensors)
    try:
        save_file({"features": features.detach().cpu().contiguous()}, str(partial))
        replace_file(partial, tensors)
    finally:
        partial.unlink(missing_ok=True)
    # The JSON goes last: a cache entry counts only when both files are there.
    write_text_atomically(folder / f"{key}.json", json.dumps(meta))
