"""Searching the library as the window and the command line both do it.

``rank_tracks`` is the one ranking path: it takes the model's id and a way to get its text
encoder (called only when the library has vectors for that model), fetches the vectors (from an
``IndexCache`` when the caller keeps one) and ranks with ``LibrarySearch``. ``run_search`` is the
window's search job on top of it: a fresh read-only connection, the sidebar's scope, browsing
when the box is empty, and "more like this" before the model has loaded.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slapdesk.library import playlists
from slapdesk.library.search.index_cache import IndexCache
from slapdesk.library.search.match import MatchScale, match_label, nothing_close
from slapdesk.library.search.moments import MomentIndex
from slapdesk.library.search.query_language import ParsedQuery, QueryError, parse_query
from slapdesk.library.search.ranking import (
    LibrarySearch,
    SearchError,
    SearchResult,
    TextEmbedder,
    load_index,
)
from slapdesk.library.search.vectors import vectors_stamp
from slapdesk.library.store import track_rows
from slapdesk.library.store.database import open_readonly

if TYPE_CHECKING:
    from slapdesk.library.jobs.active_model import ModelHolder
    from slapdesk.library.jobs.control import JobControl

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ranking:
    """Ranked tracks, whether the model's vectors took part, and how well each matches."""

    results: list[SearchResult]
    by_sound: bool
    labels: dict[int, str] = field(default_factory=dict)  # "strong"... per track, see match
    note: str = ""  # "No track sounds much like ..." when nothing matches well


def rank_tracks(
    conn: sqlite3.Connection,
    query: str | ParsedQuery,
    limit: int,
    model_id: str = "",
    text_encoder: Callable[[], TextEmbedder] | None = None,
    cache: IndexCache | None = None,
    window_seconds: float | None = None,
) -> Ranking:
    """Rank the library for ``query`` with ``model_id``'s vectors when the library has them.

    Args:
        conn: a (read-only) connection to the library.
        query: the search box's text, or an already parsed query.
        limit: results wanted.
        model_id: the model whose track vectors rank by sound ("" = tags only).
        text_encoder: returns the model's text embedder; called only when vectors exist.
        cache: keeps the vectors between calls (None: read them for this call).
        window_seconds: the model's window length; with it, each track's windows are scored
            too and results carry their best moments.

    Raises:
        SearchError: the library is empty, or the query needs vectors that do not exist.
        QueryError: the query cannot be parsed.
    """
    parsed = parse_query(query) if isinstance(query, str) else query
    index = None
    if model_id and parsed.has_similarity:
        index = cache.get(conn, model_id) if cache is not None else load_index(conn, model_id)
    embed_text = text_encoder() if index is not None and text_encoder is not None else None
    moments = None
    if index is not None and window_seconds:
        moments = (cache.moments.get(conn, model_id, window_seconds) if cache is not None
                   else MomentIndex.load(conn, model_id, window_seconds))
    searcher = LibrarySearch(conn, index, embed_text, moments)
    results = searcher.search(parsed, limit=limit)
    scale = None
    if index is not None and searcher.query_vector is not None:
        scale = MatchScale.of(index.scores(searcher.query_vector))
    labels = {r.track_id: match_label(r.similarity, r.metadata_match, scale) for r in results}
    if not parsed.like and any("tags" in label for label in labels.values()):
        # The words name some tracks in their tags: those are the answer, with the tracks
        # that also sound like it; ones that only sound a little like it would bury them.
        results = [r for r in results if labels[r.track_id] != "weak"]
    note = ""
    if scale is not None and parsed.text and not parsed.like:
        note = nothing_close(parsed.text, list(labels.values()))
    return Ranking(results, index is not None, labels, note)


@dataclass(frozen=True)
class Scope:
    """What the sidebar restricts results to."""

    kind: str = "library"  # library | folder | playlist
    value: str = ""  # folder path or playlist file


@dataclass(frozen=True)
class SearchAnswer:
    """The answer to one query of the search box: track ids in order, and how it was found."""

    generation: int  # which request this answers (later ones win)
    query: str
    ids: list[int]
    scores: dict[int, float] = field(default_factory=dict)  # sorts the Match column
    labels: dict[int, str] = field(default_factory=dict)  # what the Match column shows
    elapsed_ms: float = 0.0
    mode: str = "metadata"  # metadata | sound | like | browse
    message: str = ""  # why there are no (or only tag) results, for the status line
    embedded: int = -1  # tracks with a vector of the model searched with (-1: no model)
    total: int = 0  # tracks in the library


def status_line(answer: SearchAnswer, embedding: bool) -> str:
    """The line above the results: how many, how found, how fast, and what is missing."""
    what = {"like": "that sound alike", "sound": "by sound and tags",
            "metadata": "by tags"}.get(answer.mode, "")
    count = f"{len(answer.ids):,} track{'s' if len(answer.ids) != 1 else ''}"
    status = f"{count} {what}".strip()
    if answer.mode != "browse":
        status += f" · {answer.elapsed_ms:.0f} ms"
    note = coverage_note(answer, embedding)
    if answer.message and not (embedding and note):  # not "run slapdesk embed" meanwhile
        status += f" — {answer.message}"
    return status + (f" — {note}" if note else "")


def coverage_note(answer: SearchAnswer, embedding: bool) -> str:
    """While the window embeds, that the results cover only part of the library ("" else).

    Said instead of advising a command the window is running. When no embedding runs, the
    tracks still without a vector are ones that cannot be listened to (the problem files),
    which the status line need not repeat on every query.
    """
    if not embedding or answer.mode == "browse" or not 0 <= answer.embedded < answer.total:
        return ""
    if answer.embedded == 0:
        return "listening to the tracks: searching tags only until the first are done"
    return (f"searching {answer.embedded:,} of {answer.total:,} tracks by sound — "
            "embedding the rest")


def _browse(conn: sqlite3.Connection, scope: Scope) -> list[int]:
    if scope.kind == "playlist":
        return track_rows.ids_for_paths(conn, playlists.read_m3u8(Path(scope.value)))
    return track_rows.all_track_ids(conn, folder=scope.value if scope.kind == "folder" else None)


def _text_side(holder: ModelHolder | None) -> Any:
    """The model's text side, loaded here on first use (numpy: a fraction of a second)."""
    if holder is None:
        return None
    from slapdesk.library.models import ModelChoiceError

    try:
        return holder.text()
    except (ModelChoiceError, RuntimeError) as error:
        log.info("searching tags only: %s", error)
        return None


def window_seconds(holder: ModelHolder | None) -> float | None:
    """The active model's window length, from its configuration (None before it is chosen)."""
    path = holder.bundle if holder is not None else None
    if path is None:
        return None
    from engine.bundle_info import BundleError, read_bundle_info

    try:
        return read_bundle_info(path).cfg.frontend.clip_seconds
    except BundleError:
        return None


def _embedded(conn: sqlite3.Connection, holder: ModelHolder | None) -> int:
    """How many tracks have a vector of the active model (-1 when no model can search)."""
    embedder = _text_side(holder)
    return -1 if embedder is None else vectors_stamp(conn, embedder.model_id)[0]


def _ranked(conn: sqlite3.Connection, holder: ModelHolder | None, cache: IndexCache,
            query: str, limit: int) -> tuple[Ranking, str]:
    embedder = _text_side(holder)
    model_id = embedder.model_id if embedder is not None else ""
    text_encoder = (lambda: embedder.embed_text) if embedder is not None else None
    ranking = rank_tracks(conn, query, limit, model_id, text_encoder, cache,
                          window_seconds=window_seconds(holder))
    mode = "sound" if ranking.by_sound else "metadata"
    if query.startswith("like:"):
        mode = "like"
    return ranking, mode


def run_search(
    library_path: Path, holder: ModelHolder | None, cache: IndexCache, query: str, scope: Scope,
    limit: int, generation: int, like_track: int | None, _control: JobControl,
) -> SearchAnswer:
    """Answer one query on a fresh read-only connection (runs in a worker thread)."""
    started = time.perf_counter()
    conn = open_readonly(library_path)
    scores: dict[int, float] = {}
    labels: dict[int, str] = {}
    message, mode = "", "browse"
    embedded, total = -1, 0
    try:
        if like_track is None and not query.strip():
            ids = _browse(conn, scope)
        else:
            text = f"like:#{like_track}" if like_track is not None else query
            embedded, total = _embedded(conn, holder), track_rows.count_tracks(conn)
            try:
                ranking, mode = _ranked(conn, holder, cache, text, limit)
                ids = [r.track_id for r in ranking.results]
                scores = {r.track_id: r.score for r in ranking.results}
                labels, message = ranking.labels, ranking.note
            except (SearchError, QueryError) as error:
                ids, message = [], str(error)
            if like_track is not None and not ids:  # no model loaded yet: read the vectors
                ids, scores = track_rows.similar_tracks(conn, like_track, limit)
                message = "" if ids else message
                mode = "like"
            if scope.kind != "library":
                inside = set(_browse(conn, scope))
                ids = [i for i in ids if i in inside]
    finally:
        conn.close()
    elapsed = (time.perf_counter() - started) * 1000
    return SearchAnswer(generation, query, ids, scores, labels, elapsed, mode, message,
                        embedded, total)
