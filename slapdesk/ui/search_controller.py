"""Live search: debounce keystrokes, run the query off the GUI thread, drop stale answers."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from slapdesk.library.jobs.active_model import ModelHolder
from slapdesk.library.jobs.search import Scope, SearchAnswer, run_search
from slapdesk.library.search.index_cache import IndexCache
from slapdesk.ui.moments_controller import MomentsController
from slapdesk.ui.playlist_actions import choose_playlist_file, save_current_search
from slapdesk.ui.tabs import Tab, register_tab
from slapdesk.ui.tasks import TaskRunner
from slapdesk.ui.track_menu import install_track_menu
from slapdesk.ui.views.library_view import LibraryView

if TYPE_CHECKING:
    from slapdesk.ui.main_window import MainWindow


class SearchController(QObject):
    """Turns search-box edits into results; ``results_ready(SearchAnswer)`` in the GUI thread."""

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
        self.moments: MomentsController | None = None  # the strip under the results

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
            self.results_ready.emit(SearchAnswer(self._generation, self._query, []))
            return
        self._generation += 1
        job = partial(run_search, self._library_path, self._holder, self._cache, self._query,
                      self._scope, self._limit, self._generation, like_track)
        self._runner.run(job, self._on_done, self._on_error, pool="cpu", name="search")

    @Slot(object)
    def _on_done(self, result: SearchAnswer) -> None:
        if result.generation == self._generation:  # a newer query is on its way: drop this
            self.results_ready.emit(result)

    @Slot(object)
    def _on_error(self, error: BaseException) -> None:
        self.failed.emit(f"Search failed: {error}")


@register_tab("library", "Library", 10, shows_tracks=True)
def library_tab(window: MainWindow) -> Tab:
    """The track table and the search box, searching as the user types."""
    settings = window.ctx.settings.value
    view = LibraryView(window.model, settings.hidden_columns)
    view.columns.hidden_changed.connect(
        lambda keys: window.ctx.settings.update(hidden_columns=keys))
    search = SearchController(window.ctx.runner, window.ctx.library_path,
                              settings.search_debounce_ms, settings.result_limit,
                              window.ctx.models, window)
    moments = MomentsController(window.ctx.runner, window.ctx.library_path, window.ctx.models,
                                view.moment_strip, window)
    view.query_edited.connect(search.set_query)
    view.query_submitted.connect(search.run_now)
    view.current_track_changed.connect(window.show_track)
    view.current_track_changed.connect(lambda track: moments.show(track, search.query))
    search.results_ready.connect(lambda _answer: _refresh_moments(window, moments, search))
    # Enter on a result starts at its best moment; a click on the strip, where it points.
    view.track_activated.connect(lambda track: window.play_from(track, moments.best_start(track)))
    moments.seek_requested.connect(window.play_from)
    install_track_menu(window, view)
    view.save_playlist_button.clicked.connect(partial(choose_playlist_file, window))
    view.save_search_button.clicked.connect(partial(save_current_search, window))
    search.results_ready.connect(window.show_results)
    search.failed.connect(window.show_error)
    search.moments = moments
    return Tab(view, search)


def _refresh_moments(window: MainWindow, moments: MomentsController,
                     search: SearchController) -> None:
    if window.details.track_id is not None:
        moments.show(window.details.track_id, search.query)
