"""The crash test: SIGKILL the tag writer at random moments; every file must be old or new.

A child process (forked after the imports, so a kill costs milliseconds, not an interpreter
start) applies a journaled run to one file of every format; the parent kills it after a random
delay drawn over the run's measured duration. After each kill: start-up recovery runs, no temp
file is left, every file holds exactly its old or exactly its new tags, its audio packets are
unchanged, and the journal agrees with the file. Values alternate between tags that fit the
padding (in-place path) and tags that outgrow it (atomic path). Then every run is undone, newest
first, with more kills during the undo runs: each file must end exactly as it was made.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from slapdesk.library.demo.audio_files import FORMATS, make_track
from slapdesk.library.store.database import Database
from slapdesk.library.tags import journal
from slapdesk.library.tags import runs as tagruns
from slapdesk.library.tags import write as tagwrite
from slapdesk.library.tags.plan import PlannedChange
from tests.conftest import KNOWN_TAGS

from .write_helpers import all_tags, index_tracks, temp_files

KILLS_APPLY = 30  # kills during tagging runs
KILLS_UNDO = 10  # kills during undo runs
SEED = 20261125
TARGETS = (
    ("Blues", "Soul"),  # fits the padding: in place
    tuple(f"big genre {i} " + "y" * 700 for i in range(16)),  # ~11 KB: atomic rewrite
    ("Jazz",),
    tuple(f"bigger genre {i} " + "z" * 900 for i in range(16)),
)

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _in_child(library: Path, job) -> int:
    """Fork a child that runs ``job(db)`` on its own connection and exits; returns its pid."""
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            job(Database(library))
            code = 0
        finally:
            os._exit(code)
    return pid


def _apply(paths: list[Path], values: tuple[str, ...]):
    changes = [PlannedChange.make(p, "genre", values) for p in paths]
    return lambda db: journal.apply_changes(db, changes, "replace")


def _kill_after(pid: int, delay: float) -> bool:
    """SIGKILL the child after ``delay`` seconds; False when it had finished by then."""
    time.sleep(delay)
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    return os.WIFSIGNALED(status)


class _Checker:
    """After each kill: recover, then every file must be old or new with its audio intact."""

    def __init__(self, db: Database, music: Path, paths: list[Path]) -> None:
        self.db, self.music, self.paths = db, music, paths
        self.audio_md5 = {p: tagwrite.packet_md5(p) for p in paths}
        self.state = {p: all_tags(p) for p in paths}
        self.outcomes: Counter[str] = Counter()
        self.temp_removed = 0
        self.kills = 0

    def after_kill(self, new: dict[Path, dict]) -> None:
        self.kills += 1
        report = journal.recover(self.db)
        self.temp_removed += len(report.temp_files_removed)
        assert temp_files(self.music) == []
        pending = self.db.execute("SELECT COUNT(*) FROM tag_changes WHERE state = 'pending'")
        assert pending.fetchone() == (0,)
        for path in self.paths:
            now = all_tags(path)
            old = self.state[path]
            assert now in (old, new[path]), f"kill {self.kills}: {path.name} neither old nor new"
            assert tagwrite.packet_md5(path) == self.audio_md5[path], f"{path.name}: audio"
            self.outcomes["new" if now == new[path] and now != old else "old"] += 1
            self.state[path] = now
        _sync_stamps(self.db, self.paths)

    def last_run(self) -> int:
        return self.db.execute("SELECT COALESCE(MAX(id), 0) FROM tag_runs").fetchone()[0]


def _expected_snapshots(folder: Path, originals: list[Path]) -> dict[tuple[Path, int], dict]:
    """The tags each file must have after each target is written (written without a kill)."""
    scratch = folder / "scratch"
    scratch.mkdir()
    expected = {}
    for path in originals:
        for index, values in enumerate(TARGETS):
            copy = scratch / f"{index}_{path.name}"
            shutil.copy2(path, copy)
            tagwrite.write_fields(copy, {"genre": values, "slapdesk_genre": values})
            expected[path, index] = all_tags(copy)
    shutil.rmtree(scratch)
    return expected


def _sync_stamps(db: Database, paths: list[Path]) -> None:
    # Recovery updates the stamps of rows it finds applied; a kill after the write but before
    # the journal commit is covered by that. Nothing else may change the files.
    for path in paths:
        st = path.stat()
        row = db.execute(
            "SELECT size, mtime_ns FROM tracks WHERE path = ?", (os.fsencode(path),)
        ).fetchone()
        assert row == (st.st_size, st.st_mtime_ns), f"{path.name}: library stamp is stale"


def test_sigkill_at_random_moments_leaves_every_file_old_or_new(tmp_path: Path) -> None:
    music = tmp_path / "music"
    music.mkdir()
    paths = [make_track(music / f"song_{name}", name, tags=KNOWN_TAGS) for name in sorted(FORMATS)]
    expected = _expected_snapshots(tmp_path, paths)
    original = {p: all_tags(p) for p in paths}
    library = tmp_path / "library.sqlite"
    db = Database(library)
    index_tracks(db, paths)
    check = _Checker(db, music, paths)
    before_run: dict[int, dict[Path, dict]] = {}  # run id -> each file's tags before it

    # Calibrate: one uninterrupted run gives the span to draw kill times from.
    started = time.monotonic()
    os.waitpid(_in_child(library, _apply(paths, TARGETS[0])), 0)
    span = time.monotonic() - started
    before_run[check.last_run()] = dict(check.state)
    check.state = {p: expected[p, 0] for p in paths}
    assert {p: all_tags(p) for p in paths} == check.state

    rng = random.Random(SEED)
    for kill in range(KILLS_APPLY):
        target = (kill + 1) % len(TARGETS)
        previous, last = dict(check.state), check.last_run()
        child = _in_child(library, _apply(paths, TARGETS[target]))
        if not _kill_after(child, rng.uniform(0, span * 1.2)):
            span *= 0.8  # the machine got faster than calibrated: keep the kills mid-run
        check.after_kill({p: expected[p, target] for p in paths})
        if check.last_run() != last:
            before_run[check.last_run()] = previous
    apply_outcomes = dict(check.outcomes)

    # Every file still reads in FFmpeg with the tags it holds.
    for path in paths:
        first = tagwrite.read_fields(path, ["slapdesk_genre"])["slapdesk_genre"][0]
        assert tagwrite.ffmpeg_metadata(path)["SLAPDESK_GENRE"].startswith(first)
    runs = tagruns.list_runs(db)
    interrupted = sum(r.status == "interrupted" for r in runs)
    assert interrupted >= KILLS_APPLY // 4

    # Undo every run, newest first, killing some undo runs midway: each file must step back to
    # exactly its tags before that run, and in the end to exactly its original tags.
    undo_kills = KILLS_UNDO
    for run in runs:
        if run.policy == "undo" or not run.counts["applied"]:
            continue
        applied = {
            os.fsdecode(row[0])
            for row in db.execute(
                "SELECT path FROM tag_changes WHERE run_id = ? AND state = 'applied'", (run.run_id,)
            )
        }
        back = {
            p: before_run[run.run_id][p] if str(p) in applied else check.state[p] for p in paths
        }
        if undo_kills:
            undo_kills -= 1
            job = _in_child(library, lambda db, r=run.run_id: journal.undo(db, r))
            if not _kill_after(job, rng.uniform(0, span * 1.2)):
                span *= 0.8
            check.after_kill(back)
        try:
            result = journal.undo(db, run.run_id)
            assert not result.failed and not result.skipped
        except journal.NothingToUndoError:
            pass  # the killed undo had finished
        assert {p: all_tags(p) for p in paths} == back
        check.state = back
    assert {p: all_tags(p) for p in paths} == original
    db.close()
    sys.stderr.write(
        f"crash test: {check.kills} kills ({KILLS_APPLY} in tag runs, "
        f"{check.kills - KILLS_APPLY} in undo runs), run span {span:.3f}s; "
        f"file outcomes in tag runs {apply_outcomes}, all {dict(check.outcomes)}; "
        f"{interrupted} runs interrupted; temp files removed by recovery {check.temp_removed}\n"
    )
    assert apply_outcomes["old"] > 0 and apply_outcomes["new"] > 0
