"""Start-up recovery: reconcile the journal with the files after a crash.

Stale temp files are removed, ``pending`` rows become ``applied`` or ``failed`` by what the
file holds now, a half-finished undo marks the original run's rows undone, and runs left
``running`` become ``interrupted``.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from slapdesk.library.tags import write as tagwrite
from slapdesk.library.tags.journal_rows import (
    UNDO_POLICY,
    _mark,
    _now,
    _store_track,
    _track_update,
    writer_lock,
)
from slapdesk.library.tags.write import TagWriteError

if TYPE_CHECKING:
    from slapdesk.library.store.database import Database


log = logging.getLogger(__name__)


@dataclass
class Recovery:
    """What start-up recovery found and did."""

    applied: int = 0  # pending rows whose new value is in the file
    failed: int = 0  # pending rows whose file still holds the old value (or something else)
    temp_files_removed: list[Path] = field(default_factory=list)


def recover(db: Database) -> Recovery:
    """Start-up recovery after a crash: remove stale temp files, reconcile ``pending`` rows.

    A row whose file holds the new value becomes ``applied`` (and the track's stamp is updated);
    one holding the old value becomes ``failed``; runs left ``running`` become ``interrupted``.

    Raises:
        JournalBusyError: another process is writing tags right now (its rows are not stale).
    """
    with writer_lock(db):
        return _recover_locked(db)


def _recover_locked(db: Database) -> Recovery:
    report = Recovery()
    rows = db.execute(
        "SELECT c.id, c.run_id, c.track_id, c.path, c.field, c.old, c.new, r.policy, r.summary "
        "FROM tag_changes c JOIN tag_runs r ON r.id = c.run_id "
        "WHERE c.state = 'pending' ORDER BY c.id"
    ).fetchall()
    folders = {os.path.dirname(os.path.realpath(os.fsdecode(r[3]))) for r in rows}
    for folder in sorted(folders):
        report.temp_files_removed.extend(tagwrite.remove_stale_temp_files(folder))
    for row_id, _run, track_id, path_blob, name, _old, new_json, policy, summary in rows:
        path = Path(os.fsdecode(path_blob))
        try:
            state = tagwrite.read_tags(path, [name])
            current = state.values[name]
            applied = current == state.encode(json.loads(new_json))
        except (OSError, TagWriteError) as exc:
            current, applied = None, False
            log.warning("recovery: %s", exc)
        track = _track_update(track_id, path) if applied else None
        with db.transaction() as conn:
            if applied:
                _mark(conn, [row_id], "applied")
                _store_track(conn, track_id, track)
                if policy == UNDO_POLICY:
                    _mark_undone(conn, json.loads(summary or "{}").get("undo_of"), path_blob, name)
                report.applied += 1
            else:
                _mark(conn, [row_id], "failed", "interrupted before the file was written")
                report.failed += 1
    with db.transaction() as conn:
        conn.execute("UPDATE tag_runs SET status = 'interrupted' WHERE status = 'running'")
    if rows or report.temp_files_removed:
        log.warning(
            "recovered %d interrupted tag writes (%d applied, %d not), removed %d temp files",
            len(rows), report.applied, report.failed, len(report.temp_files_removed),
        )  # fmt: skip
    return report


def _mark_undone(conn: object, run_id: int | None, path_blob: bytes, name: str) -> None:
    if run_id is None:
        return
    conn.execute(  # type: ignore[attr-defined]
        "UPDATE tag_changes SET state = 'undone', updated_at = ? "
        "WHERE run_id = ? AND path = ? AND field = ? AND state = 'applied'",
        (_now(), run_id, path_blob, name),
    )
