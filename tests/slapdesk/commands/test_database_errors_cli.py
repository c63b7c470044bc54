"""A full disk (or an I/O error, a read-only file) under the library: one line, nothing lost."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from slapdesk import cli
from slapdesk.library.demo.audio_files import make_track
from slapdesk.library.store import database as database_module
from slapdesk.library.store.database import Database
from slapdesk.library.tags.journal import apply_changes
from slapdesk.library.tags.plan import PlannedChange
from tests.slapdesk.library.crash_points import CommitCounter
from tests.slapdesk.library.tags.write_helpers import all_tags


def _fail_commit(monkeypatch, at: int, message: str) -> None:
    """Every library opened from now on fails its ``at``-th COMMIT with ``message``."""
    connect = database_module.Database._connect

    def failing(self: Database):
        return CommitCounter(connect(self), at, before=True,
                             error=sqlite3.OperationalError(message))  # fmt: skip

    monkeypatch.setattr(database_module.Database, "_connect", failing)


def _one_line(err: str, library: Path) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and str(library) in lines[0]
    return lines[0]


@pytest.fixture
def music(tmp_path: Path) -> Path:
    folder = tmp_path / "music"
    folder.mkdir()
    for i in range(3):
        make_track(folder / f"s{i}", "ogg", tags={"title": f"S{i}"})
    return folder


@pytest.mark.parametrize(
    ("message", "says"),
    [
        ("database or disk is full", "the disk holding it is full"),
        ("disk I/O error", "the disk reported an I/O error"),
        ("attempt to write a readonly database", "cannot be written"),
    ],
)
def test_scan_reports_a_database_error_in_one_line(
    music: Path, tmp_path: Path, monkeypatch, capsys, message: str, says: str
) -> None:
    library = tmp_path / "library.sqlite"
    _fail_commit(monkeypatch, 3, message)  # 1: opening, 2: folders, 3: the first batch
    assert cli.main(["--library", str(library), "scan", "--workers", "0", str(music)]) == 2
    line = _one_line(capsys.readouterr().err, library)
    assert says in line and f"SQLite: {message}" in line and "rolled back" in line
    monkeypatch.undo()
    assert cli.main(["--library", str(library), "scan", "--workers", "0", str(music)]) == 0
    with Database(library) as db:
        assert db.execute("SELECT COUNT(*) FROM tracks").fetchone()[0] == 3


def test_undo_on_a_full_disk_loses_nothing(music: Path, tmp_path: Path, monkeypatch,
                                           capsys) -> None:  # fmt: skip
    library = tmp_path / "library.sqlite"
    songs = sorted(music.iterdir())
    before = {p: all_tags(p) for p in songs}
    with Database(library) as db:
        db.conn.execute("INSERT INTO folders (path, added_at) VALUES (?, 0)",
                        (os.fsencode(music),))  # fmt: skip
        apply_changes(db, [PlannedChange.make(p, "mood", ["Calm"]) for p in songs])
    # 1 opening, 2 the undo run, 3 first file's journal, 4 its restore + marks: fails.
    _fail_commit(monkeypatch, 4, "database or disk is full")
    assert cli.main(["--library", str(library), "undo", "1"]) == 2
    _one_line(capsys.readouterr().err, library)
    monkeypatch.undo()
    assert cli.main(["--library", str(library), "undo", "1"]) == 0
    assert {p: all_tags(p) for p in songs} == before


@contextlib.contextmanager
def _small_tmpfs(mountpoint: Path, size: str):
    mountpoint.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                           str(mountpoint)], capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 4096)
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return filler


def test_real_full_disk_on_a_small_tmpfs(music: Path, tmp_path: Path, capsys) -> None:
    with _small_tmpfs(tmp_path / "small", "1m") as disk:
        library = disk / "library.sqlite"
        Database(library).close()
        filler = _fill(disk)
        status = cli.main(["--library", str(library), "scan", "--workers", "0", str(music)])
        err = capsys.readouterr().err
        assert status == 2
        assert "the disk holding it is full" in _one_line(err, library)
        filler.unlink()
        assert cli.main(["--library", str(library), "scan", "--workers", "0", str(music)]) == 0
        with Database(library) as db:
            assert db.execute("SELECT COUNT(*) FROM tracks").fetchone()[0] == 3
