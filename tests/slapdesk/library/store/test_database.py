"""The library file: schema, transactions, read-only readers, clear errors, old files open."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from slapdesk.library.store.database import Database, LibraryError, open_readonly, schema_version
from slapdesk.library.store.schema import SCHEMA_VERSION

DATA = Path(__file__).resolve().parents[3] / "data"
TABLES = {
    "schema_version", "folders", "tracks", "tracks_fts", "models", "embeddings",
    "window_embeddings", "tag_runs", "tag_changes", "tag_proposals", "moment_vectors",
    "library_settings", "saved_searches",
}  # fmt: skip


def _tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows}


def _add_track(db: Database, path: bytes, **columns: object) -> int:
    values = {"path": path, "size": 1, "mtime_ns": 2, "added_at": 0.0, "updated_at": 0.0}
    values.update(columns)
    with db.transaction() as conn:
        cursor = conn.execute(
            f"INSERT INTO tracks ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
            tuple(values.values()),
        )
    return int(cursor.lastrowid)


def test_a_new_library_has_every_table_wal_and_the_current_version(tmp_path: Path) -> None:
    with Database(tmp_path / "sub" / "lib.sqlite") as db:
        assert _tables(db.conn) >= TABLES
        assert schema_version(db.conn) == SCHEMA_VERSION
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_a_transaction_rolls_back_on_error_and_nested_blocks_join(tmp_path: Path) -> None:
    with Database(tmp_path / "lib.sqlite") as db:
        with pytest.raises(RuntimeError), db.transaction() as conn:
            conn.execute("INSERT INTO folders (path, added_at) VALUES (?, 0)", (b"/a",))
            with db.transaction():
                conn.execute("INSERT INTO folders (path, added_at) VALUES (?, 0)", (b"/b",))
            raise RuntimeError("boom")
        assert db.execute("SELECT COUNT(*) FROM folders").fetchone()[0] == 0
        with db.transaction() as conn:
            conn.execute("INSERT INTO folders (path, added_at) VALUES (?, 0)", (b"/c",))
        assert not db.conn.in_transaction
        assert db.execute("SELECT path FROM folders").fetchall() == [(b"/c",)]


def test_paths_are_stored_losslessly_and_deleting_a_track_drops_its_vectors(
    tmp_path: Path,
) -> None:
    odd = b"/music/caf\xe9 \xff.mp3"  # Latin-1 bytes: not valid UTF-8
    with Database(tmp_path / "lib.sqlite") as db:
        track_id = _add_track(db, odd, title="Caf\u00e9")
        with db.transaction() as conn:
            conn.execute("INSERT INTO models (id, name, dim, added_at) VALUES ('m', 'M', 2, 0)")
            conn.execute(
                "INSERT INTO embeddings (track_id, model_id, dim, vector, created_at) "
                "VALUES (?, 'm', 2, ?, 0)", (track_id, b"\0" * 8)
            )
        assert db.execute("SELECT path FROM tracks").fetchone()[0] == odd
        hits = db.execute("SELECT rowid FROM tracks_fts WHERE tracks_fts MATCH 'cafe'").fetchall()
        assert hits == [(track_id,)]
        with db.transaction() as conn:
            conn.execute("DELETE FROM tracks WHERE id = ?", (track_id,))
        assert db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0] == 0


def test_readers_see_commits_and_cannot_write(tmp_path: Path) -> None:
    path = tmp_path / "lib.sqlite"
    with Database(path) as db:
        reader = open_readonly(path)
        _add_track(db, b"/a.mp3")
        assert reader.execute("SELECT COUNT(*) FROM tracks").fetchone()[0] == 1
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.execute("DELETE FROM tracks")
        reader.close()


def test_a_file_that_is_not_a_database_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("shopping list\n" * 100)
    with pytest.raises(LibraryError, match=r"is not a SlapDesk library.*--library PATH"):
        Database(path)
    assert path.read_text().startswith("shopping list")  # left alone
    with pytest.raises(LibraryError, match="not a SlapDesk library"):
        open_readonly(path)


def test_another_programs_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE recipes (name TEXT)")
    with pytest.raises(LibraryError, match="not a SlapDesk library"):
        Database(path)


def test_a_library_from_a_newer_slapdesk_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lib.sqlite"
    Database(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_version VALUES (99, 0)")
    with pytest.raises(LibraryError, match="newer SlapDesk"):
        Database(path)


def test_a_library_path_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LibraryError, match="is a folder"):
        Database(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_an_unwritable_folder_is_refused_with_advice(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(LibraryError, match=r"not writable.*--library PATH"):
            Database(folder / "lib.sqlite")
    finally:
        folder.chmod(0o700)


def test_a_missing_library_is_explained_to_readers(tmp_path: Path) -> None:
    with pytest.raises(LibraryError, match="slapdesk scan"):
        open_readonly(tmp_path / "none.sqlite")


def _released(tmp_path: Path, version: int) -> Database:
    """Open the fixture dump of a released schema version (migrating it to the current)."""
    path = tmp_path / f"v{version}.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript((DATA / f"library_v{version}.sql").read_text(encoding="utf-8"))
    return Database(path)


def test_a_version_1_library_still_opens(tmp_path: Path) -> None:
    """tests/data/library_v1.sql is a dump of a v1 library; it must open and keep its rows."""
    with _released(tmp_path, 1) as db:
        assert schema_version(db.conn) == SCHEMA_VERSION
        rows = db.execute("SELECT path, title, genre, status FROM tracks ORDER BY id").fetchall()
        assert rows == [
            (b"/music/a/one.flac", "One", '["Rock", "Jazz"]', "ok"),
            (b"/music/b/caf\xe9.mp3", "Caf\u00e9", None, "ok"),
            (b"/music/b/empty.mp3", None, None, "error"),
        ]
        hits = db.execute("SELECT rowid FROM tracks_fts WHERE tracks_fts MATCH 'jazz'").fetchall()
        assert hits == [(1,)]
        # Vectors from before the abstain check read as "may answer".
        assert db.execute("SELECT dim, abstain FROM embeddings").fetchall() == [(2, None)]


def test_a_version_2_library_opens_with_its_abstain_marks(tmp_path: Path) -> None:
    with _released(tmp_path, 2) as db:
        assert schema_version(db.conn) == SCHEMA_VERSION
        rows = db.execute("SELECT track_id, abstain FROM embeddings ORDER BY track_id")
        assert rows.fetchall() == [(1, None), (2, "silence")]
        with pytest.raises(sqlite3.IntegrityError), db.transaction() as conn:
            conn.execute("UPDATE embeddings SET abstain = 'quiet' WHERE track_id = 1")


def test_backup_writes_a_library_that_opens(tmp_path: Path) -> None:
    with Database(tmp_path / "lib.sqlite") as db:
        _add_track(db, b"/a.mp3")
        db.backup(tmp_path / "copy.sqlite")
    with Database(tmp_path / "copy.sqlite") as copy:
        assert copy.execute("SELECT path FROM tracks").fetchall() == [(b"/a.mp3",)]


def test_a_folder_that_cannot_be_created_is_explained(tmp_path: Path) -> None:
    # /proc refuses new folders even to root, so this runs everywhere.
    with pytest.raises(LibraryError, match=r"Cannot create the folder.*--library PATH"):
        Database("/proc/slapdesk-test/lib.sqlite")
