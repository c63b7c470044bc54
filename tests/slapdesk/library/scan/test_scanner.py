"""Scanning folders: counts, incremental rescans, moves, bad input, cancel and resume."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from slapdesk.library.demo.audio_files import make_track
from slapdesk.library.progress import Progress
from slapdesk.library.scan.report import ScanReport
from slapdesk.library.scan.scanner import ScanCfg, run_scan, scan
from slapdesk.library.store.database import Database
from tests.slapdesk.library.helpers import flac_named_mp3, truncate, with_huge_picture

IN_PROCESS = ScanCfg(workers=0)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(tmp_path / "library.sqlite")
    yield database
    database.close()


def _counts(report: ScanReport) -> tuple[int, int, int, int]:
    return report.added, report.updated, report.removed, report.unchanged


def _errors(report: ScanReport) -> dict[str, str]:
    return {os.path.basename(e.path).decode("utf-8", "replace"): e.error for e in report.errors}


def _ids(db: Database) -> dict[bytes, int]:
    return {path: track_id for track_id, path in db.execute("SELECT id, path FROM tracks")}


def test_a_first_scan_indexes_every_format_and_a_rescan_reads_nothing(
    db: Database, music_folder: Path
) -> None:
    report = run_scan(db, [music_folder], cfg=IN_PROCESS)
    assert _counts(report) == (8, 0, 0, 0)
    assert report.errors == []
    rows = db.execute(
        "SELECT format, codec, title, artist, track_number FROM tracks ORDER BY track_number"
    ).fetchall()
    assert rows[0] == ("aiff", "pcm", "Tone aiff", "The Testers", 1)
    assert [row[1] for row in rows] == [
        "pcm", "flac", "aac", "alac", "mp3", "vorbis", "opus", "pcm"
    ]  # fmt: skip
    assert db.execute("SELECT path FROM folders").fetchall() == [(os.fsencode(music_folder),)]
    # New rows were full-text indexed in bulk; the index agrees with the table.
    hits = db.execute("SELECT COUNT(*) FROM tracks_fts WHERE tracks_fts MATCH 'testers'")
    assert hits.fetchone()[0] == 8
    assert db.execute("SELECT deferred FROM fts_sync").fetchone()[0] == 0
    with db.transaction() as conn:
        conn.execute("INSERT INTO tracks_fts (tracks_fts, rank) VALUES ('integrity-check', 1)")
    assert _counts(run_scan(db, [music_folder], cfg=IN_PROCESS)) == (0, 0, 0, 8)


def test_rescan_sees_new_changed_and_removed_files(db: Database, music_folder: Path) -> None:
    run_scan(db, [music_folder], cfg=IN_PROCESS)
    make_track(music_folder / "a" / "new", "mp3", tags={"title": "New"})
    changed = music_folder / "b" / "tone_aiff.aiff"
    make_track(changed, "aiff", freq_hz=300, seconds=0.5, tags={"title": "Changed"})
    (music_folder / "a" / "tone_flac.flac").unlink()
    report = run_scan(db, [music_folder], cfg=IN_PROCESS)
    assert _counts(report) == (1, 1, 1, 6)
    titles = {title for (title,) in db.execute("SELECT title FROM tracks")}
    assert {"New", "Changed"} <= titles
    assert "Tone flac" not in titles
    assert db.execute("SELECT COUNT(*) FROM tracks").fetchone()[0] == 8


def test_a_moved_and_renamed_file_keeps_its_id_and_embedding(
    db: Database, music_folder: Path
) -> None:
    run_scan(db, [music_folder], cfg=IN_PROCESS)
    old = music_folder / "a" / "tone_m4a-alac.m4a"
    old_id = _ids(db)[os.fsencode(old)]
    with db.transaction() as conn:
        conn.execute("INSERT INTO models (id, name, dim, added_at) VALUES ('m', 'M', 1, 0)")
        conn.execute("INSERT INTO embeddings (track_id, model_id, dim, vector, created_at) "
                     "VALUES (?, 'm', 1, x'0000803f', 0)", (old_id,))  # fmt: skip
    new = music_folder / "elsewhere" / "renamed.m4a"
    new.parent.mkdir()
    old.rename(new)
    report = run_scan(db, [music_folder], cfg=IN_PROCESS)
    assert _counts(report) == (0, 1, 0, 7)
    assert report.moved == 1
    assert _ids(db)[os.fsencode(new)] == old_id
    assert os.fsencode(old) not in _ids(db)
    assert db.execute("SELECT track_id FROM embeddings").fetchall() == [(old_id,)]


def test_every_malformed_file_is_reported_and_the_scan_goes_on(
    db: Database, tmp_path: Path
) -> None:
    root = tmp_path / "bad"
    root.mkdir()
    make_track(root / "good", "ogg", tags={"title": "Good"})
    (root / "zero.mp3").touch()
    (root / "text.flac").write_text("not audio\n" * 40)
    flac_named_mp3(root)
    truncate(make_track(root / "cut", "flac", seconds=2, tags={"title": "Cut"}))
    with_huge_picture(make_track(root / "cover", "mp3", tags={"title": "Cover"}), 20)
    odd_name = os.fsencode(root) + b"/caf\xe9-\xff.opus"  # not valid UTF-8
    shutil.copy(make_track(tmp_path / "odd", "opus", tags={"title": "Odd"}), odd_name)
    (root / "loop").mkdir()
    os.symlink("..", root / "loop" / "up")  # a/up -> .. loops forever if followed blindly
    os.symlink("missing.mp3", root / "dangling.mp3")
    report = run_scan(db, [root], cfg=IN_PROCESS)
    assert report.added == 7
    errors = _errors(report)
    assert errors == {
        "zero.mp3": "empty file (0 bytes)",
        "text.flac": "not an audio file: no FLAC data (no FLAC header)",
        "cut.flac": errors["cut.flac"],
        "dangling.mp3": "broken symbolic link",
    }
    assert errors["cut.flac"].startswith("truncated")
    titles = dict(db.execute("SELECT title, status FROM tracks WHERE title IS NOT NULL"))
    assert titles == {
        "Good": "ok", "Really FLAC": "ok", "Cut": "damaged", "Cover": "ok", "Odd": "ok"
    }  # fmt: skip
    assert db.execute("SELECT format FROM tracks WHERE title = 'Really FLAC'").fetchone() == (
        "flac",
    )
    assert os.fsencode(odd_name) in _ids(db)
    # Files in error are retried on every scan, and still reported.
    again = run_scan(db, [root], cfg=IN_PROCESS)
    assert _counts(again) == (0, 0, 0, 7)
    assert _errors(again) == errors


def test_a_missing_root_removes_nothing(db: Database, music_folder: Path) -> None:
    run_scan(db, [music_folder], cfg=IN_PROCESS)
    moved_away = music_folder.with_name("unmounted")
    music_folder.rename(moved_away)
    report = run_scan(db, [music_folder], cfg=IN_PROCESS)
    assert report.removed == 0
    assert db.execute("SELECT COUNT(*) FROM tracks").fetchone()[0] == 8


def test_cancel_mid_scan_keeps_committed_work_and_the_next_scan_resumes(
    db: Database, tmp_path: Path
) -> None:
    root = tmp_path / "many"
    root.mkdir()
    source = make_track(tmp_path / "src", "flac", tags={"title": "Copy"})
    for index in range(60):
        os.link(source, root / f"copy_{index:02d}.flac")
    cancel = threading.Event()
    cfg = ScanCfg(workers=0, batch_files=10, progress_hz=1e6)
    generator = scan(db, [root], cancel=cancel, cfg=cfg)
    seen: list[Progress] = []
    for progress in generator:
        seen.append(progress)
        if progress.message.startswith("Reading") and progress.done >= 25:
            cancel.set()
    stored = db.execute("SELECT COUNT(*) FROM tracks").fetchone()[0]
    assert 20 <= stored < 60  # whole batches only
    assert any(p.total == 60 for p in seen)
    resumed = run_scan(db, [root], cfg=IN_PROCESS)
    assert _counts(resumed) == (60 - stored, 0, 0, stored)
    assert db.execute("SELECT COUNT(DISTINCT title) FROM tracks").fetchone()[0] == 1


def test_an_interrupt_inside_a_batch_rolls_it_back(db: Database, tmp_path: Path) -> None:
    root = tmp_path / "many"
    root.mkdir()
    source = make_track(tmp_path / "src", "mp3", tags={"title": "Copy"})
    for index in range(30):
        os.link(source, root / f"copy_{index:02d}.mp3")
    generator = scan(db, [root], cfg=ScanCfg(workers=0, batch_files=10, progress_hz=1e6))
    for progress in generator:
        if progress.message.startswith("Reading") and progress.done >= 15:
            generator.close()  # what Ctrl-C (KeyboardInterrupt) does to the loop
            break
    assert not db.conn.in_transaction
    stored = db.execute("SELECT COUNT(*) FROM tracks").fetchone()[0]
    assert stored in (10, 20)
    assert _counts(run_scan(db, [root], cfg=IN_PROCESS))[0] == 30 - stored


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_worker_processes_give_the_same_index(
    db: Database, music_folder: Path, start_method: str
) -> None:
    cfg = ScanCfg(workers=2, pool_threshold=1, chunk_files=3, start_method=start_method)
    report = run_scan(db, [music_folder], cfg=cfg)
    assert _counts(report) == (8, 0, 0, 0)
    titles = sorted(title for (title,) in db.execute("SELECT title FROM tracks"))
    assert titles[:2] == ["Tone aiff", "Tone flac"]


def test_nested_roots_are_scanned_once_and_remembered_once(
    db: Database, music_folder: Path
) -> None:
    assert run_scan(db, [music_folder / "a"], cfg=IN_PROCESS).added == 4
    report = run_scan(db, [music_folder, music_folder / "a", music_folder], cfg=IN_PROCESS)
    assert (report.added, report.unchanged) == (4, 4)
    assert run_scan(db, [music_folder / "b"], cfg=IN_PROCESS).unchanged == 4
    folders = db.execute("SELECT path FROM folders").fetchall()
    assert folders == [(os.fsencode(music_folder),)]


def test_progress_is_throttled(db: Database, tmp_path: Path) -> None:
    root = tmp_path / "many"
    root.mkdir()
    source = make_track(tmp_path / "src", "mp3")
    for index in range(200):
        os.link(source, root / f"copy_{index:03d}.mp3")
    updates = list(scan(db, [root], cfg=ScanCfg(workers=0, progress_hz=2)))
    assert len(updates) <= 4
    assert updates[-1].message == "Done"


def test_a_file_that_hangs_its_reader_is_skipped_and_the_rest_indexed(
    db: Database, music_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A parser stuck on one file (a pathological tag) must not stall the scan."""
    import time

    from slapdesk.library.tags import read as tagread

    real_read = tagread.read_file

    def stuck_on_flac(path: bytes) -> tagread.ReadResult:
        if path.endswith(b".flac"):
            time.sleep(600)  # what a parser caught in a loop looks like from outside
        return real_read(path)

    # Forked workers inherit the patched reader.
    monkeypatch.setattr(tagread, "read_file", stuck_on_flac)
    cfg = ScanCfg(
        workers=2, pool_threshold=1, chunk_files=4, start_method="fork", file_timeout_s=1.0
    )
    report = run_scan(db, [music_folder], cfg=cfg)
    assert report.added == 8
    assert _errors(report) == {
        "tone_flac.flac": "reading its tags took longer than 1 s (the file may be damaged); "
        "skipped"
    }
    titles = {title for (title,) in db.execute("SELECT title FROM tracks")}
    assert len(titles - {None}) == 7
