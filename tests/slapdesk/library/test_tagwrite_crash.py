"""The crash test: SIGKILL the tag writer at random moments; every file must be old or new.

A child process (forked after the imports, so a kill costs milliseconds, not an interpreter
start) applies a journaled run to one file of every format; the parent kills it after a random
delay drawn over the run's measured duration. After each kill: start-up recovery runs, no temp
file is left, every file holds exactly its old or exactly its new tags, its audio packets are
unchanged, and the journal agrees with the file. Values alternate between tags that fit the
padding (in-place path) and tags that outgrow it (atomic path).
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

from slapdesk.library import journal, tagruns, tagwrite
from slapdesk.library.audiogen import FORMATS, make_track
from slapdesk.library.db import Database
from slapdesk.library.tagplan import PlannedChange
from tests.conftest import KNOWN_TAGS

from .tagwrite_helpers import all_tags, index_tracks, temp_files

KILLS = 40
SEED = 20261125
TARGETS = (
    ("Blues", "Soul"),  # fits the padding: in place
    tuple(f"big genre {i} " + "y" * 700 for i in range(16)),  # ~11 KB: atomic rewrite
    ("Jazz",),
    tuple(f"bigger genre {i} " + "z" * 900 for i in range(16)),
)

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _run_in_child(library: Path, paths: list[Path], values: tuple[str, ...]) -> int:
    """Fork a child that applies one run and exits; returns its pid."""
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            db = Database(library)
            changes = [PlannedChange.make(p, "genre", values) for p in paths]
            journal.apply_changes(db, changes, "replace")
            code = 0
        finally:
            os._exit(code)
    return pid


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
    audio_md5 = {p: tagwrite.packet_md5(p) for p in paths}
    expected = _expected_snapshots(tmp_path, paths)
    original = {p: all_tags(p) for p in paths}
    library = tmp_path / "library.sqlite"
    db = Database(library)
    index_tracks(db, paths)

    # Calibrate: one uninterrupted run per target kind gives the span to draw kill times from.
    started = time.monotonic()
    os.waitpid(_run_in_child(library, paths, TARGETS[0]), 0)
    span = time.monotonic() - started
    state = {p: expected[p, 0] for p in paths}
    assert {p: all_tags(p) for p in paths} == state

    rng = random.Random(SEED)
    outcomes: Counter[str] = Counter()
    removed_temp = 0
    for kill in range(KILLS):
        target = (kill + 1) % len(TARGETS)
        pid = _run_in_child(library, paths, TARGETS[target])
        time.sleep(rng.uniform(0.0, span * 1.2))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)

        report = journal.recover(db)
        removed_temp += len(report.temp_files_removed)
        assert temp_files(music) == []
        pending = db.execute("SELECT COUNT(*) FROM tag_changes WHERE state = 'pending'")
        assert pending.fetchone() == (0,)
        for path in paths:
            now = all_tags(path)
            new = expected[path, target]
            assert now in (state[path], new), f"kill {kill}: {path.name} is neither old nor new"
            assert tagwrite.packet_md5(path) == audio_md5[path], f"{path.name}: audio changed"
            outcomes["new" if now == new and now != state[path] else "old"] += 1
            state[path] = now
        _sync_stamps(db, paths)

    # Every file still reads in FFmpeg with the tags it holds; the journal can undo everything.
    for path in paths:
        first = tagwrite.read_fields(path, ["slapdesk_genre"])["slapdesk_genre"][0]
        assert tagwrite.ffmpeg_metadata(path)["SLAPDESK_GENRE"].startswith(first)
    runs = tagruns.list_runs(db)
    assert sum(r.status == "interrupted" for r in runs) >= KILLS // 4
    # Undoing every run, newest first, walks each file back to exactly its original tags.
    for run in runs:
        if run.policy != "undo" and run.counts["applied"]:
            result = journal.undo(db, run.run_id)
            assert not result.failed and not result.skipped
    assert {p: all_tags(p) for p in paths} == original
    db.close()
    sys.stderr.write(
        f"crash test: {KILLS} kills, span {span:.3f}s, file outcomes {dict(outcomes)}, "
        f"temp files removed by recovery {removed_temp}\n"
    )
    assert outcomes["old"] > 0 and outcomes["new"] > 0
