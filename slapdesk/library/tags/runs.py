"""The tagging runs in the journal, for ``slapdesk runs`` and the review panel (read-only).

Also the one cheap question every command asks before it uses a library: did a crash leave
anything for recovery to do? (Light on purpose: no tag library is imported to answer it.)
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from slapdesk.library.store.database import Database


@dataclass(frozen=True)
class RunInfo:
    """One row of ``slapdesk runs``."""

    run_id: int
    created_at: float  # Unix seconds
    vocab: str | None
    policy: str | None
    status: str
    model_id: str | None
    counts: dict[str, int]  # tag_changes state -> number of changed fields
    files: int  # distinct files touched
    undo_of: int | None  # for undo runs: the run they undid


def needs_recovery(conn: Database | sqlite3.Connection) -> bool:
    """Whether a crash left anything to reconcile: a ``pending`` change or a ``running`` run.

    Two indexed lookups; what every command pays when there is nothing to do. Only the
    newest run can be left ``running``: every run starts by recovering, which ends the
    ``running`` state of any run before it.
    """
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM tag_changes WHERE state = 'pending') "
        "OR (SELECT status FROM tag_runs ORDER BY id DESC LIMIT 1) = 'running'"
    ).fetchone()
    return bool(row[0])


def list_runs(db: Database | sqlite3.Connection, limit: int | None = None) -> list[RunInfo]:
    """Runs, newest first, with how many field changes are applied / failed / undone / pending.

    Args:
        db: the library, or a read-only connection to it (``open_readonly``).
        limit: at most this many runs.

    Returns:
        One ``RunInfo`` per run.
    """
    sql = (
        "SELECT id, created_at, vocab, policy, status, model_id, summary FROM tag_runs "
        "ORDER BY id DESC"
    )
    params: tuple = ()
    if limit is not None:
        sql += " LIMIT ?"
        params = (limit,)
    runs = []
    for run_id, created, vocab, policy, status, model_id, summary in db.execute(sql, params):
        counts = {"applied": 0, "failed": 0, "undone": 0, "pending": 0}
        for state, count in db.execute(
            "SELECT state, COUNT(*) FROM tag_changes WHERE run_id = ? GROUP BY state", (run_id,)
        ):
            counts[state] = int(count)
        files = db.execute(
            "SELECT COUNT(DISTINCT path) FROM tag_changes WHERE run_id = ?", (run_id,)
        ).fetchone()[0]
        undo_of = json.loads(summary or "{}").get("undo_of")
        runs.append(
            RunInfo(run_id, created, vocab, policy, status, model_id, counts, int(files), undo_of)
        )
    return runs


def latest_undoable_run(db: Database | sqlite3.Connection) -> int | None:
    """The newest run that wrote tags and still has them applied, undo runs aside.

    The window's "Undo last run" steps back through what the user applied: pressed again
    right after an undo it must not undo that undo (and bring the tags back).
    """
    row = db.execute(
        "SELECT MAX(c.run_id) FROM tag_changes c JOIN tag_runs r ON r.id = c.run_id "
        "WHERE c.state = 'applied' AND coalesce(r.policy, '') != 'undo'"
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])


@dataclass(frozen=True)
class RunChange:
    """One field one run changed in one file."""

    path: str
    field: str  # logical name: "slapdesk_genre", "genre", ...
    old: tuple[str, ...]
    new: tuple[str, ...]
    state: str  # applied, failed, undone, pending


def run_changes(
    db: Database | sqlite3.Connection, run_id: int, limit: int = 50
) -> list[RunChange]:
    """What a run changed, file by file (at most ``limit`` fields), for the window's run list."""
    rows = db.execute(
        "SELECT path, field, old, new, state FROM tag_changes WHERE run_id = ? ORDER BY id "
        "LIMIT ?",
        (run_id, limit),
    ).fetchall()
    return [
        RunChange(os.fsdecode(path), str(field), _values(old), _values(new), str(state))
        for path, field, old, new, state in rows
    ]


def _values(text: str | None) -> tuple[str, ...]:
    try:
        values = json.loads(text) if text else []
    except json.JSONDecodeError:
        return (str(text),)
    return tuple(str(v) for v in values) if isinstance(values, list) else (str(values),)
