"""Embedding tracks and captions with a trained model: load once, batched, deterministic.

A track is read as K fixed, evenly spaced windows (never a random crop); each window is
embedded, the unit-norm window vectors are averaged and the mean is renormalised. The
per-window vectors and their start times come with it, and a mark when the audio holds
nothing to describe (silence, noise, a test tone: ``engine.abstain``). Decoding and those
checks run in a few threads (PyAV releases the GIL) while the model works on the previous
batch in the caller's thread; results keep the input order. :meth:`Embedder.iter_audio` is
the one embedding path: the app stores what it yields, tools collect it.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 (the usual torch alias)

from engine.abstain import abstain_reason
from engine.audio import read_windows, window_starts
from engine.bundle import load_bundle, model_id_of
from engine.device import resolve_device
from engine.model import ClapModel, SlapModel

log = logging.getLogger(__name__)

AudioInput = str | os.PathLike[str] | np.ndarray
# progress(done, total): inputs finished (embedded or failed) out of all inputs.
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class TrackEmbedding:
    """What :meth:`Embedder.iter_audio` yields for one input: its vectors, or why not."""

    index: int  # position of the input
    source: str  # the path, or "<waveform i>"
    track: np.ndarray | None = None  # float32 [D], unit norm; None when ``error`` is set
    windows: np.ndarray | None = None  # float32 [K, D], unit-norm window vectors
    starts: np.ndarray | None = None  # float64 [K]: window starts in seconds (NaN: unknown)
    abstain: str | None = None  # "silence", "noise" or "tone": nothing here to describe
    error: str | None = None  # one line: why this input has no vectors

    @property
    def ok(self) -> bool:
        """The input was embedded."""
        return self.error is None


@dataclass(frozen=True)
class _Decoded:
    """One input ready for the model (made in a decode thread)."""

    windows: np.ndarray  # float32 [K, clip_samples]
    starts: np.ndarray  # float64 [K]
    abstain: str | None


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
    abstain: list[str | None] = field(default_factory=list)  # per row (see TrackEmbedding)


def _fit(samples: np.ndarray, length: int) -> np.ndarray:
    """Crop to ``length`` or repeat a short clip to fill it (as file decoding does)."""
    if samples.size >= length:
        return samples[:length]
    if samples.size == 0:
        return np.zeros(length, dtype=np.float32)
    return np.tile(samples, -(-length // samples.size))[:length]


@contextmanager
def _torch_threads(count: int) -> Iterator[None]:
    """Run torch's intra-op work on ``count`` threads inside the block, then restore."""
    before = torch.get_num_threads()
    if before == count:
        yield
        return
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


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

    def _decode(self, item: AudioInput, n_windows: int) -> _Decoded:
        """The K windows of one input (a file, a mono waveform, or ready-made windows)."""
        frontend = self.cfg.frontend
        sr = frontend.sample_rate
        if not isinstance(item, np.ndarray):
            windows, starts = read_windows(Path(item), frontend, n_windows)
            return _Decoded(windows, starts, abstain_reason(windows, sr))
        samples = np.asarray(item, dtype=np.float32)
        if samples.ndim == 2 and samples.shape[1] == frontend.clip_samples:
            unknown = np.full(len(samples), np.nan)
            return _Decoded(samples, unknown, abstain_reason(samples, sr))
        if samples.ndim != 1:
            raise ValueError(
                f"waveform must be mono [N] or windows [K, {frontend.clip_samples}], "
                f"not {samples.shape}"
            )
        offsets = window_starts(samples.size / sr, frontend.clip_seconds, n_windows)
        windows = np.stack([_fit(samples[round(s * sr) :], frontend.clip_samples) for s in offsets])
        return _Decoded(windows, np.asarray(offsets, dtype=np.float64), abstain_reason(windows, sr))

    def _decoded(
        self,
        items: Sequence[AudioInput],
        n_windows: int,
        workers: int,
        ahead: int,
        cancel: threading.Event | None,
    ) -> Iterator[tuple[int, _Decoded | str]]:
        """Yield (index, decoded input or error message) in input order, decoding ahead."""
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode") as pool:
            pending: deque[tuple[int, Future[_Decoded]]] = deque()
            next_index = 0
            while next_index < len(items) or pending:
                # Bounded read-ahead: memory stays flat for any library size.
                while next_index < len(items) and len(pending) < ahead:
                    item = items[next_index]
                    pending.append((next_index, pool.submit(self._decode, item, n_windows)))
                    next_index += 1
                index, future = pending.popleft()
                if cancel is not None and cancel.is_set():
                    for _, other in pending:
                        other.cancel()
                    return
                try:
                    yield index, future.result()
                except Exception as exc:  # every bad file is reported; the job goes on
                    yield index, _one_line(exc)

    def _label(self, items: Sequence[AudioInput], index: int) -> str:
        item = items[index]
        return f"<waveform {index}>" if isinstance(item, np.ndarray) else os.fspath(item)

    def iter_audio(
        self,
        items: Sequence[AudioInput],
        batch_size: int = 16,
        *,
        n_windows: int | None = None,
        cancel: threading.Event | None = None,
        decode_workers: int | None = None,
    ) -> Iterator[TrackEmbedding]:
        """Embed audio files or waveforms, yielding one result per input in input order.

        Decode threads read ahead while the model embeds the previous batch, so memory
        stays bounded for any number of inputs: store each result as it comes.

        Args:
            items: File paths, mono float32 waveforms at the model's sample rate, or arrays
                of ready-made windows [K, clip_samples].
            batch_size: Tracks decoded per step and, on a GPU, per model call (each brings
                K windows). On the CPU every track is its own model call on one thread, so
                its vectors are bit-identical whatever ``batch_size`` and the other inputs;
                on a GPU other batch sizes may round differently in the last bit.
            n_windows: Windows per track (default: the model's ``frontend.n_windows``).
            cancel: Set it to stop; inputs already decoded are still embedded and yielded.
            decode_workers: Decoding threads (default: up to 4, one per CPU core).

        Yields:
            :class:`TrackEmbedding`, with ``error`` set for an input that failed.
        """
        k = n_windows or self.cfg.frontend.n_windows
        workers = decode_workers or max(1, min(4, os.cpu_count() or 1))
        # Enough read-ahead that the next batch is decoding while the model runs.
        ahead = max(4 * workers, batch_size + workers)
        batch: list[tuple[int, _Decoded | str]] = []
        ready = 0
        for index, decoded in self._decoded(items, k, workers, ahead, cancel):
            batch.append((index, decoded))
            ready += not isinstance(decoded, str)
            if ready >= batch_size:
                yield from self._embed_batch(batch, items)
                batch, ready = [], 0
        yield from self._embed_batch(batch, items)

    def _embed_batch(
        self, batch: list[tuple[int, _Decoded | str]], items: Sequence[AudioInput]
    ) -> Iterator[TrackEmbedding]:
        """Embed the windows of a batch of inputs in one model call; yield them in order."""
        decoded = [d for _, d in batch if not isinstance(d, str)]
        if decoded:
            vectors = self._embed_tracks([d.windows for d in decoded])
        offset = 0
        for index, item in batch:
            source = self._label(items, index)
            if isinstance(item, str):
                log.warning("cannot embed %s: %s", source, item)
                yield TrackEmbedding(index, source, error=item)
                continue
            per_window = vectors[offset : offset + len(item.windows)]
            offset += len(item.windows)
            if not np.isfinite(per_window).all():
                yield TrackEmbedding(index, source, error="the model gave non-finite values")
                continue
            track = F.normalize(torch.from_numpy(per_window).mean(dim=0), dim=0).numpy()
            yield TrackEmbedding(
                index, source, track, per_window.copy(), item.starts, item.abstain
            )

    def _embed_tracks(self, windows: list[np.ndarray]) -> np.ndarray:
        """Window vectors of several tracks' windows, concatenated in order."""
        if self.device.type != "cpu":
            return self.embed_windows(np.concatenate(windows))
        # On a CPU, one track per model call on one intra-op thread cost a third of the CPU
        # time per track of 8-track calls on two threads (tests/bench/bench_embed_library.py):
        # small activations stay in cache and no threads wait on each other; the decode
        # threads keep the other cores busy. A track's vector then never depends on its batch.
        # Two tracks side by side on two such threads were no faster (5.3-5.4 against 5.6-6.1
        # tracks/s at load 1.5-2): the decode threads already use the other core.
        with _torch_threads(1):
            return np.concatenate([self.embed_windows(w) for w in windows])

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
        """Embed audio files or waveforms and collect the results (see :meth:`iter_audio`).

        Everything returned stays in memory: for a large library use :meth:`iter_audio`
        and store each result as it comes.

        Args:
            items: As for :meth:`iter_audio`.
            batch_size: As for :meth:`iter_audio`.
            n_windows: Windows per track (default: the model's ``frontend.n_windows``).
            progress: Called as ``progress(done, total)`` after each input.
            cancel: Set it to stop; the result then holds the rows finished so far.
            decode_workers: Decoding threads (default: up to 4, one per CPU core).
            keep_windows: Return the per-window vectors too (else ``windows`` is empty).

        Returns:
            :class:`AudioEmbeddings`; inputs that failed are listed in ``errors``.
        """
        rows: list[TrackEmbedding] = []
        errors: list[tuple[str, str]] = []
        done = 0
        results = self.iter_audio(
            items, batch_size, n_windows=n_windows, cancel=cancel, decode_workers=decode_workers
        )
        for result in results:
            if result.error is None:
                rows.append(result)
            else:
                errors.append((result.source, result.error))
            done += 1
            if progress is not None:
                progress(done, len(items))
        tracks = [r.track for r in rows if r.track is not None]
        return AudioEmbeddings(
            tracks=np.stack(tracks) if tracks else np.zeros((0, self.dim), np.float32),
            windows=[r.windows for r in rows if r.windows is not None] if keep_windows else [],
            indices=np.array([r.index for r in rows], dtype=np.int64),
            errors=errors,
            cancelled=cancel is not None and cancel.is_set() and done < len(items),
            abstain=[r.abstain for r in rows],
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
