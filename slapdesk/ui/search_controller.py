"""Live search: debounce keystrokes, run the query off the GUI thread, drop stale answers."""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from slapdesk.library import playlists
from slapdesk.library.search.query_language import QueryError
from slapdesk.library.search.ranking import LibrarySearch, SearchError, load_index
from slapdesk.library.search.vector_index import VectorIndex
from slapdesk.library.store import track_rows as queries
from slapdesk.library.store.database import open_readonly
from slapdesk.ui.library_jobs import ModelHolder
from slapdesk.ui.tasks import TaskContext, TaskRunner


@dataclass(frozen=True)
class Scope:
    """What the sidebar restricts results to."""

    kind: str = "library"  # library | folder | playlist
    value: str = ""  # folder path or playlist file


@dataclass(frozen=True)
class SearchResult:
    """One answered query."""

    generation: int  # which request this answers (later ones win)
    query: str
    ids: list[int]
    scores: dict[int, float] = field(default_factory=dict)
    elapsed_ms: float = 0.0
    mode: str = "metadata"  # metadata | sound | like | browse
    message: str = ""  # why there are no (or only tag) results, for the status line


class IndexCache:
    """The active model's track vectors in memory, reloaded only when the vectors change.

    Shared by search threads; the lock makes one thread (re)load while others wait.
    """

    def __init__(self) -> None:
        """Start empty."""
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._index: VectorIndex | None = None

    def get(self, conn: sqlite3.Connection, model_id: str) -> VectorIndex | None:
        """The index for ``model_id`` (None when the library has no vectors for it)."""
        count, newest = conn.execute(
            "SELECT count(*), max(created_at) FROM embeddings WHERE model_id = ?", (model_id,)
        ).fetchone()
        key = (model_id, count, newest)
        with self._lock:
            if key != self._key:
                self._index = load_index(conn, model_id) if count else None
                self._key = key
            return self._index


def _browse(conn: sqlite3.Connection, scope: Scope) -> list[int]:
    if scope.kind == "playlist":
        return queries.ids_for_paths(conn, playlists.read_m3u8(Path(scope.value)))
    return queries.all_track_ids(conn, folder=scope.value if scope.kind == "folder" else None)


def _ranked(conn: sqlite3.Connection, holder: ModelHolder | None, cache: IndexCache,
            query: str, limit: int) -> tuple[list[int], dict[int, float], str]:
    embedder = holder.loaded if holder is not None else None
    index = cache.get(conn, embedder.model_id) if embedder is not None else None
    searcher = LibrarySearch(conn, index, embedder.embed_text if index is not None else None)
    results = searcher.search(query, limit=limit)
    mode = "sound" if index is not None and not query.startswith("like:") else "metadata"
    if query.startswith("like:"):
        mode = "like"
    return [r.track_id for r in results], {r.track_id: r.score for r in results}, mode


def run_search(
    library_path: Path, holder: ModelHolder | None, cache: IndexCache, query: str, scope: Scope,
    limit: int, generation: int, like_track: int | None, _ctx: TaskContext,
) -> SearchResult:
    """Answer one query on a fresh read-only connection (runs in a worker thread)."""
    started = time.perf_counter()
    conn = open_readonly(library_path)
    scores: dict[int, float] = {}
    message, mode = "", "browse"
    try:
        if like_track is None and not query.strip():
            ids = _browse(conn, scope)
        else:
            text = f"like:#{like_track}" if like_track is not None else query
            try:
                ids, scores, mode = _ranked(conn, holder, cache, text, limit)
            except (SearchError, QueryError) as error:
                ids, message = [], str(error)
            if like_track is not None and not ids:  # no model loaded yet: read the vectors
                ids, scores = queries.similar_tracks(conn, like_track, limit)
                message = "" if ids else message
                mode = "like"
            if scope.kind != "library":
                inside = set(_browse(conn, scope))
                ids = [i for i in ids if i in inside]
    finally:
        conn.close()
    elapsed = (time.perf_counter() - started) * 1000
    return SearchResult(generation, query, ids, scores, elapsed, mode, message)


class SearchController(QObject):
    """Turns search-box edits into results; ``results_ready(SearchResult)`` in the GUI thread."""

    results_ready = Signal(object)
    failed = Signal(str)

    def __init__(self, runner: TaskRunner, library_path: Path, debounce_ms: int = 250,
                 limit: int = 5000, holder: ModelHolder | None = None,
                 parent: QObject | None = None) -> None:
        """Create the controller (nothing runs until a query is set)."""
        super().__init__(parent)
        self._runner = runner
        self._holder = holder
        self._cache = IndexCache()
        self._library_path = library_path
        self._limit = limit
        self._generation = 0
        self._query = ""
        self._scope = Scope()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._timer.timeout.connect(self.run_now)

    @property
    def query(self) -> str:
        """The latest query text."""
        return self._query

    @property
    def scope(self) -> Scope:
        """The current scope."""
        return self._scope

    def set_limit(self, limit: int, debounce_ms: int) -> None:
        """Apply changed preferences."""
        self._limit = limit
        self._timer.setInterval(debounce_ms)

    def set_query(self, text: str) -> None:
        """A keystroke: search once typing pauses."""
        self._query = text
        self._timer.start()

    def set_scope(self, scope: Scope) -> None:
        """Change the scope and search at once."""
        self._scope = scope
        self.run_now()

    @Slot()
    def run_now(self, text: str | None = None) -> None:
        """Search now (Enter, scope change, or when the debounce timer fires)."""
        self._timer.stop()
        if text is not None:
            self._query = text
        self._start(None)

    def more_like(self, track_id: int) -> None:
        """Show the tracks that sound most like ``track_id``."""
        self._timer.stop()
        self._start(track_id)

    def _start(self, like_track: int | None) -> None:
        if not self._library_path.is_file():
            self.results_ready.emit(SearchResult(self._generation, self._query, []))
            return
        self._generation += 1
        job = partial(run_search, self._library_path, self._holder, self._cache, self._query,
                      self._scope, self._limit, self._generation, like_track)
        self._runner.run(job, self._on_done, self._on_error, pool="cpu", name="search")

    @Slot(object)
    def _on_done(self, result: SearchResult) -> None:
        if result.generation == self._generation:  # a newer query is on its way: drop this
            self.results_ready.emit(result)

    @Slot(object)
    def _on_error(self, error: BaseException) -> None:
        self.failed.emit(f"Search failed: {error}")
