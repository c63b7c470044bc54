"""Read-only queries the window needs: rows by id, sorted id lists, metadata full-text search.

Every function takes a plain ``sqlite3.Connection`` (the UI's read-only one) and only reads the
``tracks``, ``tracks_fts`` and ``folders`` tables of the library schema; nothing here writes.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# Columns a view may sort by, mapped to the SQL expression that sorts them (never user text).
SORT_KEYS: dict[str, str] = {
    "title": "lower(coalesce(title, ''))",
    "artist": "lower(coalesce(artist, ''))",
    "album": "lower(coalesce(album, ''))",
    "genre": "lower(coalesce(genre, ''))",
    "year": "coalesce(year, 0)",
    "duration": "coalesce(duration, 0)",
    "format": "coalesce(format, '') || ' ' || coalesce(codec, '')",
    "path": "path",
    "id": "id",
}

_ROW_COLUMNS = (
    "id, path, title, artist, album, albumartist, genre, mood, year, track_number, "
    "duration, codec, sample_rate, channels, bpm, comment, tags, status, error, format"
)
# SQLite limits host parameters per statement (32766 in modern builds); stay well below.
_CHUNK = 900


@dataclass(frozen=True)
class TrackRow:
    """One track as the window shows it."""

    id: int
    path: str  # file system path, decoded with os.fsdecode (surrogates kept)
    title: str
    artist: str
    album: str
    albumartist: str
    genre: tuple[str, ...]
    mood: tuple[str, ...]
    year: int | None
    track_number: int | None
    duration: float | None  # seconds
    codec: str
    format: str  # the format registry's key ("flac", "m4a", ...), "" when unknown
    sample_rate: int | None
    channels: int | None
    bpm: float | None
    comment: str
    tags: dict[str, object]  # every other tag the scanner read
    status: str
    error: str

    @property
    def display_title(self) -> str:
        """The title, else the file name."""
        return self.title or os.path.basename(self.path)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return os.fsdecode(value)
    return str(value)


def json_list(value: object) -> tuple[str, ...]:
    """A multi-valued tag column (a JSON list, or one bare value) as a tuple of strings."""
    if value is None or value == "":
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    try:
        parsed = json.loads(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return (str(value),)
    if isinstance(parsed, list):
        return tuple(str(v) for v in parsed)
    return (str(parsed),) if parsed else ()


def _json_dict(value: object) -> dict[str, object]:
    if not value:
        return {}
    try:
        parsed = json.loads(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(str(value).split("/")[0].strip()[:4] if isinstance(value, str) else value)
    except (TypeError, ValueError):
        return None


def _float(value: object) -> float | None:
    try:
        return None if value is None or value == "" else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _row(values: sqlite3.Row | tuple) -> TrackRow:
    (track_id, path, title, artist, album, albumartist, genre, mood, year, track_number,
     duration, codec, sample_rate, channels, bpm, comment, tags, status, error, fmt) = values
    return TrackRow(
        id=int(track_id),
        path=_text(path),
        title=_text(title),
        artist=_text(artist),
        album=_text(album),
        albumartist=_text(albumartist),
        genre=json_list(genre),
        mood=json_list(mood),
        year=_int(year),
        track_number=_int(track_number),
        duration=_float(duration),
        codec=_text(codec),
        format=_text(fmt),
        sample_rate=_int(sample_rate),
        channels=_int(channels),
        bpm=_float(bpm),
        comment=_text(comment),
        tags=_json_dict(tags),
        status=_text(status),
        error=_text(error),
    )


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def fetch_rows(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, TrackRow]:
    """Read the rows of ``ids`` (missing ids are simply absent from the result)."""
    found: dict[int, TrackRow] = {}
    for chunk in _chunks(list(ids)):
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT {_ROW_COLUMNS} FROM tracks WHERE id IN ({marks})"
        for values in conn.execute(sql, tuple(chunk)):
            row = _row(tuple(values))
            found[row.id] = row
    return found


def fetch_row(conn: sqlite3.Connection, track_id: int) -> TrackRow | None:
    """Read one row, or None when the track is gone."""
    return fetch_rows(conn, [track_id]).get(track_id)


def _folder_clause(folder: str | None) -> tuple[str, tuple[bytes, ...]]:
    if not folder:
        return "", ()
    prefix = os.fsencode(os.path.join(folder, ""))
    # Paths are BLOBs: compare the byte prefix, which LIKE cannot do losslessly.
    return " WHERE substr(path, 1, ?) = ?", (len(prefix), prefix)  # type: ignore[return-value]


def all_track_ids(
    conn: sqlite3.Connection, sort: str = "artist", descending: bool = False,
    folder: str | None = None,
) -> list[int]:
    """Every track id (optionally only those under ``folder``) in the given order."""
    where, params = _folder_clause(folder)
    key = SORT_KEYS.get(sort, "id")
    direction = "DESC" if descending else "ASC"
    sql = f"SELECT id FROM tracks{where} ORDER BY {key} {direction}, id {direction}"
    return [int(r[0]) for r in conn.execute(sql, params)]


def sort_ids(
    conn: sqlite3.Connection, ids: Sequence[int], sort: str, descending: bool = False
) -> list[int]:
    """Return ``ids`` reordered by a column, sorted in the database (ids not found go last)."""
    key = SORT_KEYS.get(sort, "id")
    wanted = set(ids)
    direction = "DESC" if descending else "ASC"
    # One pass over the table sorted by SQLite beats IN-lists for large result sets.
    ordered = [
        int(r[0])
        for r in conn.execute(f"SELECT id FROM tracks ORDER BY {key} {direction}, id {direction}")
        if r[0] in wanted
    ]
    seen = set(ordered)
    return ordered + [i for i in ids if i not in seen]


def count_tracks(conn: sqlite3.Connection) -> int:
    """How many tracks the library holds."""
    return int(conn.execute("SELECT count(*) FROM tracks").fetchone()[0])


def list_folders(conn: sqlite3.Connection) -> list[str]:
    """The library's root folders, as paths."""
    try:
        rows = conn.execute("SELECT path FROM folders ORDER BY path").fetchall()
    except sqlite3.OperationalError:
        return []
    return [_text(r[0]) for r in rows]


_FTS_WORD = re.compile(r"\w+", re.UNICODE)


def fts_query(text: str) -> str:
    """Turn what a user typed into a safe FTS5 query: every word must match, as a prefix."""
    words = _FTS_WORD.findall(text)
    return " ".join(f'"{w}"*' for w in words)


def text_search(conn: sqlite3.Connection, text: str, limit: int = 10_000) -> list[int]:
    """Metadata full-text search (FTS5 over the text tags), best match first.

    An empty query returns every track. Falls back to ``LIKE`` on title/artist/album when the
    library has no FTS table.
    """
    query = fts_query(text)
    if not query:
        return all_track_ids(conn)[:limit]
    try:
        rows = conn.execute(
            "SELECT rowid FROM tracks_fts WHERE tracks_fts MATCH ? ORDER BY rank LIMIT ?",
            (query, limit),
        ).fetchall()
    except sqlite3.OperationalError:
        pattern = f"%{text.strip()}%"
        rows = conn.execute(
            "SELECT id FROM tracks WHERE title LIKE ? OR artist LIKE ? OR album LIKE ? "
            "ORDER BY id LIMIT ?",
            (pattern, pattern, pattern, limit),
        ).fetchall()
    return [int(r[0]) for r in rows]


def ids_for_paths(conn: sqlite3.Connection, paths: Sequence[str]) -> list[int]:
    """Track ids for file paths, in the given order (paths not in the library are skipped)."""
    found: dict[bytes, int] = {}
    blobs = [os.fsencode(p) for p in paths]
    for chunk in _chunks(blobs):  # type: ignore[arg-type]
        marks = ",".join("?" * len(chunk))
        for track_id, path in conn.execute(
            f"SELECT id, path FROM tracks WHERE path IN ({marks})", tuple(chunk)
        ):
            found[bytes(path)] = int(track_id)
    return [found[b] for b in blobs if b in found]


def tag_scores(
    conn: sqlite3.Connection, track_id: int, model_id: str | None = None, limit: int = 12
) -> list[tuple[str, float]]:
    """The model's tag scores for a track, best first, as (tag, score).

    Reads ``tag_proposals``; with no ``model_id`` the most recent model's proposals are used.
    """
    params: tuple = (track_id,)
    where = "track_id = ?"
    if model_id:
        where += " AND model_id = ?"
        params += (model_id,)
    try:
        rows = conn.execute(
            f"SELECT tag, max(score) FROM tag_proposals WHERE {where} "
            "GROUP BY tag ORDER BY max(score) DESC LIMIT ?",
            (*params, limit),
        ).fetchall()
    except sqlite3.OperationalError:
        return []
    return [(str(tag), float(score)) for tag, score in rows]


def _vector(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4")


def similar_tracks(
    conn: sqlite3.Connection, track_id: int, limit: int = 100, model_id: str | None = None
) -> tuple[list[int], dict[int, float]]:
    """Tracks whose stored embedding is closest to ``track_id``'s (cosine), best first.

    A direct scan of the ``embeddings`` table for the reader's own use; for large libraries
    the in-memory index (``search.vector_index``) answers in milliseconds instead. Returns
    ``([], {})`` when the track has no vector.
    """
    params: tuple = (track_id,)
    sql = "SELECT model_id, vector FROM embeddings WHERE track_id = ?"
    if model_id:
        sql += " AND model_id = ?"
        params += (model_id,)
    row = conn.execute(sql + " ORDER BY created_at DESC LIMIT 1", params).fetchone()
    if row is None:
        return [], {}
    model, query = row[0], _vector(row[1])
    ids, vectors = [], []
    for other_id, blob in conn.execute(
        "SELECT track_id, vector FROM embeddings WHERE model_id = ?", (model,)
    ):
        ids.append(int(other_id))
        vectors.append(_vector(blob))
    matrix = np.stack(vectors)
    scores = matrix @ query
    top = np.argsort(-scores)[:limit]
    ranked = [ids[i] for i in top]
    return ranked, {ids[i]: float(scores[i]) for i in top}
