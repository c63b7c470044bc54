"""Crash and I/O-error injection at exact database commit points (no timing, no kills).

``CommitCounter`` wraps a library's writer connection and counts its ``COMMIT`` statements;
at the N-th one it raises, either just before the COMMIT runs (the transaction is then lost,
as a crash before it would lose it) or just after it (the transaction is durable, nothing
after it happened). Enumerating N over a whole run visits every state a crash can leave.
"""

from __future__ import annotations

import sqlite3
from typing import Any


class SimulatedCrash(BaseException):
    """The process 'died' here: no handler of the code under test may catch it."""


class CommitCounter:
    """A sqlite3.Connection stand-in that fails at one COMMIT (and forwards everything else).

    Args:
        conn: the real connection.
        fail_at: the 1-based COMMIT to fail at; None never fails (only counts).
        before: raise before that COMMIT runs (True) or right after it committed (False).
        error: what to raise; default ``SimulatedCrash``.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        fail_at: int | None = None,
        *,
        before: bool = False,
        error: BaseException | None = None,
    ) -> None:
        self._conn = conn
        self.fail_at = fail_at
        self.before = before
        self.error = error
        self.commits = 0
        self.failed = False

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        is_commit = sql.strip().upper() == "COMMIT"
        if is_commit:
            self.commits += 1
        due = is_commit and self.commits == self.fail_at
        if due and self.before:
            self._fail()
        cursor = self._conn.execute(sql, *args)
        if due:
            self._fail()
        return cursor

    def _fail(self) -> None:
        self.failed = True
        raise self.error if self.error is not None else SimulatedCrash()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def install(db: Any, fail_at: int | None = None, **options: Any) -> CommitCounter:
    """Wrap ``db.conn`` (a ``Database``) in a ``CommitCounter``; returns it."""
    counter = CommitCounter(db.conn, fail_at, **options)
    db.conn = counter
    return counter
