"""What belongs to one library rather than to the user: its active model, its saved searches.

Both were global user settings once; ``slapdesk.settings`` keeps the global values as the
default for a library that has not chosen (the active model) and hands the old saved searches
to the first library the window opens (``adopt_saved_searches``).

Reads take the writer (``Database``) or a read-only connection. A library whose schema
predates these tables (opened read-only before the window or a command migrated it) reads as
"nothing chosen, nothing saved".
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from slapdesk.library.store.database import Database

ACTIVE_MODEL = "active_model"  # key of the active model's bundle folder


def get_setting(conn: Database | sqlite3.Connection, key: str) -> str | None:
    """The library's value for ``key`` (None when unset)."""
    try:
        row = conn.execute("SELECT value FROM library_settings WHERE key = ?", (key,)).fetchone()
    except sqlite3.OperationalError:  # an older schema, read-only: nothing chosen yet
        return None
    return None if row is None else str(row[0])


def set_setting(db: Database, key: str, value: str | None) -> None:
    """Set (or, with None, remove) the library's value for ``key``."""
    with db.transaction() as conn:
        if value is None:
            conn.execute("DELETE FROM library_settings WHERE key = ?", (key,))
        else:
            conn.execute(
                "INSERT INTO library_settings (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )


def saved_searches(conn: Database | sqlite3.Connection | None) -> list[tuple[str, str]]:
    """The library's saved searches as (name, query), in the order the sidebar shows them.

    None (no library open) has none.
    """
    if conn is None:
        return []
    try:
        rows = conn.execute("SELECT name, query FROM saved_searches ORDER BY position, name")
    except sqlite3.OperationalError:  # an older schema, read-only: nothing saved here yet
        return []
    return [(str(name), str(query)) for name, query in rows.fetchall()]


def save_search(db: Database, name: str, query: str) -> None:
    """Keep ``query`` as ``name``: a new name goes last, an existing one is replaced in place."""
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO saved_searches (name, query, position) VALUES (?, ?, "
            "(SELECT coalesce(max(position), 0) + 1 FROM saved_searches)) "
            "ON CONFLICT(name) DO UPDATE SET query = excluded.query",
            (name, query),
        )


def delete_saved_search(db: Database, name: str) -> None:
    """Forget the saved search ``name`` (nothing happens when there is none)."""
    with db.transaction() as conn:
        conn.execute("DELETE FROM saved_searches WHERE name = ?", (name,))


def adopt_saved_searches(db: Database, searches: Sequence[tuple[str, str]]) -> int:
    """Give the library ``searches`` (name, query) it does not have yet; returns how many.

    The saved searches of older versions were one global list, made in whichever library was
    open; the first library opened after the upgrade takes them over.
    """
    added = 0
    with db.transaction() as conn:
        for name, query in searches:
            added += conn.execute(
                "INSERT INTO saved_searches (name, query, position) VALUES (?, ?, "
                "(SELECT coalesce(max(position), 0) + 1 FROM saved_searches)) "
                "ON CONFLICT(name) DO NOTHING",
                (name, query),
            ).rowcount
    return added
