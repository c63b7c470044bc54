"""The crash test: SIGKILL the tag writer mid-run; every file must end old or new.

A child process (forked after the imports, so a kill costs milliseconds, not an interpreter
start) applies a journaled run to one file of every format and SIGKILLs itself at a chosen
I/O event: the n-th write SlapDesk makes into a music folder (after half of its bytes reached
the file) or the n-th COMMIT of the library (before it). Event numbers are drawn from a seeded
generator over the count of one uninterrupted run, so the kill points are the same on a fast
and on a loaded machine. After each kill: start-up recovery runs, no temp file is left, every
file holds exactly its old or exactly its new tags, its audio packets are unchanged, and the
journal agrees with the file. Values alternate between tags that fit the padding (in place)
and tags that outgrow it (the copy). Then every run is undone, newest first, with kills inside
the undo runs' file writes: each file must end exactly as it was made.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from slapdesk.library.demo.audio_files import FORMATS, make_track
from slapdesk.library.store.database import Database
from slapdesk.library.tags import journal, rollback
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


class _Events:
    """Counts I/O events in the child and SIGKILLs it at event ``kill_at`` (None: never)."""

    def __init__(self, kill_at: int | None, commits: bool) -> None:
        self.kill_at, self.commits, self.count, self.writes = kill_at, commits, 0, 0
        self._open = rollback.open_for_write

    def _tick(self) -> bool:
        self.count += 1
        return self.count == self.kill_at

    def statement(self, sql: str) -> None:
        if self.commits and sql.strip().upper() == "COMMIT" and self._tick():
            os.kill(os.getpid(), signal.SIGKILL)

    def open(self, path: Any, mode: str) -> Any:
        return _KillingFile(self._open(path, mode), self)


class _KillingFile:
    def __init__(self, inner: Any, events: _Events) -> None:
        self._inner, self._events = inner, events

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self._events.writes += bool(len(view))
        if len(view) and self._events._tick():
            self._inner.write(bytes(view[: len(view) // 2]))  # a write torn by the kill
            self._inner.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        return self._inner.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __enter__(self) -> _KillingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.close()


def _in_child(
    library: Path, job, kill_at: int | None, commits: bool = True
) -> tuple[bool, tuple[int, int]]:
    """Run ``job(db)`` in a forked child, killed at event ``kill_at``.

    Returns:
        Whether it was killed; for a finished child, its (events, file writes) seen.
    """
    counted = library.with_name("events")
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            db = Database(library)
            events = _Events(kill_at, commits)
            db.conn.set_trace_callback(events.statement)
            rollback.open_for_write = events.open  # type: ignore[assignment]
            job(db)
            counted.write_text(f"{events.count} {events.writes}")
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        assert os.WTERMSIG(status) == signal.SIGKILL
        return True, (0, 0)
    assert os.WEXITSTATUS(status) == 0, "the child failed"
    events, writes = counted.read_text().split()
    return False, (int(events), int(writes))


def _apply(paths: list[Path], values: tuple[str, ...]):
    changes = [PlannedChange.make(p, "genre", values) for p in paths]
    return lambda db: journal.apply_changes(db, changes, "replace")


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


def _undo_every_run(
    db: Database, library: Path, runs: list, check: _Checker,
    before_run: dict[int, dict[Path, dict]], rng: random.Random, writes: int,
) -> None:
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
        before = before_run[run.run_id]
        back = {p: before[p] if str(p) in applied else check.state[p] for p in check.paths}
        if undo_kills:
            undo_kills -= 1
            # Kills at the undo's file writes; its commits are the journal's own crash test.
            undo_job = lambda db, r=run.run_id: journal.undo(db, r)  # noqa: E731
            _in_child(library, undo_job, rng.randint(1, writes), commits=False)
            check.after_kill(back)
        try:
            result = journal.undo(db, run.run_id)
            assert not result.failed and not result.skipped
        except journal.NothingToUndoError:
            pass  # the killed undo had finished
        assert {p: all_tags(p) for p in check.paths} == back
        check.state = back


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

    # One uninterrupted run counts the I/O events to draw kill points from.
    killed, (span, writes) = _in_child(library, _apply(paths, TARGETS[0]), None)
    assert not killed and span > writes > len(paths)
    before_run[check.last_run()] = dict(check.state)
    check.state = {p: expected[p, 0] for p in paths}
    assert {p: all_tags(p) for p in paths} == check.state

    rng = random.Random(SEED)
    for kill in range(KILLS_APPLY):
        target = (kill + 1) % len(TARGETS)
        previous, last = dict(check.state), check.last_run()
        _in_child(library, _apply(paths, TARGETS[target]), rng.randint(1, span))
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

    _undo_every_run(db, library, runs, check, before_run, rng, writes)
    assert {p: all_tags(p) for p in paths} == original
    db.close()
    sys.stderr.write(
        f"crash test: {check.kills} kills ({KILLS_APPLY} in tag runs, "
        f"{check.kills - KILLS_APPLY} in undo runs), {span} I/O events in a run "
        f"({writes} file writes); "
        f"file outcomes in tag runs {apply_outcomes}, all {dict(check.outcomes)}; "
        f"{interrupted} runs interrupted; temp files removed by recovery {check.temp_removed}\n"
    )
    assert apply_outcomes["old"] > 0 and apply_outcomes["new"] > 0
