"""Embedding tracks and captions with a trained model: load once, batched, deterministic.

A track is read as K fixed, evenly spaced windows (never a random crop); each window is
embedded, the unit-norm window vectors are averaged and the mean is renormalised. The
per-window vectors are returned too. Decoding runs in a few threads (PyAV releases the GIL)
while the model works on the previous batch; results keep the input order.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 (the usual torch alias)

from engine.audio import load_windows, window_starts
from engine.bundle import load_bundle, model_id_of
from engine.device import resolve_device
from engine.model import ClapModel, SlapModel

log = logging.getLogger(__name__)

AudioInput = str | os.PathLike[str] | np.ndarray
# progress(done, total): inputs finished (embedded or failed) out of all inputs.
ProgressCallback = Callable[[int, int], None]


@dataclass
class AudioEmbeddings:
    """Result of :meth:`Embedder.embed_audio`.

    Rows follow the input order, skipping the inputs that failed; ``indices`` maps each row
    back to its input position.
    """

    tracks: np.ndarray  # float32 [M, D], unit norm, one row per input that succeeded
    windows: list[np.ndarray]  # per row: float32 [K, D] unit-norm window vectors (or empty)
    indices: np.ndarray  # int64 [M]: input position of each row
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path or "<waveform i>", why)
    cancelled: bool = False  # the cancel event stopped the job; rows so far are kept


def _fit(samples: np.ndarray, length: int) -> np.ndarray:
    """Crop to ``length`` or repeat a short clip to fill it (as file decoding does)."""
    if samples.size >= length:
        return samples[:length]
    if samples.size == 0:
        return np.zeros(length, dtype=np.float32)
    return np.tile(samples, -(-length // samples.size))[:length]


class Embedder:
    """Inference facade over a SLAP (or CLAP) model: ``embed_audio`` and ``embed_text``."""

    def __init__(
        self,
        model: SlapModel | ClapModel,
        *,
        device: str | torch.device | None = None,
        model_id: str | None = None,
    ) -> None:
        """Wrap a model for inference (puts it in eval mode on ``device``).

        Args:
            model: The model; it is switched to eval mode and moved to ``device``.
            device: "cpu", "cuda", "mps", ... or None for the best available.
            model_id: Id to report; default: the id a bundle of this model would have.
        """
        self.device = resolve_device(device)
        self.model = model.eval().to(self.device)
        self.cfg = model.cfg
        self.model_id = model_id or model_id_of(model)

    @classmethod
    def from_bundle(
        cls, folder: str | os.PathLike[str], device: str | torch.device | None = None
    ) -> Embedder:
        """Load a model bundle (validated; see :func:`engine.bundle.load_bundle`).

        Args:
            folder: The bundle folder.
            device: "cpu", "cuda", "mps", ... or None for CUDA, then MPS, else CPU.

        Returns:
            The embedder, its ``model_id`` taken from (and checked against) the bundle.

        Raises:
            BundleError: If the bundle is missing, damaged or inconsistent.
        """
        resolved = resolve_device(device)
        bundle = load_bundle(folder, device=resolved, with_target=False)
        return cls(bundle.model, device=resolved, model_id=bundle.model_id)

    @property
    def dim(self) -> int:
        """Size of the embeddings."""
        return self.model.dim

    # -- audio ----------------------------------------------------------------------------
    @torch.inference_mode()
    def embed_windows(self, windows: np.ndarray) -> np.ndarray:
        """Embed waveform windows [W, clip_samples] -> float32 [W, D], unit norm."""
        wav = torch.from_numpy(np.ascontiguousarray(windows, dtype=np.float32)).to(self.device)
        vectors = self.model.encode_audio(wav, normalize=True)
        return vectors.float().cpu().numpy()

    def _windows_of(self, item: AudioInput, n_windows: int) -> np.ndarray:
        """The K windows of one input: a file, a mono waveform, or ready-made windows."""
        frontend = self.cfg.frontend
        if isinstance(item, np.ndarray):
            samples = np.asarray(item, dtype=np.float32)
            if samples.ndim == 2 and samples.shape[1] == frontend.clip_samples:
                return samples
            if samples.ndim != 1:
                raise ValueError(
                    f"waveform must be mono [N] or windows [K, {frontend.clip_samples}], "
                    f"not {samples.shape}"
                )
            sr = frontend.sample_rate
            starts = window_starts(samples.size / sr, frontend.clip_seconds, n_windows)
            return np.stack([_fit(samples[round(s * sr) :], frontend.clip_samples) for s in starts])
        return load_windows(Path(item), frontend, n_windows)

    def _decoded(
        self,
        items: Sequence[AudioInput],
        n_windows: int,
        workers: int,
        cancel: threading.Event | None,
    ) -> Iterator[tuple[int, np.ndarray | None, str]]:
        """Yield (index, windows or None, error message) in input order, decoding ahead."""
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode") as pool:
            pending: deque[tuple[int, Future[np.ndarray]]] = deque()
            ahead = 4 * workers  # bounded read-ahead: memory stays flat for any library size
            next_index = 0
            while next_index < len(items) or pending:
                while next_index < len(items) and len(pending) < ahead:
                    item = items[next_index]
                    pending.append((next_index, pool.submit(self._windows_of, item, n_windows)))
                    next_index += 1
                index, future = pending.popleft()
                if cancel is not None and cancel.is_set():
                    for _, other in pending:
                        other.cancel()
                    return
                try:
                    yield index, future.result(), ""
                except Exception as exc:  # every bad file is reported; the job goes on
                    yield index, None, str(exc) or type(exc).__name__

    def _label(self, items: Sequence[AudioInput], index: int) -> str:
        item = items[index]
        return f"<waveform {index}>" if isinstance(item, np.ndarray) else os.fspath(item)

    def embed_audio(
        self,
        items: Sequence[AudioInput],
        batch_size: int = 16,
        *,
        n_windows: int | None = None,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        decode_workers: int | None = None,
        keep_windows: bool = True,
    ) -> AudioEmbeddings:
        """Embed audio files or waveforms.

        Everything returned stays in memory: embed a large library in chunks (say a few
        thousand tracks per call) and store each chunk's vectors before the next.

        Args:
            items: File paths, mono float32 waveforms at the model's sample rate, or arrays
                of ready-made windows [K, clip_samples].
            batch_size: Tracks per model call (each brings K windows). The same inputs with
                the same ``batch_size`` give bit-identical vectors on the CPU; batches of other
                sizes may differ in the last bit (BLAS kernels depend on the matrix size),
                except with ``batch_size=1``, where a track's vector never depends on the
                other inputs.
            n_windows: Windows per track (default: the model's ``frontend.n_windows``).
            progress: Called as ``progress(done, total)`` after each input.
            cancel: Set it to stop; the result then holds the rows finished so far.
            decode_workers: Decoding threads (default: up to 4, one per CPU core).
            keep_windows: Return the per-window vectors too (else ``windows`` is empty).

        Returns:
            :class:`AudioEmbeddings`; inputs that failed are listed in ``errors``.
        """
        k = n_windows or self.cfg.frontend.n_windows
        workers = decode_workers or max(1, min(4, os.cpu_count() or 1))
        rows: list[tuple[int, np.ndarray, np.ndarray | None]] = []
        errors: list[tuple[str, str]] = []
        batch: list[tuple[int, np.ndarray]] = []
        done = 0

        def flush() -> None:
            self._embed_batch(batch, items, rows, errors, keep_windows)
            batch.clear()

        for index, windows, error in self._decoded(items, k, workers, cancel):
            if windows is None:
                errors.append((self._label(items, index), error))
                log.warning("cannot embed %s: %s", self._label(items, index), error)
            else:
                batch.append((index, windows))
                if len(batch) >= batch_size:
                    flush()
            done += 1
            if progress is not None:
                progress(done, len(items))
        flush()
        cancelled = cancel is not None and cancel.is_set() and done < len(items)
        return self._collect(rows, errors, cancelled)

    def _embed_batch(
        self,
        batch: list[tuple[int, np.ndarray]],
        items: Sequence[AudioInput],
        rows: list[tuple[int, np.ndarray, np.ndarray | None]],
        errors: list[tuple[str, str]],
        keep_windows: bool,
    ) -> None:
        """Embed the windows of a batch of tracks; append (index, track, windows) rows."""
        if not batch:
            return
        vectors = self.embed_windows(np.concatenate([w for _, w in batch]))
        offset = 0
        for index, windows in batch:
            per_window = vectors[offset : offset + len(windows)]
            offset += len(windows)
            if not np.isfinite(per_window).all():
                errors.append((self._label(items, index), "the model gave non-finite values"))
                continue
            mean = torch.from_numpy(per_window).mean(dim=0)
            track = F.normalize(mean, dim=0).numpy()
            rows.append((index, track, per_window.copy() if keep_windows else None))

    def _collect(
        self,
        rows: list[tuple[int, np.ndarray, np.ndarray | None]],
        errors: list[tuple[str, str]],
        cancelled: bool,
    ) -> AudioEmbeddings:
        rows.sort(key=lambda row: row[0])
        tracks = np.stack([r[1] for r in rows]) if rows else np.zeros((0, self.dim), np.float32)
        return AudioEmbeddings(
            tracks=tracks.astype(np.float32, copy=False),
            windows=[r[2] for r in rows if r[2] is not None],
            indices=np.array([r[0] for r in rows], dtype=np.int64),
            errors=errors,
            cancelled=cancelled,
        )

    # -- text -----------------------------------------------------------------------------
    @torch.inference_mode()
    def embed_text(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Embed captions or queries -> float32 [N, D], unit norm.

        Args:
            texts: The strings.
            batch_size: Strings per model call.

        Returns:
            One row per string, in order.
        """
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        for start in range(0, len(texts), batch_size):
            tokens = self.model.tokenize(texts[start : start + batch_size])
            tokens = {k: v.to(self.device) for k, v in tokens.items()}
            out.append(self.model.encode_text(tokens, normalize=True).float().cpu().numpy())
        return np.concatenate(out)
