"""One model's track vectors kept in memory between searches, reloaded only when they change."""

from __future__ import annotations

import sqlite3
import threading

from slapdesk.library.search.moments import MomentCache
from slapdesk.library.search.ranking import load_index
from slapdesk.library.search.vector_index import VectorIndex
from slapdesk.library.search.vectors import vectors_stamp


class IndexCache:
    """The active model's track vectors in memory, reloaded only when the vectors change.

    Shared by search threads; the lock makes one thread (re)load while others wait.
    """

    def __init__(self) -> None:
        """Start empty."""
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._index: VectorIndex | None = None
        self.moments = MomentCache()  # the same model's window vectors

    def get(self, conn: sqlite3.Connection, model_id: str) -> VectorIndex | None:
        """The index for ``model_id`` (None when the library has no vectors for it)."""
        count, newest = vectors_stamp(conn, model_id)
        key = (model_id, count, newest)
        with self._lock:
            if key != self._key:
                self._index = load_index(conn, model_id) if count else None
                self._key = key
            return self._index
