"""A file SlapDesk wrote keeps its identity: moved afterwards, it keeps its id, vectors, history.

The scan recognises a moved file by size + CRC of its first and last 64 KiB; a tag write
changes those bytes, so every write must store the new fingerprint, as the scanner computes it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from slapdesk.library.demo.audio_files import make_track
from slapdesk.library.scan.scanner import ScanCfg, run_scan
from slapdesk.library.store.database import Database
from slapdesk.library.tags import read as tagread
from slapdesk.library.tags import write as tagwrite
from slapdesk.library.tags.journal import apply_changes, undo
from slapdesk.library.tags.plan import PlannedChange

from .write_helpers import all_tags

BIG = tuple(f"instrument {i} " + "x" * 600 for i in range(12))  # outgrows the padding


@pytest.fixture
def library(tmp_path: Path) -> tuple[Database, Path]:
    folder = tmp_path / "music"
    folder.mkdir()
    db = Database(tmp_path / "library.sqlite")
    yield db, folder
    db.close()


def _scan(db: Database, folder: Path):
    return run_scan(db, [folder], cfg=ScanCfg(workers=0))


def _with_vectors(db: Database, track_id: int) -> None:
    with db.transaction() as conn:
        conn.execute("INSERT INTO models (id, name, dim, added_at) VALUES ('m', 'm', 2, 0)")
        conn.execute(
            "INSERT INTO embeddings (track_id, model_id, dim, vector, created_at) "
            "VALUES (?, 'm', 2, ?, 0)",
            (track_id, b"\0" * 8),
        )


@pytest.mark.parametrize(("fmt", "values"), [("flac", ("Calm",)), ("opus", BIG)],
                         ids=["in-place", "atomic"])  # fmt: skip
@pytest.mark.parametrize("undo_first", [False, True], ids=["applied", "applied+undone"])
def test_moved_file_keeps_id_vectors_and_history(
    library, fmt: str, values: tuple[str, ...], undo_first: bool
) -> None:
    db, folder = library
    song = make_track(folder / "song", fmt, tags={"title": "Song", "genre": ["Rock"]})
    before = all_tags(song)
    _scan(db, folder)
    (track_id,) = db.execute("SELECT id FROM tracks").fetchone()
    _with_vectors(db, track_id)
    run = apply_changes(db, [PlannedChange.make(song, "mood", values)])
    assert run.written == [song]
    if undo_first:
        undo(db, run.run_id)
        assert all_tags(song) == before
    stored = db.execute("SELECT size, fingerprint FROM tracks WHERE id = ?", (track_id,))
    assert stored.fetchone() == (song.stat().st_size, tagread.read_file(bytes(song)).fingerprint)

    moved = folder / "elsewhere" / f"renamed{song.suffix}"
    moved.parent.mkdir()
    os.rename(song, moved)
    report = _scan(db, folder)
    assert (report.moved, report.added, report.removed) == (1, 0, 0)
    row = db.execute("SELECT id, path FROM tracks").fetchall()
    assert row == [(track_id, os.fsencode(moved))]
    assert db.execute("SELECT track_id FROM embeddings").fetchall() == [(track_id,)]
    history = db.execute("SELECT DISTINCT track_id FROM tag_changes").fetchall()
    assert history == [(track_id,)]
    if not undo_first:  # the history is usable: undo finds the file where it is now
        result = undo(db, run.run_id)
        assert result.written == [moved]
        assert all_tags(moved) == before
        assert json.loads(db.execute("SELECT genre FROM tracks").fetchone()[0]) == ["Rock"]
    assert tagwrite.read_fields(moved, ["slapdesk_mood"]) == {"slapdesk_mood": []}
