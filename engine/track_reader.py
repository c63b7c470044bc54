"""Reading tracks ahead of the model: a few threads, bounded read-ahead, results in input order.

Each input (a file, a mono waveform or ready-made windows) becomes its K windows, their start
times and an abstain mark (``engine.abstain``), made in a worker thread: PyAV, soxr and numpy
release the GIL, and so does ONNX Runtime, so an embedder whose model runs there (the CPU path
with ``engine.audio_graph``) keeps every core busy with decoding and model work at once.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.abstain import abstain_reason
from engine.audio import read_windows, windows_of
from engine.config import AudioFrontendCfg

AudioInput = str | os.PathLike[str] | np.ndarray


@dataclass(frozen=True)
class ReadTrack:
    """One input ready for the model, or already embedded (made in a worker thread)."""

    windows: np.ndarray  # float32 [K, clip_samples]
    starts: np.ndarray  # float64 [K]: window starts in seconds (NaN: unknown)
    abstain: str | None
    vectors: np.ndarray | None = None  # float32 [K, D] when the worker ran the model too


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


def read_track(item: AudioInput, frontend: AudioFrontendCfg, n_windows: int) -> ReadTrack:
    """The K windows of one input: a file, a mono waveform, or windows [K, clip_samples].

    Raises:
        AudioDecodeError: a file cannot be decoded.
        ValueError: an array is neither mono nor windows of the model's length.
    """
    sr = frontend.sample_rate
    if not isinstance(item, np.ndarray):
        windows, starts = read_windows(Path(item), frontend, n_windows)
        return ReadTrack(windows, starts, abstain_reason(windows, sr))
    samples = np.asarray(item, dtype=np.float32)
    if samples.ndim == 2 and samples.shape[1] == frontend.clip_samples:
        unknown = np.full(len(samples), np.nan)
        return ReadTrack(samples, unknown, abstain_reason(samples, sr))
    if samples.ndim != 1:
        raise ValueError(
            f"waveform must be mono [N] or windows [K, {frontend.clip_samples}], "
            f"not {samples.shape}"
        )
    windows, starts = windows_of(samples, frontend, n_windows)
    return ReadTrack(windows, starts, abstain_reason(windows, sr))


def one_line(error: BaseException) -> str:
    """The first line of an error's message (its type name when it has none)."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def read_ahead(
    items: Sequence[AudioInput],
    work: Callable[[AudioInput], ReadTrack],
    workers: int,
    ahead: int,
    cancel: threading.Event | None = None,
) -> Iterator[tuple[int, ReadTrack | str]]:
    """Yield (index, ``work(item)`` or its error's first line) in input order.

    At most ``ahead`` inputs are in flight, so memory stays flat for any library size. When
    ``cancel`` is set, inputs not started are dropped and the generator ends.
    """
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode") as pool:
        pending: deque[tuple[int, Future[ReadTrack]]] = deque()
        next_index = 0
        while next_index < len(items) or pending:
            while next_index < len(items) and len(pending) < ahead:
                pending.append((next_index, pool.submit(work, items[next_index])))
                next_index += 1
            index, future = pending.popleft()
            if cancel is not None and cancel.is_set():
                for _, other in pending:
                    other.cancel()
                return
            try:
                yield index, future.result()
            except Exception as exc:  # every bad file is reported; the job goes on
                yield index, one_line(exc)
