"""The moment pass: dense window vectors (one every few seconds) after the first embedding pass.

The first pass (``jobs.embed``) reads K windows per track: enough for the track vector, fast.
This second pass, run in the background or by ``slapdesk embed --moments``, decodes each
already-embedded track once and embeds a window every ``hop`` seconds, so search can say where
in a track the query matches. Rows are stored compactly (int8 + a float32 scale per window)
one track per transaction, keyed (track, model): a stopped pass resumes where it stopped.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from engine.audio import load_audio, load_windows, window_starts
from slapdesk.library.jobs.control import JobControl, JobResult
from slapdesk.library.models import ModelChoiceError
from slapdesk.library.progress import Progress, ProgressCallback
from slapdesk.library.search.moments import quantize

if TYPE_CHECKING:
    from engine.config import AudioFrontendCfg, SlapCfg
    from slapdesk.library.jobs.active_model import ModelHolder
    from slapdesk.library.store.database import Database

log = logging.getLogger(__name__)

# Past this many windows a track's hop grows, so a two-hour mix costs what a long album does.
MAX_WINDOWS = 400
# Longer files are read window by window (seeking) instead of decoded whole into memory.
WHOLE_DECODE_MAX_SECONDS = 3600.0
# Windows per model call.
WINDOWS_PER_CALL = 64


class MomentEmbedder(Protocol):
    """What the pass needs from ``engine.inference.Embedder``."""

    model_id: str
    cfg: SlapCfg

    def embed_windows(self, windows: np.ndarray) -> np.ndarray:
        """Embed windows [M, samples] into unit-norm float32 [M, D]."""
        ...


@dataclass
class MomentSummary:
    """What one moment pass did."""

    tracks: int = 0
    windows: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, one-line reason)
    cancelled: bool = False


def moment_hop(db: Database, model_id: str, clip_seconds: float) -> float:
    """Seconds between window starts for this model: its stored setting, else one window."""
    row = db.execute("SELECT config FROM models WHERE id = ?", (model_id,)).fetchone()
    try:
        config = json.loads(row[0]) if row and row[0] else {}
        hop = float(config.get("moments", {}).get("hop_s", clip_seconds))
    except (json.JSONDecodeError, AttributeError, TypeError, ValueError):
        hop = clip_seconds
    return hop if hop > 0 else clip_seconds


def set_moment_hop(db: Database, model_id: str, hop_seconds: float) -> None:
    """Store the hop for one model (kept in the model's ``config`` JSON)."""
    if not hop_seconds > 0:
        raise ValueError("the moment hop must be a positive number of seconds")
    with db.transaction() as conn:
        row = conn.execute("SELECT config FROM models WHERE id = ?", (model_id,)).fetchone()
        if row is None:
            raise ValueError(f"unknown model {model_id}")
        try:
            config = json.loads(row[0]) if row[0] else {}
        except json.JSONDecodeError:
            config = {}
        config.setdefault("moments", {})["hop_s"] = float(hop_seconds)
        conn.execute("UPDATE models SET config = ? WHERE id = ?", (json.dumps(config), model_id))


def pending_moment_tracks(db: Database, model_id: str) -> list[tuple[int, str, float]]:
    """Tracks (id, path, duration) with a first-pass vector but no moment row, by path."""
    rows = db.execute(
        "SELECT t.id, t.path, coalesce(t.duration, 0) FROM tracks t "
        "JOIN embeddings e ON e.track_id = t.id AND e.model_id = ? "
        "WHERE t.status != 'error' AND NOT EXISTS "
        "(SELECT 1 FROM moment_vectors m WHERE m.track_id = t.id AND m.model_id = ?) "
        "ORDER BY t.path",
        (model_id, model_id),
    ).fetchall()
    return [(int(i), os.fsdecode(p), float(d)) for i, p, d in rows]


def moment_starts(duration: float, clip: float, hop: float, max_windows: int) -> list[float]:
    """Window starts 0, hop, 2*hop, ... with the last window ending at the end of the track."""
    if duration <= clip:
        return [0.0]
    count = math.ceil((duration - clip) / hop) + 1
    if count > max_windows:
        hop = (duration - clip) / (max_windows - 1)
        count = max_windows
    return [min(k * hop, duration - clip) for k in range(count)]


def read_moment_windows(
    path: str,
    frontend: AudioFrontendCfg,
    hop: float,
    duration_hint: float,
    max_windows: int = MAX_WINDOWS,
) -> tuple[np.ndarray, list[float]]:
    """Decode one track into windows [W, clip_samples] and their start times."""
    if duration_hint > WHOLE_DECODE_MAX_SECONDS:
        clip = frontend.clip_seconds
        count = len(moment_starts(duration_hint, clip, hop, max_windows))
        # Read by seeking: evenly spaced windows, at the starts the engine places them.
        windows = load_windows(Path(path), frontend, count)
        return windows, window_starts(duration_hint, clip, count)
    samples = load_audio(path, frontend.sample_rate)
    return windows_from_samples(samples, frontend, hop, max_windows)


def windows_from_samples(
    samples: np.ndarray, frontend: AudioFrontendCfg, hop: float, max_windows: int = MAX_WINDOWS
) -> tuple[np.ndarray, list[float]]:
    """Cut mono samples at the model's rate into moment windows and their start times."""
    sr, size = frontend.sample_rate, frontend.clip_samples
    starts = moment_starts(samples.size / sr, frontend.clip_seconds, hop, max_windows)
    windows = np.zeros((len(starts), size), np.float32)
    for k, start in enumerate(starts):
        piece = samples[round(start * sr) : round(start * sr) + size]
        if piece.size == 0:
            continue
        # A track shorter than a window is repeated to fill it, as the first pass does.
        windows[k] = np.tile(piece, -(-size // piece.size))[:size]
    return windows, starts


def _embed(embedder: MomentEmbedder, windows: np.ndarray) -> np.ndarray:
    parts = [
        embedder.embed_windows(windows[lo : lo + WINDOWS_PER_CALL])
        for lo in range(0, len(windows), WINDOWS_PER_CALL)
    ]
    return np.concatenate(parts).astype(np.float32)


def _store(
    db: Database, embedder: MomentEmbedder, track_id: int, starts: list[float], hop: float,
    vectors: np.ndarray,
) -> None:
    rows, scales = quantize(vectors)
    with db.transaction() as conn:
        conn.execute(
            "INSERT OR REPLACE INTO moment_vectors (track_id, model_id, clip_s, hop_s, count, "
            "dim, starts, scales, vectors, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (track_id, embedder.model_id, embedder.cfg.frontend.clip_seconds, hop, len(starts),
             rows.shape[1], np.asarray(starts, "<f4").tobytes(), scales.astype("<f4").tobytes(),
             rows.tobytes(), time.time()),
        )


def run_moment_pass(
    db: Database,
    embedder: MomentEmbedder,
    *,
    hop: float | None = None,
    cancel: threading.Event | None = None,
    progress: ProgressCallback | None = None,
    max_windows: int = MAX_WINDOWS,
) -> MomentSummary:
    """Add dense window vectors to every embedded track that has none for this model yet.

    Args:
        db: the library (writer).
        embedder: the model (``engine.inference.Embedder``).
        hop: seconds between window starts; default: the model's stored setting, else its
            window length (contiguous windows).
        cancel: set it to stop after the current track; what is stored stays.
        progress: called after every track.
        max_windows: most windows per track (the hop grows for longer tracks).
    """
    cancel = cancel or threading.Event()
    frontend = embedder.cfg.frontend
    hop = hop or moment_hop(db, embedder.model_id, frontend.clip_seconds)
    todo = pending_moment_tracks(db, embedder.model_id)
    summary = MomentSummary()
    started = time.monotonic()
    for done, (track_id, path, duration) in enumerate(todo, start=1):
        if cancel.is_set():
            summary.cancelled = True
            break
        try:
            windows, starts = read_moment_windows(path, frontend, hop, duration, max_windows)
            vectors = _embed(embedder, windows)
        except Exception as error:  # a file that fails belongs to that file alone
            reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
            summary.errors.append((path, reason))
            log.warning("moment pass: cannot read %s: %s", path, reason)
        else:
            _store(db, embedder, track_id, starts, hop, vectors)
            summary.tracks += 1
            summary.windows += len(starts)
        if progress:
            rate = done / max(time.monotonic() - started, 1e-6)
            eta = (len(todo) - done) / rate
            progress(Progress(done, len(todo), os.path.basename(path), eta))
    return summary


def moment_pass_job(holder: ModelHolder, database: Database, control: JobControl) -> JobResult:
    """The window's background moment pass (model worker), after the first pass."""
    control.report(Progress(0, None, "Loading the model…"), force=True)
    try:
        embedder = holder.register(database)
    except ModelChoiceError as exc:
        return JobResult("Moments", note=f"Moments are off: {exc}")
    summary = run_moment_pass(database, embedder, cancel=control.cancel, progress=control.report)
    return JobResult("Moments", counts={"tracks": summary.tracks, "windows": summary.windows},
                     errors=[f"{path}: {reason}" for path, reason in summary.errors],
                     cancelled=summary.cancelled)
