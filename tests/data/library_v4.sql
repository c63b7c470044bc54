-- A SlapDesk library at schema version 4, written by tools/make_library_fixture.py.
-- Never regenerate it: it stands for the libraries users already have.
BEGIN;
CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at REAL);
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
CREATE TABLE fts_sync (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    deferred INTEGER NOT NULL DEFAULT 0
);
CREATE VIRTUAL TABLE tracks_fts USING fts5 (
    title, artist, album, albumartist, genre, mood, comment,
    content = 'tracks', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE models (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    path TEXT,
    dim INTEGER NOT NULL,
    config TEXT,
    added_at REAL NOT NULL,
    active INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE embeddings (
    track_id INTEGER NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
    model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,
    created_at REAL NOT NULL, abstain TEXT CHECK (abstain IS NULL OR abstain IN ('silence', 'noise', 'tone')),
    PRIMARY KEY (track_id, model_id)
);
CREATE INDEX embeddings_model ON embeddings (model_id);
CREATE TABLE window_embeddings (
    track_id INTEGER NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
    model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    window INTEGER NOT NULL,
    start_s REAL,
    vector BLOB NOT NULL,
    PRIMARY KEY (track_id, model_id, window)
);
CREATE INDEX window_embeddings_model ON window_embeddings (model_id);
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
CREATE INDEX embeddings_abstain ON embeddings (model_id, track_id) WHERE abstain IS NOT NULL;
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
CREATE TABLE library_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE saved_searches (
    name TEXT PRIMARY KEY,
    query TEXT NOT NULL,
    position INTEGER NOT NULL
);
INSERT INTO "schema_version" VALUES (1, 1796349401.334754);
INSERT INTO "schema_version" VALUES (2, 1796349401.3351295);
INSERT INTO "schema_version" VALUES (3, 1796349401.335236);
INSERT INTO "schema_version" VALUES (4, 1796349401.3353286);
INSERT INTO "folders" VALUES (1, X'2f6d75736963', 1.0, 2.0);
INSERT INTO "tracks" VALUES (1, X'2f6d757369632f612f6f6e652e666c6163', 1000, 5, 7, 'flac', 1.0, 'flac', 44100, 1, NULL, 'One', 'Artist', NULL, NULL, '["Rock", "Jazz"]', '["Happy"]', 1999, NULL, NULL, NULL, NULL, 'ok', NULL, X'01010101010101010101010101010101', 1.0, 1.0);
INSERT INTO "tracks" VALUES (2, X'2f6d757369632f622f636166e92e6d7033', 2000, 6, 8, 'mp3', 2.0, 'mp3', 44100, 2, NULL, 'Café', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'ok', NULL, X'02020202020202020202020202020202', 1.0, 1.0);
INSERT INTO "tracks" VALUES (3, X'2f6d757369632f622f656d7074792e6d7033', 0, 6, 9, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'error', 'empty file (0 bytes)', NULL, 1.0, 1.0);
INSERT INTO "fts_sync" VALUES (1, 0);
INSERT INTO "models" VALUES ('m1', 'tiny', '/m', 2, NULL, 1.0, 0);
INSERT INTO "embeddings" VALUES (1, 'm1', 2, X'0000803f00000000', 1.0, NULL);
INSERT INTO "embeddings" VALUES (2, 'm1', 2, X'000000000000803f', 1.0, 'silence');
INSERT INTO "tag_runs" VALUES (1, 1.0, NULL, 'm1', 'genre', 'own', 'applied', NULL);
INSERT INTO "tag_changes" VALUES (1, 1, 1, X'2f6d757369632f612f6f6e652e666c6163', 'genre', '[]', '["Rock"]', 'applied', NULL, NULL);
INSERT INTO "tag_proposals" VALUES (1, 'm1', 'genre', 'rock', 0.9, 1, 1.0);
INSERT INTO "library_settings" VALUES ('active_model', '/models/mine');
INSERT INTO "saved_searches" VALUES ('Calm', 'calm piano', 0);
INSERT INTO tracks_fts (tracks_fts) VALUES ('rebuild');
COMMIT;
