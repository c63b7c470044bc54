"""Start-up recovery after a crash, cheap when there is nothing to do.

A kill can leave: change rows still ``pending`` (journaled, the file maybe written), temp files
of an atomic rewrite, runs still ``running``, and an undo run whose rows are recorded while the
original run's rows are not yet marked ``undone``. ``recover`` reconciles all of them with the
files; every command that opens the library for writing calls it first. With nothing to do it
costs two indexed queries and writes nothing.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from slapdesk.library.tags import write as tagwrite
from slapdesk.library.tags.journal_store import (
    UNDO_POLICY,
    mark,
    mark_undone,
    now,
    store_track,
    track_update,
    writer_lock,
)
from slapdesk.library.tags.runs import needs_recovery
from slapdesk.library.tags.write import TagWriteError

if TYPE_CHECKING:
    from slapdesk.library.store.database import Database

log = logging.getLogger(__name__)


@dataclass
class Recovery:
    """What start-up recovery found and did."""

    applied: int = 0  # pending rows whose new value is in the file
    failed: int = 0  # pending rows whose file does not hold the new value
    temp_files_removed: list[Path] = field(default_factory=list)
    undone_marked: int = 0  # original rows of an interrupted undo now marked undone


def recover(db: Database) -> Recovery:
    """Reconcile what an interrupted run left; returns at once when nothing was left.

    A pending row whose file holds the new value becomes ``applied`` (the track's stamp and
    fingerprint are updated, and for an undo run the original run's row becomes ``undone``,
    all in one transaction); any other becomes ``failed`` with what was found; stale temp
    files are removed; runs left ``running`` become ``interrupted``.

    Raises:
        JournalBusyError: another process is writing tags right now (its rows are not stale).
    """
    if not needs_recovery(db):
        return Recovery()
    with writer_lock(db):
        return recover_locked(db)


def recover_locked(db: Database) -> Recovery:
    """``recover`` for a caller that holds the writer lock already."""
    report = Recovery()
    if not needs_recovery(db):
        return report
    rows = db.execute(
        "SELECT c.id, c.track_id, c.path, c.field, c.old, c.new, r.policy, r.summary "
        "FROM tag_changes c JOIN tag_runs r ON r.id = c.run_id "
        "WHERE c.state = 'pending' ORDER BY c.id"
    ).fetchall()
    folders = {os.path.dirname(os.path.realpath(os.fsdecode(r[2]))) for r in rows}
    for folder in sorted(folders):
        report.temp_files_removed.extend(tagwrite.remove_stale_temp_files(folder))
    for row in rows:
        _reconcile_row(db, row, report)
    with db.transaction() as conn:
        report.undone_marked = _finish_half_undone(conn)
        conn.execute("UPDATE tag_runs SET status = 'interrupted' WHERE status = 'running'")
    if rows or report.temp_files_removed or report.undone_marked:
        log.warning(
            "recovered %d interrupted tag writes (%d applied, %d not), removed %d temp files, "
            "marked %d undone",
            len(rows), report.applied, report.failed, len(report.temp_files_removed),
            report.undone_marked,
        )  # fmt: skip
    return report


def _reconcile_row(db: Database, row: tuple, report: Recovery) -> None:
    row_id, track_id, path_blob, name, old_json, new_json, policy, summary = row
    path = Path(os.fsdecode(path_blob))
    try:
        state = tagwrite.read_tags(path, [name])
        current = state.values[name]
        applied = current == state.encode(json.loads(new_json))
        was_old = current == state.encode(json.loads(old_json))
        reason = (
            "interrupted before the file was written (it holds the old value)"
            if was_old
            else "interrupted; the file holds neither the old nor the new value"
        )
    except (OSError, TagWriteError) as exc:
        applied, reason = False, f"interrupted; the file cannot be read now: {exc}"
        log.warning("recovery: %s", exc)
    track = track_update(track_id, path) if applied else None
    with db.transaction() as conn:
        if applied:
            mark(conn, [row_id], "applied")
            store_track(conn, track_id, track)
            if policy == UNDO_POLICY:
                undo_of = json.loads(summary or "{}").get("undo_of")
                mark_undone(conn, undo_of, path_blob, track_id, name)
            report.applied += 1
        else:
            mark(conn, [row_id], "failed", reason)
            report.failed += 1


def _finish_half_undone(conn: sqlite3.Connection) -> int:
    """Undo runs cut short: their recorded restores mark the original rows ``undone``.

    Returns the number of original rows marked.
    """
    runs = conn.execute(
        "SELECT id, summary FROM tag_runs WHERE status = 'running' AND policy = ?",
        (UNDO_POLICY,),
    ).fetchall()
    marked = 0
    for run_id, summary in runs:
        undo_of = json.loads(summary or "{}").get("undo_of")
        if undo_of is None:
            continue
        cursor = conn.execute(
            "UPDATE tag_changes AS o SET state = 'undone', updated_at = ? "
            "WHERE o.run_id = ? AND o.state = 'applied' AND EXISTS ("
            "  SELECT 1 FROM tag_changes u WHERE u.run_id = ? AND u.field = o.field "
            "  AND u.state IN ('applied', 'undone') "
            "  AND (u.path = o.path OR (u.track_id IS NOT NULL AND u.track_id = o.track_id)))",
            (now(), undo_of, run_id),
        )
        marked += cursor.rowcount
    return marked
