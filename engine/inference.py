"""Embedding tracks and captions with a trained model: load once, batched, deterministic.

A track is read as K fixed, evenly spaced windows (never a random crop); each window is
embedded, the unit-norm window vectors are averaged and the mean is renormalised. The
per-window vectors and their start times come with it, and a mark when the audio holds
nothing to describe (silence, noise, a test tone: ``engine.abstain``). Decoding and those
checks run in a few threads (``engine.track_reader``; PyAV releases the GIL). On a CPU the
audio tower runs in ONNX Runtime where it can (``engine.audio_graph``), in those same threads,
one track per call; else (torch, or a GPU) it works on the previous batch in the caller's
thread. Results keep the input order. :meth:`Embedder.iter_audio` is the one embedding path:
the app stores what it yields, tools collect it.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 (the usual torch alias)

from engine.audio_graph import AudioGraph, graph_file_name
from engine.audio_model import load_audio_side
from engine.bundle import load_bundle, model_id_of
from engine.device import resolve_device
from engine.melspec import LogMel

# TrackEmbedding and AudioEmbeddings are this module's results (defined beside the reader).
from engine.track_reader import (
    AudioEmbeddings,
    AudioInput,
    ReadTrack,
    TrackEmbedding,
    read_ahead,
    read_track,
)

if TYPE_CHECKING:
    from engine.audio_bundle import AudioWeights
    from engine.config import SlapCfg
    from engine.model import ClapModel, SlapModel

log = logging.getLogger(__name__)

# progress(done, total): inputs finished (embedded or failed) out of all inputs.
ProgressCallback = Callable[[int, int], None]
RUNTIMES = ("auto", "onnx", "torch")


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


class Embedder:
    """Inference facade over a SLAP (or CLAP) model: ``embed_audio`` and ``embed_text``."""

    def __init__(
        self,
        model: SlapModel | ClapModel,
        *,
        device: str | torch.device | None = None,
        model_id: str | None = None,
        runtime: str = "auto",
        graph_cache: str | os.PathLike[str] | None = None,
    ) -> None:
        """Wrap a model for inference (puts it in eval mode on ``device``).

        Args:
            model: The model; it is switched to eval mode and moved to ``device``.
            device: "cpu", "cuda", "mps", ... or None for the best available.
            model_id: Id to report; default: the id a bundle of this model would have.
            runtime: What runs the audio tower on a CPU: "auto" (ONNX Runtime where it is
                installed and the tower exports, else torch), "onnx" (fail if it cannot) or
                "torch". Other devices always use torch.
            graph_cache: A folder where the exported ONNX graph is kept between processes
                (None: exported in every process).
        """
        resolved = resolve_device(device)
        self._setup(model.cfg, model_id or model_id_of(model), resolved, runtime, graph_cache)
        self._model: Any = model.eval().to(resolved)

    def _setup(self, cfg: SlapCfg, model_id: str, device: torch.device, runtime: str,
               graph_cache: str | os.PathLike[str] | None) -> None:
        if runtime not in RUNTIMES:
            raise ValueError(f"runtime must be one of {RUNTIMES}, not {runtime!r}")
        self.cfg = cfg
        self.model_id = model_id
        self.device = device
        self.runtime = runtime if device.type == "cpu" else "torch"
        self._graph: AudioGraph | None = None
        self._graph_lock = threading.Lock()
        self._graph_cache = graph_cache
        # The model's log-mel front-end (same class, same bits), to feed the graph without
        # building the model.
        self._frontend = LogMel(cfg.frontend).eval()
        self._model = None
        self._build: Callable[[], Any] | None = None
        self._model_lock = threading.Lock()
        self.audio_only = False

    @classmethod
    def from_bundle(
        cls,
        folder: str | os.PathLike[str],
        device: str | torch.device | None = None,
        runtime: str = "auto",
        graph_cache: str | os.PathLike[str] | None = None,
        *,
        audio_only: bool = False,
    ) -> Embedder:
        """Load a model bundle (validated; see :func:`engine.bundle.load_bundle`).

        Args:
            folder: The bundle folder.
            device: "cpu", "cuda", "mps", ... or None for CUDA, then MPS, else CPU.
            runtime: As for the constructor.
            graph_cache: As for the constructor.
            audio_only: Load only what embedding audio runs (``embed_text`` is then refused).
                Every weight is still checked against the model id, but neither transformers
                nor the text tower is loaded; on a CPU with the graph in ``graph_cache``, not
                even the torch model is built until something needs it. A bundle whose audio
                side cannot be checked on its own is loaded whole.

        Returns:
            The embedder, its ``model_id`` taken from (and checked against) the bundle.

        Raises:
            BundleError: If the bundle is missing, damaged or inconsistent.
        """
        if audio_only:
            from engine.audio_bundle import AudioCheckError, read_audio_weights

            try:
                return cls._audio_side(read_audio_weights(folder), device, runtime, graph_cache)
            except AudioCheckError as exc:
                log.info("loading the whole model %s: %s", folder, exc)
        resolved = resolve_device(device)
        bundle = load_bundle(folder, device=resolved, with_target=False)
        return cls(bundle.model, device=resolved, model_id=bundle.model_id, runtime=runtime,
                   graph_cache=graph_cache)

    @classmethod
    def _audio_side(cls, weights: AudioWeights, device: str | torch.device | None,
                    runtime: str, graph_cache: str | os.PathLike[str] | None) -> Embedder:
        """An embedder whose torch model (the audio side only) is built on first use."""
        resolved = resolve_device(device)
        embedder = cls.__new__(cls)
        embedder._setup(weights.info.cfg, weights.info.model_id, resolved, runtime, graph_cache)
        embedder._build = partial(load_audio_side, weights, resolved)
        embedder.audio_only = True
        return embedder

    @property
    def model(self) -> Any:
        """The torch model (an ``audio_only`` embedder builds its audio side on first use)."""
        with self._model_lock:
            if self._model is None:
                assert self._build is not None
                self._model = self._build()
            return self._model

    @property
    def dim(self) -> int:
        """Size of the embeddings."""
        return self.cfg.head.embed_dim

    # -- audio ----------------------------------------------------------------------------
    def embed_windows(self, windows: np.ndarray) -> np.ndarray:
        """Embed waveform windows [W, clip_samples] -> float32 [W, D], unit norm."""
        windows = np.ascontiguousarray(windows, dtype=np.float32)
        # The graph is exported for the model's window length; other lengths run in torch.
        graph = self._audio_graph() if windows.shape[-1] == self.cfg.frontend.clip_samples else None
        with torch.inference_mode():
            wav = torch.from_numpy(windows).to(self.device)
            if graph is not None:
                return graph(self._frontend(wav).numpy())
            return self.model.encode_audio(wav, normalize=True).float().cpu().numpy()

    def _audio_graph(self) -> AudioGraph | None:
        """The ONNX Runtime graph of the audio tower: cached, else exported (CPU only)."""
        if self.runtime == "torch":
            return None
        with self._graph_lock:
            if self._graph is None:
                cache = (Path(self._graph_cache) / graph_file_name(self.model_id)
                         if self._graph_cache is not None else None)
                self._graph = AudioGraph.cached(cache) if cache is not None else None
                if self._graph is None:
                    self._graph = AudioGraph.of_model(self.model, cache=cache)
                if self._graph is None and self.runtime == "onnx":
                    raise RuntimeError("the audio tower cannot run in ONNX Runtime here")
                # What runs it from now on ("auto" resolved), as benchmarks report it.
                self.runtime = "torch" if self._graph is None else "onnx"
            return self._graph

    def _read(self, item: AudioInput, n_windows: int) -> ReadTrack:
        """One input's windows (in a worker thread), embedded there too when ONNX runs them."""
        track = read_track(item, self.cfg.frontend, n_windows)
        if self._audio_graph() is None:
            return track
        return replace(track, vectors=self.embed_windows(track.windows))

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
        batch: list[tuple[int, ReadTrack | str]] = []
        ready = 0
        # On a CPU the model runs one track per call on one thread (see _embed_tracks); with
        # ONNX Runtime that call happens in the worker threads, beside the decoding.
        with _torch_threads(1) if self.device.type == "cpu" else nullcontext():
            work = partial(self._read, n_windows=k)
            for index, read in read_ahead(items, work, workers, ahead, cancel):
                batch.append((index, read))
                ready += not isinstance(read, str)
                if ready >= batch_size:
                    yield from self._embed_batch(batch, items)
                    batch, ready = [], 0
            yield from self._embed_batch(batch, items)

    def _embed_batch(
        self, batch: list[tuple[int, ReadTrack | str]], items: Sequence[AudioInput]
    ) -> Iterator[TrackEmbedding]:
        """Embed the windows a batch's workers left to the model; yield them in order."""
        todo = [d.windows for _, d in batch if not isinstance(d, str) and d.vectors is None]
        embedded = iter(np.split(self._embed_tracks(todo), len(todo)) if todo else [])
        for index, item in batch:
            source = self._label(items, index)
            if isinstance(item, str):
                log.warning("cannot embed %s: %s", source, item)
                yield TrackEmbedding(index, source, error=item)
                continue
            per_window = item.vectors if item.vectors is not None else next(embedded)
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

        Raises:
            RuntimeError: this embedder was loaded with ``audio_only``.
        """
        if self.audio_only:
            raise RuntimeError("this model was loaded for audio only: load it with "
                               "Embedder.from_bundle to embed text")
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        for start in range(0, len(texts), batch_size):
            tokens = self.model.tokenize(texts[start : start + batch_size])
            tokens = {k: v.to(self.device) for k, v in tokens.items()}
            out.append(self.model.encode_text(tokens, normalize=True).float().cpu().numpy())
        return np.concatenate(out)
