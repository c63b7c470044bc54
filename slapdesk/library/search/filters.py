"""Which tracks a query's filters allow: field filters and ``is:`` states, as one SQL query.

The ranker fuses only among these tracks; None means no filter was given (every track).
"""

from __future__ import annotations

import sqlite3

from slapdesk.library.search.query_language import ParsedQuery
from slapdesk.library.store.schema import CURRENT_AUDIO_FAILURES

_NUMERIC_COLUMNS = {"year": "year", "bpm": "bpm", "duration": "duration", "track": "track_number"}
_TEXT_COLUMNS = {
    "artist": "artist", "album": "album", "albumartist": "albumartist", "title": "title",
    "genre": "genre", "mood": "mood", "comment": "comment",
}  # fmt: skip
# The abstain mark is about the audio, not the model, so any model's mark counts.
_SILENT = "id IN (SELECT track_id FROM embeddings WHERE abstain IS NOT NULL)"
# Tags read but the audio did not decode when embedded, and the file has not changed since.
_AUDIO_FAILED = f"id IN (SELECT f.track_id FROM {CURRENT_AUDIO_FAILURES})"
_STATE_CLAUSES = {
    "unreadable": f"(status = 'error' OR {_AUDIO_FAILED})",
    "damaged": "status = 'damaged'",
    "broken": f"(status != 'ok' OR {_AUDIO_FAILED})",
    "silent": _SILENT,
    "problem": f"(status != 'ok' OR {_AUDIO_FAILED} OR {_SILENT})",
}


def filtered_track_ids(conn: sqlite3.Connection, parsed: ParsedQuery) -> set[int] | None:
    """The ids of the tracks that pass every filter of ``parsed`` (None: there are none)."""
    if not (parsed.text_filters or parsed.numeric_filters or parsed.states):
        return None
    clauses: list[str] = []
    params: list[object] = []
    for text_filter in parsed.text_filters:
        if text_filter.field == "path":
            # Paths are BLOBs; compare on their decoded text.
            clauses.append("CAST(path AS TEXT) LIKE ? ESCAPE '\\'")
        else:
            clauses.append(f"{_TEXT_COLUMNS[text_filter.field]} LIKE ? ESCAPE '\\'")
        params.append(f"%{_escape_like(text_filter.value)}%")
    for numeric in parsed.numeric_filters:
        clauses.append(f"{_NUMERIC_COLUMNS[numeric.field]} {numeric.op} ?")
        params.append(numeric.value)
    # A library from before schema 5, read without migrating, has no failures table.
    failures_known = _has_table(conn, "audio_failures")
    for state in parsed.states:
        clause = _STATE_CLAUSES[state]
        clauses.append(clause if failures_known else clause.replace(_AUDIO_FAILED, "0"))
    sql = "SELECT id FROM tracks WHERE " + " AND ".join(clauses)
    return {int(row[0]) for row in conn.execute(sql, params)}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    return row.fetchone() is not None
