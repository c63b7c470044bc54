"""Live search: debounce keystrokes, run the query off the GUI thread, drop stale answers."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from slapdesk.library import playlists, queries
from slapdesk.library.db import open_readonly
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
    mode: str = "metadata"  # metadata | sound | like


def run_search(
    library_path: Path, query: str, scope: Scope, limit: int, generation: int,
    like_track: int | None, _ctx: TaskContext,
) -> SearchResult:
    """Answer one query on a fresh read-only connection (runs in a worker thread)."""
    started = time.perf_counter()
    conn = open_readonly(library_path)
    try:
        scores: dict[int, float] = {}
        mode = "metadata"
        if like_track is not None:
            ids, scores = queries.similar_tracks(conn, like_track, limit)
            mode = "like"
        elif scope.kind == "playlist":
            ids = queries.ids_for_paths(conn, playlists.read_m3u8(Path(scope.value)))
            if query.strip():
                wanted = set(queries.text_search(conn, query, limit=1_000_000))
                ids = [i for i in ids if i in wanted]
        elif query.strip():
            ids = queries.text_search(conn, query, limit=limit)
            if scope.kind == "folder":
                inside = set(queries.all_track_ids(conn, folder=scope.value))
                ids = [i for i in ids if i in inside]
        else:
            folder = scope.value if scope.kind == "folder" else None
            ids = queries.all_track_ids(conn, folder=folder)
    finally:
        conn.close()
    elapsed = (time.perf_counter() - started) * 1000
    return SearchResult(generation, query, ids, scores, elapsed, mode)


class SearchController(QObject):
    """Turns search-box edits into results; ``results_ready(SearchResult)`` in the GUI thread."""

    results_ready = Signal(object)
    failed = Signal(str)

    def __init__(self, runner: TaskRunner, library_path: Path, debounce_ms: int = 250,
                 limit: int = 5000, parent: QObject | None = None) -> None:
        """Create the controller (nothing runs until a query is set)."""
        super().__init__(parent)
        self._runner = runner
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
        job = partial(run_search, self._library_path, self._query, self._scope, self._limit,
                      self._generation, like_track)
        self._runner.run(job, self._on_done, self._on_error, pool="cpu", name="search")

    @Slot(object)
    def _on_done(self, result: SearchResult) -> None:
        if result.generation == self._generation:  # a newer query is on its way: drop this
            self.results_ready.emit(result)

    @Slot(object)
    def _on_error(self, error: BaseException) -> None:
        self.failed.emit(f"Search failed: {error}")
