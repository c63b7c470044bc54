"""The embedding job: decode K windows per track in parallel, embed on one model worker.

Decoding is the bottleneck (PyAV seeks and decodes a 10 s window in 9-24 ms on one core, the
small model is faster), so a pool of decode threads feeds one model worker, which embeds
batches of windows and stores each batch in one transaction. A kill or Ctrl-C loses at most
the batch in flight; rows are keyed (track, model), so a rerun neither loses nor duplicates.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

import numpy as np

from engine.audio import load_windows, window_starts
from slapdesk.library.progress import Progress, ProgressCallback

if TYPE_CHECKING:
    from engine.config import SlapCfg
    from slapdesk.library.store.database import Database

log = logging.getLogger(__name__)


class WindowEmbedder(Protocol):
    """What the job needs from ``engine.inference.Embedder``."""

    model_id: str
    dim: int
    cfg: SlapCfg

    def embed_windows(self, windows: np.ndarray) -> np.ndarray:
        """Embed windows [M, samples] into unit-norm float32 [M, D]."""
        ...


@dataclass
class EmbedSummary:
    """What one embedding run did."""

    embedded: int = 0
    already: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, one-line reason)
    cancelled: bool = False


def register_model(db: Database, model_id: str, name: str, path: str | None, dim: int) -> None:
    """Record a model in the library (idempotent)."""
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO models (id, name, path, dim, added_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET name = excluded.name, path = excluded.path",
            (model_id, name, path, dim, time.time()),
        )


def pending_tracks(db: Database, model_id: str) -> list[tuple[int, str, float]]:
    """Readable tracks (id, path, duration) without a vector for ``model_id``, by path."""
    rows = db.execute(
        "SELECT t.id, t.path, coalesce(t.duration, 0) FROM tracks t "
        "WHERE t.status != 'error' AND NOT EXISTS "
        "(SELECT 1 FROM embeddings e WHERE e.track_id = t.id AND e.model_id = ?) "
        "ORDER BY t.path",
        (model_id,),
    ).fetchall()
    return [(int(track_id), os.fsdecode(path), float(length)) for track_id, path, length in rows]


def _decoded(
    decode: Callable[[str], np.ndarray],
    todo: list[tuple[int, str, float]],
    workers: int,
    cancel: threading.Event,
) -> Iterator[tuple[int, str, np.ndarray | None, str | None]]:
    """Yield (id, path, windows or None, error) in order, decoding ahead on a thread pool."""
    ahead = max(2, workers * 4)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode") as pool:
        queue: deque[tuple[int, str, Future[np.ndarray]]] = deque()
        items = iter(todo)
        for track_id, path, _ in items:
            queue.append((track_id, path, pool.submit(decode, path)))
            if len(queue) >= ahead:
                break
        while queue:
            track_id, path, future = queue.popleft()
            if cancel.is_set():
                for _, _, pending in queue:
                    pending.cancel()
                return
            try:
                yield track_id, path, future.result(), None
            except Exception as error:  # any decode failure belongs to that file alone
                yield track_id, path, None, _one_line(error)
            nxt = next(items, None)
            if nxt is not None:
                queue.append((nxt[0], nxt[1], pool.submit(decode, nxt[1])))


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _store(
    db: Database,
    embedder: WindowEmbedder,
    batch: list[tuple[int, np.ndarray]],
    durations: dict[int, float],
    window_vectors: np.ndarray,
) -> None:
    model_id = embedder.model_id
    frontend = embedder.cfg.frontend
    now = time.time()
    offset = 0
    with db.transaction() as conn:
        for track_id, windows in batch:
            count = len(windows)
            vectors = window_vectors[offset : offset + count]
            offset += count
            mean = vectors.mean(axis=0)
            track_vector = (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype("<f4")
            conn.execute(
                "INSERT OR REPLACE INTO embeddings (track_id, model_id, dim, vector, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (track_id, model_id, len(track_vector), track_vector.tobytes(), now),
            )
            # Window start times let a UI jump to "the part with the saxophone".
            starts = window_starts(durations[track_id], frontend.clip_seconds, count)
            conn.executemany(
                "INSERT OR REPLACE INTO window_embeddings "
                "(track_id, model_id, window, start_s, vector) VALUES (?, ?, ?, ?, ?)",
                [
                    (track_id, model_id, k, starts[k], vectors[k].astype("<f4").tobytes())
                    for k in range(count)
                ],
            )


def embed_library(
    db: Database,
    embedder: WindowEmbedder,
    *,
    cancel: threading.Event | None = None,
    progress: ProgressCallback | None = None,
    batch_tracks: int = 8,
    decode_workers: int = 2,
) -> EmbedSummary:
    """Embed every readable track that has no vector for the embedder's model yet.

    Args:
        db: the library (writer).
        embedder: decodes windows and embeds them (engine.inference.Embedder).
        cancel: set it to stop after the batch in flight; what is stored stays.
        progress: called with a Progress after every track.
        batch_tracks: tracks per model call and per transaction.
        decode_workers: decode threads.

    Returns:
        Counts and per-file errors.
    """
    cancel = cancel or threading.Event()
    todo = pending_tracks(db, embedder.model_id)
    durations = {track_id: duration for track_id, _, duration in todo}
    frontend = embedder.cfg.frontend

    def decode(path: str) -> np.ndarray:
        return load_windows(Path(path), frontend)

    summary = EmbedSummary()
    started = time.monotonic()
    batch: list[tuple[int, np.ndarray]] = []

    def flush() -> None:
        if batch:
            windows = np.concatenate([w for _, w in batch])
            _store(db, embedder, batch, durations, embedder.embed_windows(windows))
            summary.embedded += len(batch)
            batch.clear()

    decoded = _decoded(decode, todo, decode_workers, cancel)
    for done, (track_id, path, windows, error) in enumerate(decoded, start=1):
        if error is not None:
            summary.errors.append((path, error))
            log.warning("cannot embed %s: %s", path, error)
        else:
            batch.append((track_id, cast(np.ndarray, windows)))  # no error: decoded
            if len(batch) >= batch_tracks:
                flush()
        if progress:
            rate = done / max(time.monotonic() - started, 1e-6)
            eta = (len(todo) - done) / rate if rate > 0 else None
            progress(Progress(done, len(todo), os.path.basename(path), eta))
    if cancel.is_set():
        summary.cancelled = True
    flush()
    return summary
