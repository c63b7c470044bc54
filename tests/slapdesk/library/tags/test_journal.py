"""Journal-first tag runs, undo, policies and crash recovery on a real library file."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import mutagen
import pytest

from slapdesk.library.demo.audio_files import make_track
from slapdesk.library.store.database import Database
from slapdesk.library.tags import journal_store
from slapdesk.library.tags import runs as tagruns
from slapdesk.library.tags import write as tagwrite
from slapdesk.library.tags.journal import NothingToUndoError, Progress, apply_changes, recover, undo
from slapdesk.library.tags.plan import PlannedChange

from .write_helpers import all_tags, index_tracks, temp_files

BIG = tuple(f"genre number {i} " + "x" * 600 for i in range(20))


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(tmp_path / "library.sqlite")
    yield database
    database.close()


def index(db: Database, path: Path) -> int:
    return index_tracks(db, [path])[0]


def change(path: Path, vocab: str, *values: str, track_id: int | None = None) -> PlannedChange:
    return PlannedChange.make(path, vocab, values, track_id)


def rows(db: Database, run_id: int) -> list[tuple]:
    return db.execute(
        "SELECT field, old, new, state FROM tag_changes WHERE run_id = ? ORDER BY id", (run_id,)
    ).fetchall()


def test_apply_then_undo_restores_tags_exactly(db: Database, tagged_track: Path) -> None:
    track_id = index(db, tagged_track)
    before = all_tags(tagged_track)
    audio_md5 = tagwrite.packet_md5(tagged_track)
    seen: list[Progress] = []
    result = apply_changes(
        db,
        [change(tagged_track, "genre", "Blues", "Soul"), change(tagged_track, "mood", "Calm")],
        "replace",
        model_id="m1",
        progress=seen.append,
    )
    assert result.written == [tagged_track] and not result.failed and not result.skipped
    assert seen == [Progress(1, 1, tagged_track.name)]
    values = tagwrite.read_fields(tagged_track, ["genre", "mood", "slapdesk_genre"])
    assert values == {
        "genre": ["Blues", "Soul"],
        "mood": ["Calm"],
        "slapdesk_genre": ["Blues", "Soul"],
    }
    journaled = {r[0]: (json.loads(r[1]), json.loads(r[2]), r[3]) for r in rows(db, result.run_id)}
    assert journaled["genre"] == (["Rock", "Jazz"], ["Blues", "Soul"], "applied")
    assert journaled["slapdesk_genre"] == ([], ["Blues", "Soul"], "applied")
    # The library now holds the written file's stamp, so the next scan skips it.
    st = tagged_track.stat()
    track = db.execute("SELECT size, mtime_ns, genre FROM tracks WHERE id = ?", (track_id,))
    assert track.fetchone() == (st.st_size, st.st_mtime_ns, '["Blues", "Soul"]')

    tags_json = db.execute("SELECT tags FROM tracks WHERE id = ?", (track_id,)).fetchone()[0]
    assert "SLAPDESK_GENRE" in tags_json.upper()  # the row matches what a rescan would store

    undone = undo(db)
    assert undone.written == [tagged_track]
    genre = db.execute("SELECT genre FROM tracks WHERE id = ?", (track_id,)).fetchone()[0]
    assert json.loads(genre) == ["Rock", "Jazz"]
    assert all_tags(tagged_track) == before  # every tag, byte for byte (values and encodings)
    assert tagwrite.packet_md5(tagged_track) == audio_md5
    assert {r[3] for r in rows(db, result.run_id)} == {"undone"}
    # Undo is a run too, so it can be undone (redo).
    redo = undo(db)
    assert tagwrite.read_fields(tagged_track, ["genre"]) == {"genre": ["Blues", "Soul"]}
    assert {r[3] for r in rows(db, undone.run_id)} == {"undone"}
    assert redo.run_id > undone.run_id


def test_undo_of_atomic_rewrite_is_exact(db: Database, tmp_path: Path) -> None:
    path = make_track(tmp_path / "song", "opus", tags={"title": "T", "genre": ["Rock"]})
    index(db, path)
    before = all_tags(path)
    result = apply_changes(db, [change(path, "instrument", *BIG)])
    assert tagwrite.read_fields(path, ["slapdesk_instrument"])["slapdesk_instrument"] == list(BIG)
    undo(db, result.run_id)
    assert all_tags(path) == before


@pytest.mark.parametrize("fmt", ["mp3", "flac", "m4a-aac"])
def test_policies(db: Database, tmp_path: Path, fmt: str) -> None:
    tagged = make_track(tmp_path / "tagged", fmt, tags={"title": "A", "genre": ["Rock", "Jazz"]})
    bare = make_track(tmp_path / "bare", fmt, tags={"title": "B"})
    for path in (tagged, bare):
        index(db, path)

    def genres(path: Path) -> dict[str, list[str]]:
        return tagwrite.read_fields(path, ["genre", "slapdesk_genre"])

    proposal = ("Blues", "Rock")
    apply_changes(db, [change(p, "genre", *proposal) for p in (tagged, bare)], "own-fields")
    assert genres(tagged) == {"genre": ["Rock", "Jazz"], "slapdesk_genre": ["Blues", "Rock"]}
    assert genres(bare) == {"genre": [], "slapdesk_genre": ["Blues", "Rock"]}

    apply_changes(db, [change(p, "genre", *proposal) for p in (tagged, bare)], "fill-empty")
    assert genres(tagged)["genre"] == ["Rock", "Jazz"]  # the user's genre stays
    assert genres(bare)["genre"] == ["Blues", "Rock"]  # an empty one is filled

    apply_changes(db, [change(tagged, "genre", "Blues", "rock")], "merge")
    assert genres(tagged)["genre"] == ["Rock", "Jazz", "Blues"]  # theirs first, ours if new

    apply_changes(db, [change(tagged, "genre", "Soul")], "replace")
    assert genres(tagged) == {"genre": ["Soul"], "slapdesk_genre": ["Soul"]}


def test_missing_answer_never_erases(db: Database, tagged_track: Path) -> None:
    index(db, tagged_track)
    before = tagged_track.read_bytes()
    result = apply_changes(db, [change(tagged_track, "genre")], "replace")
    assert result.unchanged == [tagged_track] and not result.written
    assert tagged_track.read_bytes() == before


def test_file_modified_after_indexing_is_skipped(db: Database, tmp_path: Path) -> None:
    path = make_track(tmp_path / "song", "mp3", tags={"title": "Old"})
    index(db, path)
    audio = mutagen.File(path)
    audio.tags["TIT2"].text = ["Edited elsewhere"]
    audio.save()
    edited = path.read_bytes()
    result = apply_changes(db, [change(path, "genre", "Blues")], "replace")
    assert result.skipped == [
        (path, "changed on disk since it was indexed; rescan it, then tag again")
    ]
    assert path.read_bytes() == edited


def test_undo_skips_a_file_changed_since_the_run(db: Database, tmp_path: Path) -> None:
    path = make_track(tmp_path / "song", "flac", tags={"title": "T"})
    index(db, path)
    apply_changes(db, [change(path, "mood", "Calm")])
    later = time.time_ns() + 5_000_000_000
    os.utime(path, ns=(later, later))  # another program touched it after our run
    result = undo(db)
    assert result.skipped and "changed on disk since it was indexed" in result.skipped[0][1]
    assert tagwrite.read_fields(path, ["slapdesk_mood"]) == {"slapdesk_mood": ["Calm"]}


def test_nothing_to_undo(db: Database) -> None:
    with pytest.raises(NothingToUndoError, match="no tagging run"):
        undo(db)
    with pytest.raises(NothingToUndoError, match="no run 7"):
        undo(db, 7)


def test_failed_file_is_recorded_and_run_goes_on(db: Database, tmp_path: Path) -> None:
    good = make_track(tmp_path / "good", "ogg")
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"\0" * 100)
    result = apply_changes(db, [change(broken, "genre", "A"), change(good, "genre", "B")])
    assert result.written == [good]
    assert [p for p, _ in result.failed] == [broken.absolute()]
    assert result.failed[0][1].startswith("not an audio file whose tags can be read")


def test_cancel_stops_before_the_next_file(db: Database, tmp_path: Path) -> None:
    paths = [make_track(tmp_path / f"s{i}", "flac") for i in range(3)]
    cancel = threading.Event()

    def stop_after_first(progress: Progress) -> None:
        cancel.set()

    result = apply_changes(
        db, [change(p, "genre", "X") for p in paths], cancel=cancel, progress=stop_after_first
    )
    assert result.cancelled and result.written == [paths[0]]
    runs = tagruns.list_runs(db)
    assert runs[0].status == "cancelled" and runs[0].counts["applied"] == 1


def test_recovery_reconciles_pending_rows_and_removes_temp_files(
    db: Database, tmp_path: Path
) -> None:
    written = make_track(tmp_path / "written", "mp3")
    untouched = make_track(tmp_path / "untouched", "m4a-aac")
    track_id = index(db, written)
    run_id = journal_store.new_run(db, "genre", "own-fields", None, {})
    for path, tid in ((written, track_id), (untouched, None)):
        stamp = tagwrite.FileStamp.of(path)
        new, old = {"slapdesk_genre": ["X"]}, {"slapdesk_genre": []}
        job = journal_store.FileJob(path, tid, new, old, stamp)
        journal_store.journal_job(db, run_id, job)  # journaled, then "killed" before marking
    tagwrite.write_fields(written, {"slapdesk_genre": ["X"]})
    stale = tmp_path / f"{tagwrite.TEMP_PREFIX}dead{tagwrite.TEMP_SUFFIX}"
    stale.write_bytes(b"partial copy")

    report = recover(db)
    assert (report.applied, report.failed) == (1, 1)
    assert report.temp_files_removed == [stale]
    assert temp_files(tmp_path) == []
    states = dict(db.execute("SELECT path, state FROM tag_changes WHERE run_id = ?", (run_id,)))
    assert states[os.fsencode(written.absolute())] == "applied"
    assert states[os.fsencode(untouched.absolute())] == "failed"
    st = written.stat()
    stamp = db.execute("SELECT size, mtime_ns FROM tracks WHERE id = ?", (track_id,)).fetchone()
    assert stamp == (st.st_size, st.st_mtime_ns)
    assert tagruns.list_runs(db)[0].status == "interrupted"
    # The recovered run can be undone like any other.
    undo(db, run_id)
    assert tagwrite.read_fields(written, ["slapdesk_genre"]) == {"slapdesk_genre": []}


def test_list_runs_counts(db: Database, tmp_path: Path) -> None:
    a = make_track(tmp_path / "a", "wav", tags={"title": "A"})
    b = make_track(tmp_path / "b", "aiff", tags={"title": "B"})
    first = apply_changes(db, [change(a, "genre", "X"), change(b, "genre", "Y")], "fill-empty")
    undo(db, first.run_id)
    runs = tagruns.list_runs(db)
    assert [r.run_id for r in runs] == [first.run_id + 1, first.run_id]
    assert runs[1].counts == {"applied": 0, "failed": 0, "undone": 4, "pending": 0}
    assert runs[1].files == 2 and runs[1].policy == "fill-empty" and runs[1].vocab == "genre"
    assert runs[0].policy == "undo" and runs[0].undo_of == first.run_id
    assert runs[0].counts["applied"] == 4
