"""The embedding job: choose the tracks, run the engine over them, store what it yields.

The engine (``engine.inference.Embedder.iter_audio``) decodes windows in parallel, runs the
model on one worker and yields per-track results: window vectors, their start times, the
track vector and an abstain mark (silence, noise, a test tone). This job only schedules
(which tracks, cancel, progress) and stores: every ``batch_tracks`` results in one
transaction, so a kill or Ctrl-C loses at most the batch in flight; rows are keyed
(track, model), so a rerun neither loses nor duplicates.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from slapdesk.library.progress import Progress, ProgressCallback

if TYPE_CHECKING:
    from engine.inference import TrackEmbedding
    from slapdesk.library.store.database import Database

log = logging.getLogger(__name__)


class TrackEmbedder(Protocol):
    """What the job needs from ``engine.inference.Embedder``."""

    model_id: str
    dim: int

    def iter_audio(
        self,
        items: Sequence[str],
        batch_size: int = 16,
        *,
        cancel: threading.Event | None = None,
        decode_workers: int | None = None,
    ) -> Iterator[TrackEmbedding]:
        """Yield one result per path, in order."""
        ...


@dataclass
class EmbedSummary:
    """What one embedding run did."""

    embedded: int = 0
    already: int = 0
    abstained: int = 0  # embedded, but marked: nothing to describe (silence, noise, tone)
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


def _store(
    db: Database, model_id: str, track_ids: list[int], results: list[TrackEmbedding]
) -> None:
    """Write a batch of results, the track vector and its windows, in one transaction."""
    now = time.time()
    with db.transaction() as conn:
        for track_id, result in zip(track_ids, results, strict=True):
            assert result.track is not None and result.windows is not None
            assert result.starts is not None
            track_vector = result.track.astype("<f4")
            conn.execute(
                "INSERT OR REPLACE INTO embeddings "
                "(track_id, model_id, dim, vector, created_at, abstain) VALUES (?, ?, ?, ?, ?, ?)",
                (track_id, model_id, len(track_vector), track_vector.tobytes(), now,
                 result.abstain),
            )  # fmt: skip
            # Window start times let a UI jump to "the part with the saxophone".
            conn.executemany(
                "INSERT OR REPLACE INTO window_embeddings "
                "(track_id, model_id, window, start_s, vector) VALUES (?, ?, ?, ?, ?)",
                [
                    (track_id, model_id, k, float(result.starts[k]),
                     result.windows[k].astype("<f4").tobytes())
                    for k in range(len(result.windows))
                ],
            )  # fmt: skip


def embed_library(
    db: Database,
    embedder: TrackEmbedder,
    *,
    cancel: threading.Event | None = None,
    progress: ProgressCallback | None = None,
    batch_tracks: int = 8,
    decode_workers: int = 2,
) -> EmbedSummary:
    """Embed every readable track that has no vector for the embedder's model yet.

    Args:
        db: the library (writer).
        embedder: yields per-track results (engine.inference.Embedder).
        cancel: set it to stop after the batch in flight; what is stored stays.
        progress: called with a Progress after every track.
        batch_tracks: tracks per model call and per transaction.
        decode_workers: decode threads.

    Returns:
        Counts and per-file errors.
    """
    cancel = cancel or threading.Event()
    todo = pending_tracks(db, embedder.model_id)
    paths = [path for _, path, _ in todo]
    summary = EmbedSummary()
    started = time.monotonic()
    ids: list[int] = []
    batch: list[TrackEmbedding] = []

    def flush() -> None:
        if batch:
            _store(db, embedder.model_id, ids, batch)
            summary.embedded += len(batch)
            summary.abstained += sum(r.abstain is not None for r in batch)
            ids.clear()
            batch.clear()

    results = embedder.iter_audio(
        paths, batch_tracks, cancel=cancel, decode_workers=decode_workers
    )
    for done, result in enumerate(results, start=1):
        if result.error is not None:
            summary.errors.append((result.source, result.error))
        else:
            ids.append(todo[result.index][0])
            batch.append(result)
            if len(batch) >= batch_tracks:
                flush()
        if progress:
            rate = done / max(time.monotonic() - started, 1e-6)
            eta = (len(todo) - done) / rate if rate > 0 else None
            progress(Progress(done, len(todo), os.path.basename(result.source), eta))
    flush()
    summary.cancelled = cancel.is_set() and summary.embedded + len(summary.errors) < len(todo)
    return summary
