"""The embedding job: choose the tracks, run the engine over them, store what it yields.

The engine (``engine.inference.Embedder.iter_audio``) decodes windows in parallel, runs the
model (on a CPU in the same threads, through ONNX Runtime) and yields per-track results:
window vectors, their start times, the track vector and an abstain mark (silence, noise, a
test tone). This job only schedules
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
from slapdesk.library.store.schema import CURRENT_AUDIO_FAILURES

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
    # Left out: their audio failed to decode before and the file is unchanged since.
    failed_before: int = 0


def register_model(db: Database, model_id: str, name: str, path: str | None, dim: int) -> None:
    """Record a model in the library (idempotent)."""
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO models (id, name, path, dim, added_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET name = excluded.name, path = excluded.path",
            (model_id, name, path, dim, time.time()),
        )


def pending_tracks(
    db: Database, model_id: str, *, retry_failed: bool = False
) -> list[tuple[int, str, float]]:
    """Readable tracks (id, path, duration) without a vector for ``model_id``, by path.

    A track whose audio failed to decode before is left out while its file is unchanged
    (``retry_failed`` tries it anyway: a newer decoder may read it).
    """
    rows = db.execute(
        "SELECT t.id, t.path, coalesce(t.duration, 0) FROM tracks t "
        "WHERE t.status != 'error' AND NOT EXISTS "
        "(SELECT 1 FROM embeddings e WHERE e.track_id = t.id AND e.model_id = ?) "
        f"AND (? OR t.id NOT IN (SELECT f.track_id FROM {CURRENT_AUDIO_FAILURES})) "
        "ORDER BY t.path",
        (model_id, retry_failed),
    ).fetchall()
    return [(int(track_id), os.fsdecode(path), float(length)) for track_id, path, length in rows]


def count_failed_before(db: Database, model_id: str) -> int:
    """Tracks :func:`pending_tracks` leaves out: no vector, audio failed, file unchanged."""
    row = db.execute(
        f"SELECT count(*) FROM {CURRENT_AUDIO_FAILURES} AND ft.status != 'error' AND NOT EXISTS "
        "(SELECT 1 FROM embeddings e WHERE e.track_id = f.track_id AND e.model_id = ?)",
        (model_id,),
    ).fetchone()
    return int(row[0])


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
        # A file that failed before and decodes now (a retry) is no longer a problem.
        conn.executemany(
            "DELETE FROM audio_failures WHERE track_id = ?", [(i,) for i in track_ids]
        )


def _store_failures(db: Database, failures: list[tuple[int, str, str]]) -> None:
    """Remember (track id, path, reason) for files that are as the scan saw them.

    A file that changed or vanished since the scan is not marked: the next scan reads it
    again, and its audio gets another try then.
    """
    now = time.time()
    with db.transaction() as conn:
        for track_id, path, reason in failures:
            row = conn.execute(
                "SELECT size, mtime_ns FROM tracks WHERE id = ?", (track_id,)
            ).fetchone()
            try:
                info = os.stat(path)
            except OSError:
                continue
            if row is None or (info.st_size, info.st_mtime_ns) != tuple(row):
                continue
            conn.execute(
                "INSERT OR REPLACE INTO audio_failures "
                "(track_id, size, mtime_ns, error, failed_at) VALUES (?, ?, ?, ?, ?)",
                (track_id, row[0], row[1], reason, now),
            )


@dataclass
class _PendingWrites:
    """Results waiting to be stored: every ``batch_tracks`` vectors in one transaction."""

    db: Database
    model_id: str
    summary: EmbedSummary
    batch_tracks: int
    ids: list[int] = field(default_factory=list)
    batch: list[TrackEmbedding] = field(default_factory=list)
    failed: list[tuple[int, str, str]] = field(default_factory=list)  # (id, path, reason)

    def add(self, track_id: int, result: TrackEmbedding) -> None:
        if result.error is not None:
            # The engine's reason may start with the path; it is shown beside the path.
            reason = result.error.removeprefix(f"{result.source}: ")
            self.summary.errors.append((result.source, reason))
            self.failed.append((track_id, result.source, reason))
            return
        self.ids.append(track_id)
        self.batch.append(result)
        if len(self.batch) >= self.batch_tracks:
            self.flush()

    def flush(self) -> None:
        if self.failed:
            _store_failures(self.db, self.failed)
            self.failed.clear()
        if self.batch:
            _store(self.db, self.model_id, self.ids, self.batch)
            self.summary.embedded += len(self.batch)
            self.summary.abstained += sum(r.abstain is not None for r in self.batch)
            self.ids.clear()
            self.batch.clear()


def embed_library(
    db: Database,
    embedder: TrackEmbedder,
    *,
    cancel: threading.Event | None = None,
    progress: ProgressCallback | None = None,
    batch_tracks: int = 8,
    decode_workers: int | None = None,
    retry_failed: bool = False,
) -> EmbedSummary:
    """Embed every readable track that has no vector for the embedder's model yet.

    Args:
        db: the library (writer).
        embedder: yields per-track results (engine.inference.Embedder).
        cancel: set it to stop after the batch in flight; what is stored stays.
        progress: called with a Progress after every track.
        batch_tracks: tracks per transaction (and per model call on a GPU).
        decode_workers: threads that decode (and, on a CPU, run the model); default: the
            engine's, one per CPU core up to 4.
        retry_failed: try again the tracks whose audio failed to decode before.

    Returns:
        Counts and per-file errors.
    """
    cancel = cancel or threading.Event()
    todo = pending_tracks(db, embedder.model_id, retry_failed=retry_failed)
    paths = [path for _, path, _ in todo]
    summary = EmbedSummary()
    if not retry_failed:
        summary.failed_before = count_failed_before(db, embedder.model_id)
    started = time.monotonic()
    pending = _PendingWrites(db, embedder.model_id, summary, batch_tracks)
    results = embedder.iter_audio(
        paths, batch_tracks, cancel=cancel, decode_workers=decode_workers
    )
    for done, result in enumerate(results, start=1):
        pending.add(todo[result.index][0], result)
        if progress:
            rate = done / max(time.monotonic() - started, 1e-6)
            eta = (len(todo) - done) / rate if rate > 0 else None
            progress(Progress(done, len(todo), os.path.basename(result.source), eta))
    pending.flush()
    summary.cancelled = cancel.is_set() and summary.embedded + len(summary.errors) < len(todo)
    return summary
