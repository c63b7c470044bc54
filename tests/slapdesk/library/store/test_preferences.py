"""The library's own settings and saved searches, and the schema version that added them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from slapdesk.library.store.database import Database, open_readonly, schema_version
from slapdesk.library.store.preferences import (
    ACTIVE_MODEL,
    adopt_saved_searches,
    delete_saved_search,
    get_setting,
    save_search,
    saved_searches,
    set_setting,
)
from slapdesk.library.store.schema import SCHEMA_VERSION

DATA = Path(__file__).resolve().parents[3] / "data"


def _v3(tmp_path: Path) -> Path:
    path = tmp_path / "v3.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript((DATA / "library_v3.sql").read_text(encoding="utf-8"))
    return path


def test_a_version_3_library_reads_as_nothing_chosen_then_migrates(tmp_path: Path) -> None:
    path = _v3(tmp_path)
    conn = open_readonly(path)  # not migrated yet: the tables do not exist
    assert (get_setting(conn, ACTIVE_MODEL), saved_searches(conn)) == (None, [])
    conn.close()
    with Database(path) as db:
        assert schema_version(db.conn) == SCHEMA_VERSION
        assert db.execute("SELECT count(*) FROM tracks").fetchone() == (3,)
        assert (get_setting(db, ACTIVE_MODEL), saved_searches(db)) == (None, [])


def test_settings_are_set_replaced_and_removed(tmp_path: Path) -> None:
    with Database(tmp_path / "library.sqlite") as db:
        set_setting(db, ACTIVE_MODEL, "/models/a")
        set_setting(db, ACTIVE_MODEL, "")  # "" is a choice: the bundled default
        assert get_setting(db, ACTIVE_MODEL) == ""
        set_setting(db, ACTIVE_MODEL, None)
        assert get_setting(db, ACTIVE_MODEL) is None


def test_saved_searches_keep_their_order_and_names(tmp_path: Path) -> None:
    with Database(tmp_path / "library.sqlite") as db:
        save_search(db, "Calm", "calm piano")
        save_search(db, "Loud", "rock")
        save_search(db, "Calm", "calm piano -drums")  # same name: replaced where it was
        assert saved_searches(db) == [("Calm", "calm piano -drums"), ("Loud", "rock")]
        assert adopt_saved_searches(db, [("Loud", "other"), ("Old", "jazz")]) == 1
        assert saved_searches(db) == [("Calm", "calm piano -drums"), ("Loud", "rock"),
                                      ("Old", "jazz")]
        delete_saved_search(db, "Calm")
        delete_saved_search(db, "never saved")
        assert saved_searches(db) == [("Loud", "rock"), ("Old", "jazz")]
