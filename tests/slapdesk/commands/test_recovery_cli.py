"""Every command that opens the library recovers what a crash left, and pays nothing otherwise."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from slapdesk import cli
from slapdesk.commands.common import recover_writes
from slapdesk.library.demo.audio_files import make_track
from slapdesk.library.scan.scanner import ScanCfg, run_scan
from slapdesk.library.store.database import Database
from slapdesk.library.tags import journal
from slapdesk.library.tags import write as tagwrite
from tests.slapdesk.library.crash_points import install


@pytest.fixture
def crashed(tmp_path: Path, monkeypatch) -> tuple[Path, Path, Path, int]:
    """A library whose tag run was killed after writing a file, before marking its rows."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("SLAPDESK_CONFIG", str(tmp_path / "cfg"))
    folder = tmp_path / "music"
    folder.mkdir()
    song = make_track(folder / "song", "flac", tags={"title": "Song", "artist": "Band"})
    library = tmp_path / "library.sqlite"
    with Database(library) as db:
        run_scan(db, [folder], cfg=ScanCfg(workers=0))
        track_id = db.execute("SELECT id FROM tracks").fetchone()[0]
        run_id = journal._new_run(db, "genre", "own-fields", None, {})
        job = journal._FileJob(song, track_id, {"slapdesk_genre": ["X"]}, {},
                               tagwrite.FileStamp.of(song))  # fmt: skip
        journal._journal(db, run_id, job)
    tagwrite.write_fields(song, {"slapdesk_genre": ["X"]})  # written, then the process died
    stale = folder / f"{tagwrite.TEMP_PREFIX}dead{tagwrite.TEMP_SUFFIX}"
    stale.write_bytes(b"half a copy")
    return library, folder, stale, run_id


COMMANDS = {
    "scan": ["scan", "--workers", "0"],
    "runs": ["runs"],
    "library": ["library"],
    "search": ["search", "artist:band"],
    "export": ["export", "--m3u8", "{tmp}/list.m3u8", "artist:band"],
    "undo": ["undo", "99"],  # no such run: still recovers first
    "tag": ["tag", "--vocab", "genre"],  # no model installed: recovers, then says so
    "embed": ["embed"],  # likewise
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_command_recovers_first(crashed, tmp_path: Path, command: str, capsys) -> None:
    library, folder, stale, run_id = crashed
    argv = [a.replace("{tmp}", str(tmp_path)) for a in COMMANDS[command]]
    cli.main(["--library", str(library), *argv])
    capsys.readouterr()
    assert not stale.exists()
    with Database(library) as db:
        states = db.execute("SELECT state FROM tag_changes WHERE run_id = ?", (run_id,))
        assert [s for (s,) in states] == ["applied"]
        status = db.execute("SELECT status FROM tag_runs WHERE id = ?", (run_id,)).fetchone()
        assert status == ("interrupted",)
        st = os.stat(folder / "song.flac")
        stored = db.execute("SELECT size, mtime_ns FROM tracks").fetchone()
        assert stored == (st.st_size, st.st_mtime_ns)  # the next scan will not reread it


def test_models_use_recovers_first(crashed, tiny_bundle: Path, capsys) -> None:
    library, _folder, stale, _run_id = crashed
    assert cli.main(["--library", str(library), "models", "use", str(tiny_bundle)]) == 0
    capsys.readouterr()
    assert not stale.exists()


def test_nothing_to_recover_costs_no_write(crashed) -> None:
    library, _folder, _stale, _run_id = crashed
    with Database(library) as db:
        recover_writes(db)  # the crash's work
        counter = install(db)
        for _ in range(3):
            recover_writes(db)
        assert counter.commits == 0
        assert journal.recover(db) == journal.Recovery()
        assert counter.commits == 0
