"""What the library holds, for ``slapdesk library`` and the app's status line."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FolderSummary:
    """One scanned folder."""

    path: bytes
    tracks: int
    last_scan_at: float | None


@dataclass(frozen=True)
class LibrarySummary:
    """Counts over the whole library."""

    tracks: int  # every indexed file, readable or not
    readable: int  # status ok or damaged
    total_seconds: float
    formats: dict[str, int]  # format -> files, most common first
    folders: list[FolderSummary]
    problems: list[tuple[bytes, str, str]] = field(default_factory=list)  # path, status, error
    problem_count: int = 0


_SEP = os.sep.encode()


def _upper_bound(prefix: bytes) -> bytes:
    # Paths under "/a/" sort in ["/a/", "/a0"): "0" follows "/" in ASCII.
    return prefix[:-1] + bytes([prefix[-1] + 1])


def summarise(conn: sqlite3.Connection, *, max_problems: int = 50) -> LibrarySummary:
    """Count tracks, formats, duration, folders and problem files.

    Args:
        conn: any connection to the library (a read-only one is enough).
        max_problems: how many problem files to list (all are counted).

    Returns:
        The summary.
    """
    tracks, readable, seconds = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(status != 'error'), 0), COALESCE(SUM(duration), 0) "
        "FROM tracks"
    ).fetchone()
    formats = dict(
        conn.execute(
            "SELECT COALESCE(format, 'unknown'), COUNT(*) FROM tracks WHERE status != 'error' "
            "GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
    )
    folders = []
    for path, last_scan in conn.execute("SELECT path, last_scan_at FROM folders ORDER BY path"):
        prefix = path if path.endswith(_SEP) else path + _SEP
        (count,) = conn.execute(
            "SELECT COUNT(*) FROM tracks WHERE path >= ? AND path < ?",
            (prefix, _upper_bound(prefix)),
        ).fetchone()
        folders.append(FolderSummary(path, count, last_scan))
    problem_count = conn.execute("SELECT COUNT(*) FROM tracks WHERE status != 'ok'").fetchone()[0]
    problems = conn.execute(
        "SELECT path, status, COALESCE(error, '') FROM tracks WHERE status != 'ok' "
        "ORDER BY path LIMIT ?",
        (max_problems,),
    ).fetchall()
    return LibrarySummary(
        tracks=tracks,
        readable=readable,
        total_seconds=float(seconds),
        formats=formats,
        folders=folders,
        problems=[tuple(row) for row in problems],
        problem_count=problem_count,
    )


def format_duration(seconds: float) -> str:
    """``3 d 4 h 5 min`` style text for a total duration (``42 s`` under a minute)."""
    if seconds < 59.5:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} d"] if days else []
    if days or hours:
        parts.append(f"{hours} h")
    parts.append(f"{minutes} min")
    return " ".join(parts)


def display(path: bytes) -> str:
    """A path for people: undecodable bytes shown as U+FFFD instead of failing."""
    return os.fsdecode(path).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
