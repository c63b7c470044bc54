"""A track whose audio no decoder reads is remembered: listed as unreadable, not retried."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from engine.inference import Embedder
from slapdesk.library.autotag.review import track_problems
from slapdesk.library.demo.audio_files import make_track
from slapdesk.library.jobs.embed import embed_library, register_model
from slapdesk.library.scan.scanner import run_scan
from slapdesk.library.search.filters import filtered_track_ids
from slapdesk.library.search.query_language import parse_query
from slapdesk.library.store.database import Database, schema_version
from slapdesk.library.store.schema import SCHEMA_VERSION

DATA = Path(__file__).resolve().parents[3] / "data"
REASON = "audio stream has no sample rate"


def _unknown_codec(path: Path) -> None:
    """Make a WAV whose header and tags read but whose codec no decoder knows."""
    data = bytearray(path.read_bytes())
    fmt = data.index(b"fmt ")
    data[fmt + 8 : fmt + 10] = (0x1234).to_bytes(2, "little")  # the format tag
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def embedder(tiny_bundle: Path) -> Embedder:
    return Embedder.from_bundle(tiny_bundle, device="cpu")


@pytest.fixture
def library(tmp_path: Path, embedder: Embedder) -> Database:
    music = tmp_path / "music"
    music.mkdir()
    for name, freq in (("good", 220.0), ("odd", 330.0)):
        make_track(music / name, "wav", freq_hz=freq, seconds=2.0, sample_rate=16_000,
                   tags={"title": name})  # fmt: skip
    _unknown_codec(music / "odd.wav")
    db = Database(tmp_path / "library.sqlite")
    run_scan(db, [music])
    register_model(db, embedder.model_id, "tiny", None, embedder.dim)
    yield db
    db.close()


def _id(db: Database, title: str) -> int:
    return int(db.execute("SELECT id FROM tracks WHERE title = ?", (title,)).fetchone()[0])


def _listed(db: Database, query: str) -> set[int] | None:
    return filtered_track_ids(db.conn, parse_query(query))


def test_a_failed_track_is_listed_and_skipped_until_asked(
    library: Database, embedder: Embedder
) -> None:
    odd = _id(library, "odd")
    odd_path = os.fsdecode(library.execute("SELECT path FROM tracks WHERE id = ?",
                                           (odd,)).fetchone()[0])  # fmt: skip
    first = embed_library(library, embedder)
    assert (first.embedded, first.errors, first.failed_before) == (1, [(odd_path, REASON)], 0)
    for state in ("is:unreadable", "is:broken"):
        assert _listed(library, state) == {odd}
    good = _id(library, "good")
    assert _listed(library, "is:problem") == {odd, good}  # a pure tone is marked as well
    assert _listed(library, "is:damaged") == set()
    assert track_problems(library.conn)[odd] == f"the audio could not be decoded: {REASON}"

    again = embed_library(library, embedder)
    assert (again.embedded, again.errors, again.failed_before) == (0, [], 1)
    retried = embed_library(library, embedder, retry_failed=True)
    assert (retried.embedded, retried.errors, retried.failed_before) == (
        0, [(odd_path, REASON)], 0)


def test_a_mended_file_is_tried_again_and_no_longer_listed(
    library: Database, embedder: Embedder, tmp_path: Path
) -> None:
    embed_library(library, embedder)
    odd = _id(library, "odd")
    make_track(tmp_path / "music" / "odd", "wav", freq_hz=330.0, seconds=3.0,
               sample_rate=16_000, tags={"title": "odd"})  # the user replaced the copy
    run_scan(library, [tmp_path / "music"])
    mended = embed_library(library, embedder)
    assert (mended.embedded, mended.errors, mended.failed_before) == (1, [], 0)
    assert _listed(library, "is:unreadable") == set()
    assert library.execute("SELECT count(*) FROM audio_failures").fetchone() == (0,)
    assert library.execute("SELECT count(*) FROM embeddings WHERE track_id = ?",
                           (odd,)).fetchone() == (1,)  # fmt: skip


def test_a_file_that_changed_since_the_scan_is_not_marked(
    library: Database, embedder: Embedder, tmp_path: Path
) -> None:
    (tmp_path / "music" / "good.wav").write_bytes(b"RIFF" + bytes(range(256)) * 40)
    summary = embed_library(library, embedder)
    assert [Path(path).name for path, _ in summary.errors] == ["good.wav", "odd.wav"]
    marked = library.execute("SELECT track_id FROM audio_failures").fetchall()
    assert marked == [(_id(library, "odd"),)]  # good.wav is read again by the next scan


def test_a_version_4_library_migrates_and_keeps_its_settings(tmp_path: Path) -> None:
    path = tmp_path / "v4.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript((DATA / "library_v4.sql").read_text(encoding="utf-8"))
    with Database(path) as db:
        assert schema_version(db.conn) == SCHEMA_VERSION == 5
        assert db.execute("SELECT * FROM saved_searches").fetchall() == [
            ("Calm", "calm piano", 0)]
        assert db.execute("SELECT value FROM library_settings").fetchall() == [
            ("/models/mine",)]
        assert db.execute("SELECT count(*) FROM audio_failures").fetchone() == (0,)
        assert filtered_track_ids(db.conn, parse_query("is:unreadable")) == {3}
