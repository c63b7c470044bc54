"""A library becomes a training manifest the engine reads like any other."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from engine.data import read_manifest
from slapdesk.library.demo.audio_files import make_track
from slapdesk.library.jobs.tag_captions import clean_tags, compose_captions
from slapdesk.library.jobs.training_manifest import write_training_manifest
from slapdesk.library.scan.scanner import ScanCfg, run_scan
from slapdesk.library.store.database import Database, LibraryError


def _touch(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_bytes(b"x")
    return path


def _library(path: Path, rows: list[tuple]) -> Path:
    """A real library file holding ``rows`` of (path, artist, genre, mood, year, bpm, status)."""
    now = time.time()
    with Database(path) as db, db.transaction() as conn:
        conn.executemany(
            "INSERT INTO tracks (path, size, mtime_ns, artist, genre, mood, year, bpm, status,"
            " added_at, updated_at) VALUES (?, 1, 0, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*row, now, now) for row in rows],
        )
    return path


def test_tagged_tracks_become_rows_and_the_rest_is_counted(tmp_path: Path) -> None:
    odd_name = os.fsencode(str(tmp_path)) + b"/caf\xe9.flac"  # not UTF-8: kept exactly
    Path(os.fsdecode(odd_name)).write_bytes(b"x")
    ok = _touch(tmp_path, "ok.mp3")
    plain = _touch(tmp_path, "plain.mp3")
    broken = _touch(tmp_path, "broken.mp3")
    library = _library(
        tmp_path / "library.sqlite",
        [
            (os.fsencode(str(ok)), "Band", '["Rock"]', '["Happy"]', 1999, 128, "ok"),
            (odd_name, None, '["Ambient"]', None, None, None, "ok"),
            (os.fsencode(str(plain)), "Band", None, None, 2001, None, "ok"),
            (b"/gone/away.mp3", "Band", '["Pop"]', None, None, None, "ok"),
            (os.fsencode(str(broken)), "Band", '["Pop"]', None, None, None, "error"),
        ],
    )
    target = tmp_path / "run" / "library-manifest.jsonl"
    report = write_training_manifest(library, target)
    assert (report.tracks, report.untagged) == (2, 1)
    assert [(s.track_id, s.reason) for s in report.skipped] == [
        (4, "audio file not found"),
        (5, "track status error"),
    ]
    assert report.summary() == (
        "library library.sqlite: 2 tracks with captions from their tags, "
        "1 without usable tags, 2 skipped"
    )
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [row["track_id"] for row in rows] == [1, 2]

    data = read_manifest(target)
    assert data.bad == []
    assert [clip.path for clip in data.clips] == [str(ok), os.fsdecode(odd_name)]
    assert [clip.key for clip in data.clips] == [str(ok), os.fsdecode(odd_name)]
    every = compose_captions(
        clean_tags(
            {"genre": ["Rock"], "mood": ["Happy"], "artist": "Band", "year": 1999, "bpm": 128}
        ),
        limit=99,
    )
    assert "a happy rock track by Band from the 1990s" in every
    assert len(data.clips[0].captions) == 8
    assert set(data.clips[0].captions) <= set(every)
    assert data.clips[1].captions == ("ambient music", "an ambient track")


def test_a_file_that_is_not_a_library_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    other.write_bytes(b"not a database at all, just some bytes" * 100)
    target = tmp_path / "m.jsonl"
    with pytest.raises(LibraryError, match="not a SlapDesk library"):
        write_training_manifest(other, target)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == [other]  # no temporary file left behind


def test_a_library_written_by_the_scanner(tmp_path: Path, music_folder: Path) -> None:
    make_track(music_folder / "untagged", "wav", tags={"title": "No tags"})
    with Database(tmp_path / "library.sqlite") as db:
        run_scan(db, [music_folder], cfg=ScanCfg(workers=0))
    report = write_training_manifest(tmp_path / "library.sqlite", tmp_path / "m.jsonl")
    assert (report.tracks, report.untagged, report.skipped) == (8, 1, [])  # one per format
    data = read_manifest(tmp_path / "m.jsonl")
    assert len(data.clips) == 8
    for clip in data.clips:
        assert len(clip.captions) == 8
        assert any("rock and jazz" in c for c in clip.captions), clip.captions
        assert all("happy" in c or "jazz" in c or "test suite" in c for c in clip.captions)
