"""Write tests/data/library_vN.sql: a small library at the current schema, as plain SQL.

Run once per released schema version (``python tools/make_library_fixture.py``) and commit
the file; never regenerate an old one: it stands for the libraries users already have.
``sqlite3.iterdump`` cannot be used: it mangles FTS5 tables.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from slapdesk.library.store.database import Database  # noqa: E402
from slapdesk.library.store.schema import SCHEMA_VERSION  # noqa: E402

_TRACK_COLUMNS = (
    "path, size, mtime_ns, inode, format, duration, codec, sample_rate, channels, title, "
    "artist, genre, mood, year, status, error, fingerprint, added_at, updated_at"
)
_TRACKS = [
    (b"/music/a/one.flac", 1000, 5, 7, "flac", 1.0, "flac", 44100, 1, "One", "Artist",
     '["Rock", "Jazz"]', '["Happy"]', 1999, "ok", None, b"\x01" * 16, 1.0, 1.0),
    (b"/music/b/caf\xe9.mp3", 2000, 6, 8, "mp3", 2.0, "mp3", 44100, 2, "Caf\u00e9", None,
     None, None, None, "ok", None, b"\x02" * 16, 1.0, 1.0),
    (b"/music/b/empty.mp3", 0, 6, 9, None, None, None, None, None, None, None, None, None,
     None, "error", "empty file (0 bytes)", None, 1.0, 1.0),
]  # fmt: skip


def _fill(db: Database) -> None:
    with db.transaction() as conn:
        conn.execute("INSERT INTO folders VALUES (1, ?, 1.0, 2.0)", (b"/music",))
        marks = ", ".join("?" * len(_TRACKS[0]))
        conn.executemany(f"INSERT INTO tracks ({_TRACK_COLUMNS}) VALUES ({marks})", _TRACKS)
        conn.execute("INSERT INTO models (id, name, path, dim, added_at) VALUES "
                     "('m1', 'tiny', '/m', 2, 1.0)")  # fmt: skip
        conn.execute("INSERT INTO embeddings (track_id, model_id, dim, vector, created_at) "
                     "VALUES (1, 'm1', 2, ?, 1.0)", (b"\0\0\x80?\0\0\0\0",))  # fmt: skip
        conn.execute("INSERT INTO embeddings (track_id, model_id, dim, vector, created_at, "
                     "abstain) VALUES (2, 'm1', 2, ?, 1.0, 'silence')",
                     (b"\0\0\0\0\0\0\x80?",))  # fmt: skip
        conn.execute("INSERT INTO tag_runs (id, created_at, model_id, vocab, policy, status) "
                     "VALUES (1, 1.0, 'm1', 'genre', 'own', 'applied')")  # fmt: skip
        conn.execute("INSERT INTO tag_changes (run_id, track_id, path, field, old, new, state) "
                     "VALUES (1, 1, ?, 'genre', '[]', '[\"Rock\"]', 'applied')",
                     (b"/music/a/one.flac",))  # fmt: skip
        conn.execute("INSERT INTO tag_proposals VALUES (1, 'm1', 'genre', 'rock', 0.9, 1, 1.0)")
        conn.execute("INSERT INTO library_settings VALUES ('active_model', '/models/mine')")
        conn.execute("INSERT INTO saved_searches VALUES ('Calm', 'calm piano', 0)")


def _literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return f"X'{value.hex()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def dump(conn: sqlite3.Connection) -> list[str]:
    """Schema and rows as SQL; FTS shadow tables left out, the index rebuilt at the end."""
    objects = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
        "AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
    ).fetchall()
    virtual = [name for kind, name, sql in objects if sql.upper().startswith("CREATE VIRTUAL")]
    shadow = tuple(f"{name}_" for name in virtual)
    kept = [(k, n, s) for k, n, s in objects if not n.startswith(shadow)]
    lines = ["BEGIN;"]
    lines += [f"{sql};" for kind, name, sql in kept if kind != "trigger"]
    for kind, name, _ in kept:
        if kind == "table" and name not in virtual:
            for row in conn.execute(f'SELECT * FROM "{name}"'):
                lines.append(f'INSERT INTO "{name}" VALUES ({", ".join(map(_literal, row))});')
    lines += [f"{sql};" for kind, name, sql in kept if kind == "trigger"]
    lines += [f"INSERT INTO {name} ({name}) VALUES ('rebuild');" for name in virtual]
    return [*lines, "COMMIT;"]


def main() -> None:
    """Write the fixture for the current schema version."""
    with tempfile.TemporaryDirectory() as folder:
        db = Database(Path(folder) / "library.sqlite")
        _fill(db)
        lines = dump(db.conn)
        db.close()
    target = ROOT / "tests" / "data" / f"library_v{SCHEMA_VERSION}.sql"
    header = (
        f"-- A SlapDesk library at schema version {SCHEMA_VERSION}, written by "
        "tools/make_library_fixture.py.\n-- Never regenerate it: it stands for the libraries "
        "users already have.\n"
    )
    target.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
