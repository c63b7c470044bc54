"""The moment strip's data: one track's window scores for the current query (a window job).

Computed on a fresh read-only connection from the stored window vectors only (the dense moment
pass where it ran, the first pass's windows otherwise). The query vector comes from
``LibrarySearch.vector_for``, so the strip reads the query exactly as search ranks it (text,
``-negatives``, ``like:#ID`` and ``like:#ID@1:30``), with only the vectors it needs in memory.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from slapdesk.library.jobs.search import window_seconds
from slapdesk.library.models import ModelChoiceError
from slapdesk.library.search.moments import Moment, MomentIndex, read_moment_rows
from slapdesk.library.search.query_language import ParsedQuery, QueryError, parse_query
from slapdesk.library.search.ranking import LibrarySearch, SearchError
from slapdesk.library.search.vector_index import VectorIndex
from slapdesk.library.store.database import open_readonly

if TYPE_CHECKING:
    from slapdesk.library.jobs.active_model import ModelHolder
    from slapdesk.library.jobs.control import JobControl


@dataclass(frozen=True)
class StripData:
    """One track's window scores for one query (no windows: nothing to show)."""

    track_id: int
    query: str
    starts: tuple[float, ...] = ()
    scores: tuple[float, ...] = ()
    clip: float = 0.0
    duration: float = 0.0
    moments: tuple[Moment, ...] = ()  # best first


def _like_ids(conn: sqlite3.Connection, references: tuple[str, ...]) -> list[int]:
    """Track ids that ``like:`` references name (``#12``, ``#12@1:30`` or a path)."""
    ids = []
    for reference in references:
        track = reference.rpartition("@")[0] or reference
        if track.startswith("#") and track[1:].isdigit():
            ids.append(int(track[1:]))
            continue
        path = os.fsencode(os.path.abspath(os.path.expanduser(track)))
        row = conn.execute("SELECT id FROM tracks WHERE path = ?", (path,)).fetchone()
        if row is not None:
            ids.append(int(row[0]))
    return ids


def _searcher(conn: sqlite3.Connection, embedder, clip: float, parsed: ParsedQuery,
              track_id: int) -> LibrarySearch:
    """A searcher holding only the vectors the query and the strip need."""
    needed = [track_id, *_like_ids(conn, parsed.like)]
    marks = ",".join("?" * len(needed))
    rows = conn.execute(
        f"SELECT track_id, vector FROM embeddings WHERE model_id = ? AND track_id IN ({marks})",
        [embedder.model_id, *needed],
    ).fetchall()
    index = VectorIndex(embedder.dim)
    if rows:
        index.add([int(r[0]) for r in rows], np.stack([np.frombuffer(r[1], "<f4") for r in rows]))
    moments = MomentIndex(read_moment_rows(conn, embedder.model_id, clip, needed))
    return LibrarySearch(conn, index, embedder.embed_text, moments)


def track_strip(library_path: Path, holder: ModelHolder, track_id: int, query: str,
                _control: JobControl) -> StripData:
    """The strip of ``track_id`` for ``query`` (empty: no model, no sound query, no windows)."""
    empty = StripData(track_id, query)
    try:
        parsed = parse_query(query)
    except QueryError:
        return empty
    if not parsed.has_similarity:
        return empty
    try:
        embedder = holder.text()
    except (ModelChoiceError, RuntimeError):
        return empty  # no usable model: search says so already
    clip = window_seconds(holder)
    if clip is None:
        return empty
    conn = open_readonly(library_path)
    try:
        searcher = _searcher(conn, embedder, clip, parsed, track_id)
        vector = searcher.vector_for(parsed)
        moments = searcher.moments
        if vector is None or moments is None or track_id not in moments:
            return empty
        starts, scores = moments.scores(track_id, vector)
        row = conn.execute("SELECT duration FROM tracks WHERE id = ?", (track_id,)).fetchone()
    except (SearchError, QueryError):
        return empty
    finally:
        conn.close()
    return StripData(track_id, query, tuple(starts.tolist()), tuple(scores.tolist()),
                     moments.clip_of(track_id), float(row[0] or 0.0) if row else 0.0,
                     moments.moments(track_id, vector))
