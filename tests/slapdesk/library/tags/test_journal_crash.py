"""A crash at any database commit of an apply run or an undo run never loses the way back.

Every COMMIT of a run is a crash point, before it (the transaction is lost) and after it (it is
durable, nothing later happened). For each, the library and files are put back to the same
starting state, the run is cut there, and then ``slapdesk undo RUN`` (which recovers first)
must end with every file's original tags, exit status 0, and a consistent journal.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from slapdesk import cli
from slapdesk.library.demo.audio_files import make_track
from slapdesk.library.scan.scanner import ScanCfg, run_scan
from slapdesk.library.store.database import Database
from slapdesk.library.tags.journal import apply_changes, undo
from slapdesk.library.tags.plan import PlannedChange

from ..crash_points import SimulatedCrash, install
from .write_helpers import all_tags

# Long enough that the opus tag outgrows its padding: that file takes the atomic rewrite.
BIG = tuple(f"instrument {i} " + "x" * 600 for i in range(12))


class Snapshot:
    """The library file and the music folder's files, to put back before each crash point."""

    def __init__(self, library: Path, folder: Path) -> None:
        self.library, self.folder = library, folder
        self.db_bytes = library.read_bytes()
        self.files = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}

    def restore(self) -> None:
        for suffix in ("-wal", "-shm"):
            Path(f"{self.library}{suffix}").unlink(missing_ok=True)
        self.library.write_bytes(self.db_bytes)
        for path in list(self.folder.iterdir()):
            if path not in self.files:
                path.unlink()  # a temp file a crashed rewrite left: recovery's job, not ours
        for path, (data, mtime_ns) in self.files.items():
            path.write_bytes(data)
            os.utime(path, ns=(mtime_ns, mtime_ns))


@pytest.fixture
def library(tmp_path: Path) -> tuple[Path, list[Path], dict]:
    folder = tmp_path / "music"
    folder.mkdir()
    songs = [
        make_track(folder / "a", "mp3", tags={"title": "A", "genre": ["Rock", "Jazz"]}),
        make_track(folder / "b", "opus", tags={"title": "B", "genre": ["Folk"]}),
    ]
    path = tmp_path / "library.sqlite"
    with Database(path) as db:
        run_scan(db, [folder], cfg=ScanCfg(workers=0))
    return path, songs, {p: all_tags(p) for p in songs}


def _changes(songs: list[Path]) -> list[PlannedChange]:
    return [PlannedChange.make(p, "genre", ["Blues", "Soul"]) for p in songs] + [
        PlannedChange.make(songs[1], "instrument", BIG)
    ]


def _cut(library: Path, fail_at: int | None, before: bool, action) -> tuple[bool, int]:
    """Run ``action(db)`` with a crash at COMMIT ``fail_at``; (crashed, commits seen)."""
    db = Database(library)
    counter = install(db, fail_at, before=before)
    with contextlib.suppress(SimulatedCrash):
        action(db)
    db.conn.close()  # the 'dead' process's connection: an open transaction is lost
    return counter.failed, counter.commits


def _check_undo_restores(library: Path, songs: list[Path], before: dict) -> None:
    status = cli.main(["--library", str(library), "undo", "1"])
    assert status == 0
    assert {p: all_tags(p) for p in songs} == before
    with Database(library) as db:
        states = dict(db.execute("SELECT state, COUNT(*) FROM tag_changes WHERE run_id = 1 "
                                 "GROUP BY state").fetchall())
        assert states.get("applied", 0) == 0 and states.get("pending", 0) == 0
        running = db.execute("SELECT COUNT(*) FROM tag_runs WHERE status = 'running'")
        assert running.fetchone()[0] == 0
    assert not [p for p in songs[0].parent.iterdir() if p.name.startswith(".slapdesk-tmp-")]


@pytest.mark.parametrize("before", [False, True], ids=["after-commit", "before-commit"])
def test_crash_at_every_commit_of_an_apply_run(library, before: bool, capsys) -> None:
    path, songs, tags_before = library
    snapshot = Snapshot(path, songs[0].parent)
    _, total = _cut(path, None, before, lambda db: apply_changes(db, _changes(songs), "replace"))
    assert total == 6  # run row, 2 x (journal, mark), finish
    for point in range(1, total + 1):
        snapshot.restore()
        crashed, _ = _cut(path, point, before, lambda db: apply_changes(db, _changes(songs),
                                                                        "replace"))
        assert crashed
        with Database(path) as db:
            has_run = db.execute("SELECT COUNT(*) FROM tag_runs").fetchone()[0]
        if not has_run:  # cut before the run's first commit: it never existed, nothing moved
            assert {p: all_tags(p) for p in songs} == tags_before
            continue
        _check_undo_restores(path, songs, tags_before)
    capsys.readouterr()


@pytest.mark.parametrize("before", [False, True], ids=["after-commit", "before-commit"])
def test_crash_at_every_commit_of_an_undo_run(library, before: bool, capsys) -> None:
    path, songs, tags_before = library
    with Database(path) as db:
        applied = apply_changes(db, _changes(songs), "replace")
    assert applied.run_id == 1 and len(applied.written) == 2
    snapshot = Snapshot(path, songs[0].parent)
    _, total = _cut(path, None, before, lambda db: undo(db, 1))
    assert total == 6
    for point in range(1, total + 1):
        snapshot.restore()
        crashed, _ = _cut(path, point, before, lambda db: undo(db, 1))
        assert crashed
        _check_undo_restores(path, songs, tags_before)
    capsys.readouterr()


def test_recovery_finishes_an_undo_cut_between_its_restore_and_the_original_mark(
    library,
) -> None:
    """A journal left as the old two-transaction undo left it: the restore recorded, the
    original run still applied. Recovery marks the original rows undone."""
    path, songs, tags_before = library
    with Database(path) as db:
        apply_changes(db, _changes(songs), "replace")
        undone = undo(db, 1)
        with db.transaction() as conn:  # as if the last transaction had never committed
            conn.execute("UPDATE tag_changes SET state = 'applied' WHERE run_id = 1")
            conn.execute("UPDATE tag_runs SET status = 'running' WHERE id = ?",
                         (undone.run_id,))
    assert cli.main(["--library", str(path), "runs"]) == 0
    with Database(path) as db:
        states = db.execute("SELECT DISTINCT state FROM tag_changes WHERE run_id = 1")
        assert [s for (s,) in states] == ["undone"]
    assert {p: all_tags(p) for p in songs} == tags_before
