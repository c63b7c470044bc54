"""Fixtures for the window tests: a task runner that runs synchronously, small libraries."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from slapdesk.ui.tasks import TaskRunner

# The columns the UI reads, as the library schema defines them (migration 1).
_SCHEMA = """
CREATE TABLE IF NOT EXISTS folders (id INTEGER PRIMARY KEY, path BLOB UNIQUE);
CREATE TABLE IF NOT EXISTS tracks (
    id INTEGER PRIMARY KEY, path BLOB UNIQUE, size INTEGER, mtime_ns INTEGER, inode INTEGER,
    duration REAL, codec TEXT, sample_rate INTEGER, channels INTEGER, title TEXT, artist TEXT,
    album TEXT, albumartist TEXT, genre TEXT, mood TEXT, year INTEGER, track_number INTEGER,
    comment TEXT, bpm REAL, tags TEXT, status TEXT, error TEXT, fingerprint TEXT, format TEXT,
    added_at REAL, updated_at REAL
);
CREATE VIRTUAL TABLE IF NOT EXISTS tracks_fts USING fts5(
    title, artist, album, albumartist, genre, mood, comment, content='tracks', content_rowid='id'
);
"""


@pytest.fixture
def runner(qtbot) -> TaskRunner:
    """A TaskRunner whose pools run each task at once, in the test's thread."""
    return TaskRunner.synchronous()


def write_synthetic_library(path: Path, n: int) -> Path:
    """A library file with ``n`` synthetic rows (no audio behind them): for scale tests only."""
    conn = sqlite3.connect(path)
    conn.executescript(_SCHEMA)
    artists = ["Alpha", "Beta", "Gamma", "Delta"]
    rows = [
        (i, os.fsencode(f"/music/{i:06d}.flac"), f"Song {i:06d}", artists[i % 4],
         f"Album {i // 10}", json.dumps(["rock" if i % 2 else "jazz"]),
         1960 + i % 60, 60.0 + i % 300, "flac", "ok")
        for i in range(1, n + 1)
    ]
    conn.executemany(
        "INSERT INTO tracks (id, path, title, artist, album, genre, year, duration, codec, status)"
        " VALUES (?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    conn.execute("INSERT INTO tracks_fts(tracks_fts) VALUES ('rebuild')")
    conn.commit()
    conn.close()
    return path


@pytest.fixture
def synthetic_library(tmp_path: Path) -> Path:
    """A 1,000-row library file."""
    return write_synthetic_library(tmp_path / "synthetic.sqlite", 1000)


@pytest.fixture
def make_window(qtbot, tmp_path: Path, monkeypatch):
    """Build a MainWindow on a fresh library in ``tmp_path`` (synchronous runner by default).

    The window runs as on an installation without a model bundle (tags-only search), so the
    results do not depend on which default model is shipped.
    """
    from slapdesk.app import build_context
    from slapdesk.library import models as bundle_list
    from slapdesk.ui.main_window import MainWindow

    monkeypatch.setattr(bundle_list, "default_bundle_dir", lambda: None)

    built = []

    def make(folders=(), runner=None, library: Path | None = None) -> MainWindow:
        ctx = build_context(
            library or tmp_path / "library" / "library.sqlite",
            folders,
            settings_file=tmp_path / "config" / "settings.toml",
            runner=runner or TaskRunner.synchronous(),
        )
        window = MainWindow(ctx)

        qtbot.addWidget(window)
        window.show()
        built.append((ctx, window))  # strong refs: qtbot keeps only weak ones
        # Let chained work (scan -> embed -> search) settle before the test looks.
        qtbot.wait(10)
        qtbot.waitUntil(lambda: not window.jobs.busy, timeout=60_000)
        return window

    yield make
    for ctx, window in built:
        window.close()  # closeEvent stops the runner before the window goes away
        ctx.runner.shutdown(5000)
        if ctx.database is not None:
            ctx.database.close()


@pytest.fixture
def planted_folder(music_folder: Path) -> Path:
    """``music_folder`` plus one track whose tags best match "rainy evening guitar"."""
    from slapdesk.library.demo.audio_files import make_track

    (music_folder / "planted").mkdir()
    make_track(music_folder / "planted" / "rain", "flac", freq_hz=330.0, tags={
        "title": "Rainy Evening Guitar", "artist": "Quiet Strings", "album": "Evenings",
        "genre": ["Acoustic"], "comment": "mellow guitar",
    })
    make_track(music_folder / "planted" / "decoy", "mp3", freq_hz=660.0, tags={
        "title": "Evening News", "artist": "Loud Band", "genre": ["Rock"],
    })
    return music_folder
