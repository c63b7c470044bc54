"""Feeds the embedding map: projection off the GUI thread, colouring, and selection actions."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from slapdesk.library.jobs.active_model import ModelHolder
from slapdesk.library.jobs.map_points import MapData, load_map
from slapdesk.library.jobs.search import SearchAnswer
from slapdesk.ui.playlist_actions import choose_playlist_file
from slapdesk.ui.tabs import Tab, register_tab
from slapdesk.ui.tasks import TaskRunner
from slapdesk.ui.views.map_view import MapView

if TYPE_CHECKING:
    from slapdesk.ui.main_window import MainWindow


class MapController(QObject):
    """Owns the ``MapView``; ``play_requested``/``show_ids_requested`` go to the window."""

    play_requested = Signal(int)
    show_ids_requested = Signal(list)
    playlist_requested = Signal(list)
    tag_requested = Signal(list)
    failed = Signal(str)
    loaded = Signal()

    def __init__(self, runner: TaskRunner, library_path: Path, view: MapView,
                 holder: ModelHolder | None = None, parent: QObject | None = None) -> None:
        """Wire ``view`` to the library at ``library_path``; ``holder`` names the active model."""
        super().__init__(parent)
        self._runner = runner
        self._holder = holder
        self._library_path = library_path
        self.view = view
        self.data: MapData | None = None
        self.stale = True  # the vectors changed since the map was drawn
        self._scores: dict[int, float] = {}
        self._result_ids: list[int] = []
        view.refresh_requested.connect(self.refresh)
        view.colour_mode_changed.connect(self._recolour)
        view.track_clicked.connect(self.play_requested)
        view.show_requested.connect(self.show_ids_requested)
        view.playlist_requested.connect(self.playlist_requested)
        view.tag_requested.connect(self.tag_requested)

    @Slot()
    def refresh(self) -> None:
        """Recompute the projection in the background."""
        if not self._library_path.is_file():
            return
        model_id = self._holder.active_model_id() if self._holder is not None else ""
        self._runner.run(partial(load_map, self._library_path, model_id), self._on_loaded,
                         self._on_error, pool="cpu", name="map")

    @Slot()
    def mark_stale(self) -> None:
        """The vectors changed: draw the map again the next time it is shown."""
        self.stale = True

    @Slot()
    def refresh_if_stale(self) -> None:
        """Recompute the projection if the vectors changed since the last time."""
        if self.stale:
            self.stale = False
            self.refresh()

    @Slot(object)
    def show_answer(self, answer: SearchAnswer) -> None:
        """The window shows a new search answer (for "colour by results")."""
        self.set_results(answer.ids, answer.scores)

    def set_results(self, ids: list[int], scores: dict[int, float]) -> None:
        """The current search results (for "colour by results")."""
        self._result_ids = list(ids)
        self._scores = dict(scores)
        if self.view.colour_mode == "results":
            self._recolour("results")

    @Slot(object)
    def _on_loaded(self, data: MapData) -> None:
        self.data = data
        self.view.set_points(data.ids, data.xy, data.labels)
        self._recolour(self.view.colour_mode)
        self.loaded.emit()

    @Slot(object)
    def _on_error(self, error: BaseException) -> None:
        self.failed.emit(f"Cannot draw the map: {error}")

    @Slot(str)
    def _recolour(self, mode: str) -> None:
        if self.data is None:
            return
        if mode == "results":
            if self._scores:
                self.view.colour_by_score(self._scores)
            else:
                # Metadata results carry a rank, not a score: earlier results score higher.
                n = max(len(self._result_ids), 1)
                ranks = {i: 1.0 - r / n for r, i in enumerate(self._result_ids)}
                self.view.colour_by_score(ranks)
        else:
            self.view.colour_by_category(self.data.categories.get(mode, []))


@register_tab("map", "Map", 30, shows_tracks=True)
def map_tab(window: MainWindow) -> Tab:
    """The embedding map, recomputed when shown after the vectors changed."""
    view = MapView()
    controller = MapController(window.ctx.runner, window.ctx.library_path, view, window.ctx.models,
                               window)
    controller.play_requested.connect(window.play_track)
    controller.show_ids_requested.connect(window.show_ids)
    controller.playlist_requested.connect(partial(choose_playlist_file, window))
    controller.failed.connect(window.show_error)
    controller.tag_requested.connect(window.tag_tracks)
    window.results_changed.connect(controller.show_answer)
    window.vectors_changed.connect(controller.mark_stale)
    return Tab(view, controller, controller.refresh_if_stale)
