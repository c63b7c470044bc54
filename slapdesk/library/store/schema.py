"""The library's schema: one migration function per version, applied in order.

A released version's migration never changes; a later schema adds ``_migrate_N``. Every
released version keeps a fixture in ``tests/data/library_vN.sql`` that must still open.

Conventions other modules rely on:
- Paths are BLOBs holding ``os.fsencode(absolute path)``: lossless for non-UTF-8 names.
- ``tracks.status`` is ``ok`` (readable), ``damaged`` (tags read, but the file is truncated or
  otherwise broken) or ``error`` (unreadable; only path, size, mtime and ``error`` are set).
  Embedding and tagging should take ``status != 'error'``.
- ``genre`` and ``mood`` hold JSON lists of strings; ``tags`` a JSON object of every text tag
  in the file (key -> list of strings); ``old``/``new`` in ``tag_changes`` hold JSON values.
- Vectors are little-endian float32 BLOBs of ``dim`` values.
- Times are Unix seconds (REAL).
- ``tracks_fts`` follows ``tracks`` through triggers; see ``fts_sync`` for bulk inserts.
- ``embeddings.abstain`` (schema 2) is NULL when the model may describe the track, else why
  it should not: ``silence``, ``noise`` or ``tone`` (``engine.abstain``). Such tracks keep
  their vector but get no tag proposals and rank last in search. Vectors stored before
  schema 2 were never checked and read as NULL.
- ``audio_failures`` (schema 5) lists readable tracks whose audio failed to decode when
  embedded; the row counts only while the track's size and mtime still match it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

_V1 = """
CREATE TABLE folders (
    id INTEGER PRIMARY KEY,
    path BLOB NOT NULL UNIQUE,
    added_at REAL NOT NULL,
    last_scan_at REAL
);

CREATE TABLE tracks (
    id INTEGER PRIMARY KEY,
    path BLOB NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    inode INTEGER,
    format TEXT,
    duration REAL,
    codec TEXT,
    sample_rate INTEGER,
    channels INTEGER,
    bitrate INTEGER,
    title TEXT,
    artist TEXT,
    album TEXT,
    albumartist TEXT,
    genre TEXT,
    mood TEXT,
    year INTEGER,
    track_number INTEGER,
    comment TEXT,
    bpm REAL,
    tags TEXT,
    status TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'damaged', 'error')),
    error TEXT,
    fingerprint BLOB,
    added_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX tracks_fingerprint ON tracks (size, fingerprint);
CREATE INDEX tracks_problems ON tracks (status) WHERE status != 'ok';
CREATE INDEX tracks_artist ON tracks (artist COLLATE NOCASE);
CREATE INDEX tracks_album ON tracks (album COLLATE NOCASE);
CREATE INDEX tracks_year ON tracks (year);

-- Full-text index over the text tags, kept in step with tracks by triggers. A bulk writer
-- (the scanner) may set fts_sync.deferred = 1 inside its transaction, insert many rows, index
-- them with one INSERT ... SELECT (7x faster than a trigger per row), and set it back to 0
-- before COMMIT; other connections never see it set.
CREATE TABLE fts_sync (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    deferred INTEGER NOT NULL DEFAULT 0
);
INSERT INTO fts_sync (id, deferred) VALUES (1, 0);
CREATE VIRTUAL TABLE tracks_fts USING fts5 (
    title, artist, album, albumartist, genre, mood, comment,
    content = 'tracks', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER tracks_fts_insert AFTER INSERT ON tracks
WHEN NOT (SELECT deferred FROM fts_sync) BEGIN
    INSERT INTO tracks_fts (rowid, title, artist, album, albumartist, genre, mood, comment)
    VALUES (new.id, new.title, new.artist, new.album, new.albumartist, new.genre, new.mood,
            new.comment);
END;
CREATE TRIGGER tracks_fts_delete AFTER DELETE ON tracks BEGIN
    INSERT INTO tracks_fts (tracks_fts, rowid, title, artist, album, albumartist, genre, mood,
                            comment)
    VALUES ('delete', old.id, old.title, old.artist, old.album, old.albumartist, old.genre,
            old.mood, old.comment);
END;
CREATE TRIGGER tracks_fts_update
AFTER UPDATE OF title, artist, album, albumartist, genre, mood, comment ON tracks BEGIN
    INSERT INTO tracks_fts (tracks_fts, rowid, title, artist, album, albumartist, genre, mood,
                            comment)
    VALUES ('delete', old.id, old.title, old.artist, old.album, old.albumartist, old.genre,
            old.mood, old.comment);
    INSERT INTO tracks_fts (rowid, title, artist, album, albumartist, genre, mood, comment)
    VALUES (new.id, new.title, new.artist, new.album, new.albumartist, new.genre, new.mood,
            new.comment);
END;

-- Embedding models the library has vectors for. id = Embedder.model_id (hash of the weights).
CREATE TABLE models (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    path TEXT,
    dim INTEGER NOT NULL,
    config TEXT,
    added_at REAL NOT NULL,
    active INTEGER NOT NULL DEFAULT 0
);

-- One unit-norm track embedding per (track, model).
CREATE TABLE embeddings (
    track_id INTEGER NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
    model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (track_id, model_id)
);
CREATE INDEX embeddings_model ON embeddings (model_id);

-- The K per-window embeddings behind a track embedding; start_s = window start in seconds.
CREATE TABLE window_embeddings (
    track_id INTEGER NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
    model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    window INTEGER NOT NULL,
    start_s REAL,
    vector BLOB NOT NULL,
    PRIMARY KEY (track_id, model_id, window)
);
CREATE INDEX window_embeddings_model ON window_embeddings (model_id);

-- A tagging run: which model and vocabulary proposed tags, with which write policy.
CREATE TABLE tag_runs (
    id INTEGER PRIMARY KEY,
    created_at REAL NOT NULL,
    finished_at REAL,
    model_id TEXT,
    vocab TEXT,
    policy TEXT,
    status TEXT NOT NULL DEFAULT 'pending',
    summary TEXT
);

-- The undo journal: every field a run writes, old value first, committed before the file is
-- touched, so a crash mid-write can always be undone or finished.
CREATE TABLE tag_changes (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES tag_runs (id) ON DELETE CASCADE,
    track_id INTEGER REFERENCES tracks (id) ON DELETE SET NULL,
    path BLOB NOT NULL,
    field TEXT NOT NULL,
    old TEXT,
    new TEXT,
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'applied', 'failed', 'undone')),
    error TEXT,
    updated_at REAL
);
CREATE INDEX tag_changes_run ON tag_changes (run_id);
CREATE INDEX tag_changes_track ON tag_changes (track_id);
CREATE INDEX tag_changes_pending ON tag_changes (state) WHERE state = 'pending';

-- Scored tag proposals awaiting review.
CREATE TABLE tag_proposals (
    track_id INTEGER NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
    model_id TEXT NOT NULL,
    vocab TEXT NOT NULL,
    tag TEXT NOT NULL,
    score REAL NOT NULL,
    run_id INTEGER REFERENCES tag_runs (id) ON DELETE SET NULL,
    created_at REAL,
    PRIMARY KEY (track_id, model_id, vocab, tag)
);
CREATE INDEX tag_proposals_tag ON tag_proposals (vocab, tag, score);
CREATE INDEX tag_proposals_run ON tag_proposals (run_id);
"""


def _migrate_1(conn: sqlite3.Connection) -> None:
    """Create every table of the first schema."""
    _execute_script(conn, _V1)


def _split_sql(script: str) -> list[str]:
    """Split a script into statements (executescript would commit our transaction)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise ValueError(f"incomplete SQL statement: {buffer.strip()[:80]}")
    return statements


def _execute_script(conn: sqlite3.Connection, script: str) -> None:
    """Run a script statement by statement, inside the migration's transaction."""
    for statement in _split_sql(script):
        conn.execute(statement)


def _migrate_2(conn: sqlite3.Connection) -> None:
    """Embeddings say when the model should not answer for a track (the abstain reason)."""
    conn.execute(
        "ALTER TABLE embeddings ADD COLUMN abstain TEXT "
        "CHECK (abstain IS NULL OR abstain IN ('silence', 'noise', 'tone'))"
    )
    conn.execute(
        "CREATE INDEX embeddings_abstain ON embeddings (model_id, track_id) "
        "WHERE abstain IS NOT NULL"
    )


_MOMENTS = """
-- Dense per-window vectors of the moment pass: one row per (track, model), a window every few
-- seconds. ``vectors`` is int8 [count, dim] row-major; window k is vectors[k] * scales[k]
-- (float32 [count]), starting at starts[k] (float32 seconds) and lasting clip_s seconds.
CREATE TABLE moment_vectors (
    track_id INTEGER NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
    model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    clip_s REAL NOT NULL,
    hop_s REAL NOT NULL,
    count INTEGER NOT NULL,
    dim INTEGER NOT NULL,
    starts BLOB NOT NULL,
    scales BLOB NOT NULL,
    vectors BLOB NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (track_id, model_id)
);
CREATE INDEX moment_vectors_model ON moment_vectors (model_id);
"""


def _migrate_3(conn: sqlite3.Connection) -> None:
    """Add the moment pass's compact window vectors."""
    _execute_script(conn, _MOMENTS)


_PREFERENCES = """
-- What belongs to this library rather than to the user: the active model (key "active_model",
-- a bundle folder) and, in their own table, the sidebar's saved searches, in the order shown.
CREATE TABLE library_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE saved_searches (
    name TEXT PRIMARY KEY,
    query TEXT NOT NULL,
    position INTEGER NOT NULL
);
"""


def _migrate_4(conn: sqlite3.Connection) -> None:
    """Per-library settings and saved searches (before, both were global user settings)."""
    _execute_script(conn, _PREFERENCES)


_AUDIO_FAILURES = """
-- Tracks whose tags read (so the scan marked them readable) but whose audio no decoder could
-- read when they were embedded. The file's size and mtime at that moment are kept: an
-- unchanged file is not tried again on every run; once the file changes it is.
CREATE TABLE audio_failures (
    track_id INTEGER PRIMARY KEY REFERENCES tracks (id) ON DELETE CASCADE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    error TEXT NOT NULL,
    failed_at REAL NOT NULL
);
"""


# The failures that still hold (the file is as it was when it failed), for queries to join:
# ``SELECT f.track_id FROM {CURRENT_AUDIO_FAILURES}``.
CURRENT_AUDIO_FAILURES = (
    "audio_failures f JOIN tracks ft ON ft.id = f.track_id "
    "WHERE f.size = ft.size AND f.mtime_ns = ft.mtime_ns"
)


def _migrate_5(conn: sqlite3.Connection) -> None:
    """Remember the tracks whose audio could not be decoded for embedding."""
    _execute_script(conn, _AUDIO_FAILURES)


# version -> function that brings a database from version - 1 to version.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _migrate_1,
    2: _migrate_2,
    3: _migrate_3,
    4: _migrate_4,
    5: _migrate_5,
}
SCHEMA_VERSION = max(MIGRATIONS)
