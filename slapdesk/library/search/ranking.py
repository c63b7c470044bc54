"""Search the library: one query string in, ranked tracks out.

Audio similarity (the model's text vector against every track vector, exact top-k) is
fused with the metadata full-text rank (FTS5 bm25) by reciprocal-rank fusion, so typing
an artist's name finds their tracks and typing a sound finds tracks that sound like it.
Field filters restrict the candidates first; ``-term`` pushes the query vector away from
a description; ``like:`` starts from a track's own vector (``like:#12@1:30``: from the
window playing at 1:30). With window vectors (``MomentIndex``), each track's best window is
a third ranking in the fusion, and results carry their best moments.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from slapdesk.library.search import moments as windows
from slapdesk.library.search.filters import filtered_track_ids
from slapdesk.library.search.moments import Moment, MomentIndex
from slapdesk.library.search.query_language import (
    ParsedQuery,
    QueryError,
    parse_duration,
    parse_query,
)
from slapdesk.library.search.vector_index import VectorIndex
from slapdesk.library.search.vectors import abstaining_tracks, load_vectors
from slapdesk.library.store.track_rows import json_list

TextEmbedder = Callable[[list[str]], np.ndarray]

# Reciprocal-rank fusion constant (Cormack et al. 2009); larger flattens the rank curve.
RRF_K = 60
# Weights of the metadata rank against the audio rank (1.0) in the fusion: a track whose
# tags contain every word typed ("miles davis") outranks the best sound match; one that
# matches only some words ("tone" of "mellow tone") only nudges the audio ranking.
FULL_MATCH_WEIGHT = 1.5
PARTIAL_MATCH_WEIGHT = 0.5
# How far a "-term" pushes the query vector away (fraction of the negative's vector).
NEGATIVE_WEIGHT = 0.5
# How many audio candidates to fuse, relative to the results asked for.
CANDIDATE_FACTOR = 5
# Weight of the ranking by each track's best window against the whole-track ranking (1.0): a
# track with one strong passage rises, but one window does not outrank a track-wide match.
MOMENT_WEIGHT = 0.5

_FTS_WORD = re.compile(r"\w+", re.UNICODE)
# Words that describe a sound but would match half the tags in a library ("a", "the", ...).
_STOP_WORDS = frozenset({
    "a", "an", "and", "as", "at", "be", "by", "for", "from", "in", "into", "is", "it", "its",
    "of", "on", "or", "that", "the", "this", "to", "with", "some", "something", "music",
    "song", "songs", "track", "tracks", "sound", "sounds", "like",
})  # fmt: skip


class SearchError(Exception):
    """The search cannot run; the message tells the user what to do."""


@dataclass(frozen=True)
class SearchResult:
    """One ranked track."""

    track_id: int
    path: str
    title: str
    artist: str
    album: str
    duration: float | None
    score: float  # fused score: higher is better
    similarity: float | None  # cosine of the audio vector with the query vector
    metadata_match: bool  # the free text matched the track's tags
    moments: tuple[Moment, ...] = ()  # where in the track the query matches best, best first
    genres: tuple[str, ...] = ()
    moods: tuple[str, ...] = ()
    year: int | None = None

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dictionary (paths with undecodable bytes keep their escapes)."""
        extra = {"moments": [m.to_json() for m in self.moments]} if self.moments else {}
        return {
            "id": self.track_id,
            "path": self.path,
            "score": round(self.score, 6),
            "similarity": None if self.similarity is None else round(self.similarity, 6),
            "title": self.title,
            "artist": self.artist,
            "album": self.album,
            "duration": self.duration,
            "genre": list(self.genres),
            "mood": list(self.moods),
            "year": self.year,
            **extra,
        }


def load_index(conn: sqlite3.Connection, model_id: str) -> VectorIndex | None:
    """Read every track vector of ``model_id`` into memory (None when there are none)."""
    ids, matrix = load_vectors(conn, model_id)
    if not len(ids):
        return None
    index = VectorIndex(matrix.shape[1])
    index.add(ids.tolist(), matrix)
    return index


class LibrarySearch:
    """Searches one library with one model's vectors (which may not exist yet)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        index: VectorIndex | None = None,
        embed_text: TextEmbedder | None = None,
        moments: MomentIndex | None = None,
    ) -> None:
        """Create a searcher.

        Args:
            conn: a (read-only) connection to the library.
            index: the model's track vectors; None searches metadata only.
            embed_text: turns strings into unit-norm vectors of the index's size.
            moments: the model's window vectors; with them, results say where they match.
        """
        self.conn = conn
        self.index = index
        self.embed_text = embed_text
        # The last search's query vector (None: it did not rank by sound), for calibration.
        self.query_vector: np.ndarray | None = None
        self.moments = moments

    # -- public ----------------------------------------------------------------------------

    def search(self, query: str | ParsedQuery, limit: int = 50) -> list[SearchResult]:
        """Rank the library for ``query``; best first.

        Raises:
            SearchError: the library is empty, or the query needs vectors that do not exist.
            QueryError: the query cannot be parsed.
        """
        parsed = parse_query(query) if isinstance(query, str) else query
        total = self.conn.execute("SELECT COUNT(*) FROM tracks").fetchone()[0]
        if total == 0:
            raise SearchError("The library is empty: scan a folder first (slapdesk scan ~/Music).")
        allowed = filtered_track_ids(self.conn, parsed)
        allowed = self._without_negative_tags(parsed.negatives, allowed)
        if parsed.like and self.index is None:
            raise SearchError(
                "like: needs track vectors, and this library is not embedded yet: "
                "run slapdesk embed."
            )
        if not parsed.has_similarity or (
            not parsed.text and not parsed.like and not self._can_embed
        ):
            return self._browse(allowed, limit)
        vector = self._query_vector(parsed) if self.index is not None else None
        self.query_vector = vector if self.index is not None and len(self.index) else None
        audio = self._audio_ranking(vector, allowed, limit * CANDIDATE_FACTOR)
        metadata = self._metadata_ranking(parsed.words, allowed, limit * CANDIDATE_FACTOR)
        if not audio and not metadata and self.index is None:
            raise SearchError(
                "No track's tags match, and search by sound needs vectors: run slapdesk embed."
            )
        if vector is None or self.moments is None:
            return self._fuse(audio, metadata, limit)
        count = limit * CANDIDATE_FACTOR
        best = windows.rank_by_best_window(self.moments, self.index, vector, allowed, count)
        results = self._fuse(audio, metadata, limit, best)
        found = windows.attach_moments(self.moments, vector, [r.track_id for r in results])
        return [replace(r, moments=found.get(r.track_id, ())) for r in results]

    # -- filters ---------------------------------------------------------------------------

    @property
    def _can_embed(self) -> bool:
        return self.index is not None and self.embed_text is not None

    def _without_negative_tags(
        self, negatives: Sequence[str], allowed: set[int] | None
    ) -> set[int] | None:
        """Drop the tracks whose tags name a ``-term``: "-drums" never lists a "drums" track."""
        terms = [w for n in negatives for w in _FTS_WORD.findall(n) if w.lower() not in _STOP_WORDS]
        if not terms:
            return allowed
        match = " OR ".join(f'"{term}"*' for term in terms)
        tagged = {
            int(r[0])
            for r in self.conn.execute(
                "SELECT rowid FROM tracks_fts WHERE tracks_fts MATCH ?", (match,)
            )
        }
        if not tagged:
            return allowed
        if allowed is None:
            allowed = {int(r[0]) for r in self.conn.execute("SELECT id FROM tracks")}
        return allowed - tagged

    def _browse(self, allowed: set[int] | None, limit: int) -> list[SearchResult]:
        """Filters only: list matching tracks by artist, album, track number."""
        order = "ORDER BY lower(coalesce(artist,'')), lower(coalesce(album,'')), track_number"
        if allowed is None:
            sql = f"SELECT id FROM tracks {order} LIMIT ?"
            ids = [int(r[0]) for r in self.conn.execute(sql, (limit,))]
        else:
            ids = [
                int(r[0])
                for r in self.conn.execute(f"SELECT id FROM tracks {order}")
                if int(r[0]) in allowed
            ][:limit]
        return self._results({track_id: (0.0, None, False) for track_id in ids}, ids)

    # -- rankings --------------------------------------------------------------------------

    def vector_for(self, query: str | ParsedQuery) -> np.ndarray | None:
        """The unit vector a query is ranked by (None without vectors or similarity terms)."""
        parsed = parse_query(query) if isinstance(query, str) else query
        return self._query_vector(parsed) if self.index is not None else None

    def _query_vector(self, parsed: ParsedQuery) -> np.ndarray | None:
        assert self.index is not None
        parts: list[np.ndarray] = []
        if parsed.text and self.embed_text is not None:
            parts.append(self._embed(parsed.text))
        for reference in parsed.like:
            parts.append(self._track_vector(reference))
        if not parts and not (parsed.negatives and self.embed_text is not None):
            return None
        # With only "-terms" the query starts from nothing: away from them is the direction.
        vector = np.mean(parts, axis=0) if parts else np.zeros(self.index.dim, np.float32)
        for negative in parsed.negatives:
            if self.embed_text is not None:
                vector = vector - NEGATIVE_WEIGHT * self._embed(negative)
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    def _embed(self, text: str) -> np.ndarray:
        assert self.embed_text is not None
        vector = np.asarray(self.embed_text([text]), dtype=np.float32)[0]
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    def _track_vector(self, reference: str) -> np.ndarray:
        assert self.index is not None
        track, at, seconds = reference.rpartition("@")
        if at and track:
            try:
                return self._moment_vector(track, parse_duration(seconds))
            except QueryError:
                pass  # not a time: an "@" in a file name
        track_id = self._resolve_track(reference)
        vector = self.index.vector(track_id)
        if vector is None:
            raise SearchError(f"like:{reference}: that track has no vector; run slapdesk embed.")
        return vector

    def _moment_vector(self, reference: str, seconds: float) -> np.ndarray:
        """``like:#12@1:30``: the window of that track playing at that time."""
        track_id = self._resolve_track(reference)
        vector = None if self.moments is None else self.moments.vector_at(track_id, seconds)
        if vector is None:
            raise SearchError(f"like:{reference}@…: that track has no window vectors yet.")
        return vector

    def _resolve_track(self, reference: str) -> int:
        if reference.startswith("#") and reference[1:].isdigit():
            row = self.conn.execute("SELECT id FROM tracks WHERE id = ?", (int(reference[1:]),))
        else:
            absolute = os.path.abspath(os.path.expanduser(reference))
            row = self.conn.execute(
                "SELECT id FROM tracks WHERE path = ?", (os.fsencode(absolute),)
            )
        found = row.fetchone()
        if found is None:
            raise SearchError(f"like:{reference}: no such track in the library.")
        return int(found[0])

    def _audio_ranking(
        self, vector: np.ndarray | None, allowed: set[int] | None, count: int
    ) -> list[tuple[int, float]]:
        if self.index is None or len(self.index) == 0 or vector is None:
            return []
        mask = None
        if allowed is not None:
            mask = np.isin(self.index.ids, np.fromiter(allowed, dtype=np.int64))
        ids, scores = self.index.top_k(vector, count, allowed=mask)
        return [(int(i), float(s)) for i, s in zip(ids, scores, strict=True)]

    def _metadata_ranking(
        self, words: Sequence[str], allowed: set[int] | None, count: int
    ) -> list[tuple[int, bool]]:
        """Tracks whose tags match the words: (id, matched every word), best first."""
        terms = [
            w for word in words for w in _FTS_WORD.findall(word) if w.lower() not in _STOP_WORDS
        ]
        if not terms:
            return []
        quoted = [f'"{term}"*' for term in terms]
        full = self._fts(" AND ".join(quoted), count)
        partial = self._fts(" OR ".join(quoted), count) if len(terms) > 1 else []
        full_set = set(full)
        ranked = [(i, True) for i in full] + [(i, False) for i in partial if i not in full_set]
        if allowed is not None:
            ranked = [(i, whole) for i, whole in ranked if i in allowed]
        return ranked[:count]

    def _fts(self, match: str, count: int) -> list[int]:
        rows = self.conn.execute(
            "SELECT rowid FROM tracks_fts WHERE tracks_fts MATCH ? ORDER BY bm25(tracks_fts) "
            "LIMIT ?",
            (match, count * 4),
        )
        return [int(r[0]) for r in rows]

    def _fuse(self, audio: list[tuple[int, float]], metadata: list[tuple[int, bool]], limit: int,
              moments: Sequence[tuple[int, float | None]] = ()) -> list[SearchResult]:
        # A track marked as silence, noise or a test tone has no sound to match: it loses
        # its audio rank and comes last, unless its tags match the words typed.
        quiet = abstaining_tracks(self.conn, among=[i for i, _ in audio])
        fused: dict[int, tuple[float, float | None, bool]] = {}
        similarity: float | None
        for rank, (track_id, similarity) in enumerate(i for i in audio if i[0] not in quiet):
            fused[track_id] = (1.0 / (RRF_K + rank + 1), similarity, False)
        for rank, (track_id, track_similarity) in enumerate(moments):
            score, similarity, matched = fused.get(track_id, (0.0, track_similarity, False))
            fused[track_id] = (score + MOMENT_WEIGHT / (RRF_K + rank + 1), similarity, matched)
        for rank, (track_id, whole) in enumerate(metadata):
            weight = FULL_MATCH_WEIGHT if whole else PARTIAL_MATCH_WEIGHT
            score, similarity, _ = fused.get(track_id, (0.0, None, False))
            fused[track_id] = (score + weight / (RRF_K + rank + 1), similarity, True)
        order = sorted(fused, key=lambda i: (-fused[i][0], i))
        for track_id, similarity in audio:
            if track_id in quiet and track_id not in fused:
                fused[track_id] = (0.0, similarity, False)
                order.append(track_id)
        return self._results(fused, order[:limit])

    def _results(
        self, scored: dict[int, tuple[float, float | None, bool]], order: Sequence[int]
    ) -> list[SearchResult]:
        if not order:
            return []
        placeholders = ",".join("?" * len(order))
        rows = {
            int(r[0]): r
            for r in self.conn.execute(
                f"SELECT id, path, title, artist, album, duration, genre, mood, year FROM tracks "
                f"WHERE id IN ({placeholders})",
                list(order),
            )
        }
        results = []
        for track_id in order:
            row = rows.get(track_id)
            if row is None:
                continue
            score, similarity, matched = scored[track_id]
            results.append(
                SearchResult(
                    track_id=track_id,
                    path=os.fsdecode(row[1]),
                    title=row[2] or "",
                    artist=row[3] or "",
                    album=row[4] or "",
                    duration=row[5],
                    score=score,
                    similarity=similarity,
                    metadata_match=matched,
                    genres=json_list(row[6]),
                    moods=json_list(row[7]),
                    year=row[8],
                )
            )
        return results
