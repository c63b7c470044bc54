"""Moments: where inside a track a query matches, from per-window vectors with start times.

Two sources of windows, per (track, model):
- the dense moment pass (``moment_vectors``: a window every few seconds, int8 rows with a
  float32 scale each: a quarter of float32's size, cosine error ~1e-3), when it has run;
- otherwise the K windows of the first embedding pass (``window_embeddings``, float32).

``MomentIndex`` holds all of one model's windows in memory as int8 and scores them against a
query in chunks (no full float32 copy), giving each track's best window (for ranking) and its
best moments (for display and playback).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from slapdesk.library.search.vector_index import VectorIndex

# Rows scored per chunk: bounds the float32 temporary to ~64 MB at 512 dimensions.
_CHUNK_ROWS = 32_768
# At most this many moments are reported per track (non-overlapping, best first).
DEFAULT_MOMENTS = 3


@dataclass(frozen=True)
class Moment:
    """A stretch of one track and how well it matches the query."""

    start: float  # seconds
    end: float  # seconds
    score: float  # cosine similarity of the window with the query

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dictionary."""
        return {"start": round(self.start, 2), "end": round(self.end, 2),
                "score": round(self.score, 4), "label": span_label(self.start, self.end)}


def clock(seconds: float) -> str:
    """``mm:ss`` (``h:mm:ss`` past an hour)."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def span_label(start: float, end: float) -> str:
    """``mm:ss–mm:ss``."""
    return f"{clock(start)}–{clock(end)}"


def quantize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per row: (int8 [N, D], float32 scales [N]); row ≈ int8 * scale."""
    vectors = np.asarray(vectors, dtype=np.float32)
    scales = np.abs(vectors).max(axis=1) / 127.0
    scales = np.where(scales > 0, scales, 1.0).astype(np.float32)
    rows = np.clip(np.rint(vectors / scales[:, None]), -127, 127).astype(np.int8)
    return rows, scales


def dequantize(rows: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """The float32 rows back (not renormalised)."""
    return rows.astype(np.float32) * scales[:, None]


@dataclass(frozen=True)
class TrackWindows:
    """The windows of one track: where they start, how long, and their int8 vectors."""

    starts: np.ndarray  # float32 [W], seconds
    clip: float  # window length, seconds
    rows: np.ndarray  # int8 [W, D]
    scales: np.ndarray  # float32 [W]


def read_moment_rows(
    conn: sqlite3.Connection,
    model_id: str,
    clip_seconds: float,
    track_ids: Iterable[int] | None = None,
) -> dict[int, TrackWindows]:
    """Windows per track: the moment pass where it ran, else the first pass's windows.

    Args:
        conn: the library.
        model_id: whose vectors.
        clip_seconds: the model's window length (the first pass stores only start times).
        track_ids: only these tracks (default all).
    """
    wanted = None if track_ids is None else sorted({int(t) for t in track_ids})
    only, params = "", [model_id]
    if wanted is not None:
        only = f" AND track_id IN ({','.join('?' * len(wanted))})"
        params += [str(t) for t in wanted]
    found: dict[int, TrackWindows] = {}
    for track_id, clip, dim, starts, scales, rows in conn.execute(
        "SELECT track_id, clip_s, dim, starts, scales, vectors FROM moment_vectors "
        f"WHERE model_id = ?{only}",
        params,
    ):
        found[int(track_id)] = TrackWindows(
            np.frombuffer(starts, "<f4"), float(clip),
            np.frombuffer(rows, np.int8).reshape(-1, int(dim)), np.frombuffer(scales, "<f4"),
        )
    first_pass: dict[int, tuple[list[float], list[np.ndarray]]] = {}
    for track_id, start, blob in conn.execute(
        "SELECT track_id, coalesce(start_s, 0), vector FROM window_embeddings "
        f"WHERE model_id = ?{only} ORDER BY track_id, window",
        params,
    ):
        if track_id in found:
            continue
        starts, vectors = first_pass.setdefault(int(track_id), ([], []))
        starts.append(float(start))
        vectors.append(np.frombuffer(blob, "<f4"))
    for track_id, (starts, vectors) in first_pass.items():
        rows, scales = quantize(np.stack(vectors))
        found[track_id] = TrackWindows(np.asarray(starts, np.float32), clip_seconds, rows, scales)
    return found


class MomentIndex:
    """Every window of one model's tracks, int8 in memory, scored per query."""

    def __init__(self, windows: dict[int, TrackWindows]) -> None:
        """Build from ``read_moment_rows``; tracks are kept in id order."""
        ids = sorted(windows)
        self.track_ids = np.asarray(ids, dtype=np.int64)
        self._windows = windows
        counts = [len(windows[t].starts) for t in ids]
        self._offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        dim = next((windows[t].rows.shape[1] for t in ids), 0)
        self._rows = (np.concatenate([windows[t].rows for t in ids]) if ids
                      else np.zeros((0, dim), np.int8))
        self._scales = (np.concatenate([windows[t].scales for t in ids]) if ids
                        else np.zeros(0, np.float32))
        self._position = {t: i for i, t in enumerate(ids)}

    @classmethod
    def load(
        cls, conn: sqlite3.Connection, model_id: str, clip_seconds: float
    ) -> MomentIndex | None:
        """All windows of ``model_id`` (None when the library has none)."""
        windows = read_moment_rows(conn, model_id, clip_seconds)
        return cls(windows) if windows else None

    def __len__(self) -> int:
        return len(self.track_ids)

    def __contains__(self, track_id: object) -> bool:
        return track_id in self._position

    @property
    def window_count(self) -> int:
        """Windows held, over all tracks."""
        return len(self._scales)

    def clip_of(self, track_id: int) -> float:
        """Window length of one track's windows, seconds."""
        return self._windows[int(track_id)].clip

    def _window_scores(self, query: np.ndarray) -> np.ndarray:
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        out = np.empty(len(self._scales), np.float32)
        for lo in range(0, len(out), _CHUNK_ROWS):
            chunk = self._rows[lo : lo + _CHUNK_ROWS].astype(np.float32)
            norms = np.linalg.norm(chunk, axis=1)
            out[lo : lo + len(chunk)] = (chunk @ query) / np.maximum(norms, 1e-12)
        return out

    def best_per_track(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(track ids, best window cosine per track), in id order."""
        if not len(self.track_ids):
            return self.track_ids, np.zeros(0, np.float32)
        scores = self._window_scores(query)
        return self.track_ids, np.maximum.reduceat(scores, self._offsets[:-1])

    def scores(self, track_id: int, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(window starts, cosine per window) of one track, in time order."""
        windows = self._windows[int(track_id)]
        vectors = dequantize(windows.rows, windows.scales)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return windows.starts, vectors @ np.asarray(query, np.float32).reshape(-1)

    def moments(
        self, track_id: int, query: np.ndarray, count: int = DEFAULT_MOMENTS
    ) -> tuple[Moment, ...]:
        """The best non-overlapping windows of one track, best first."""
        if int(track_id) not in self._position:
            return ()
        clip = self._windows[int(track_id)].clip
        starts, scores = self.scores(track_id, query)
        chosen: list[Moment] = []
        for k in np.argsort(-scores, kind="stable"):
            start = float(starts[k])
            if any(start < m.end and m.start < start + clip for m in chosen):
                continue
            chosen.append(Moment(start, start + clip, float(scores[k])))
            if len(chosen) == count:
                break
        return tuple(chosen)

    def vector_at(self, track_id: int, seconds: float) -> np.ndarray | None:
        """The unit vector of the window of ``track_id`` that covers (or is nearest) ``seconds``."""
        windows = self._windows.get(int(track_id))
        if windows is None:
            return None
        centres = windows.starts + windows.clip / 2
        k = int(np.argmin(np.abs(centres - seconds)))
        vector = dequantize(windows.rows[k : k + 1], windows.scales[k : k + 1])[0]
        return vector / max(float(np.linalg.norm(vector)), 1e-12)


def rank_by_best_window(
    moments: MomentIndex,
    index: VectorIndex | None,
    vector: np.ndarray,
    allowed: set[int] | None,
    count: int,
) -> list[tuple[int, float | None]]:
    """(track id, whole-track similarity) by each track's best window, best first."""
    ids, best = moments.best_per_track(vector)
    if allowed is not None:
        keep = np.isin(ids, np.fromiter(allowed, dtype=np.int64))
        ids, best = ids[keep], best[keep]
    ranked = []
    for track_id in ids[np.argsort(-best, kind="stable")[:count]].tolist():
        track_vector = None if index is None else index.vector(track_id)
        ranked.append((track_id, None if track_vector is None else float(track_vector @ vector)))
    return ranked


def attach_moments(
    index: MomentIndex, query: np.ndarray, track_ids: Sequence[int], count: int = DEFAULT_MOMENTS
) -> dict[int, tuple[Moment, ...]]:
    """Best moments of each listed track (tracks without windows get none)."""
    return {int(t): index.moments(int(t), query, count) for t in track_ids if int(t) in index}


class MomentCache:
    """One model's windows kept in memory between searches, reloaded only when they change."""

    def __init__(self) -> None:
        """Start empty."""
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._index: MomentIndex | None = None

    def get(self, conn: sqlite3.Connection, model_id: str, clip: float) -> MomentIndex | None:
        """The windows of ``model_id`` (None when the library has none)."""
        dense = conn.execute(
            "SELECT count(*), max(created_at) FROM moment_vectors WHERE model_id = ?", (model_id,)
        ).fetchone()
        first = conn.execute(
            "SELECT count(*) FROM window_embeddings WHERE model_id = ?", (model_id,)
        ).fetchone()
        key = (model_id, clip, *dense, *first)
        with self._lock:
            if key != self._key:
                self._index = MomentIndex.load(conn, model_id, clip)
                self._key = key
            return self._index
