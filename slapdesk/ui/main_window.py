"""The main window: layout, and the wiring of view signals to library work."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from PySide6.QtCore import QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from slapdesk.library import playlists
from slapdesk.library.jobs import active_model
from slapdesk.library.jobs.control import JobResult
from slapdesk.library.jobs.scan import scan_folders
from slapdesk.library.jobs.search import Scope, SearchAnswer
from slapdesk.library.store import track_rows as queries
from slapdesk.library.store.database import LibraryError, Reader, ReadError, open_readonly
from slapdesk.settings import SavedSearch
from slapdesk.ui.context import AppContext
from slapdesk.ui.jobs import JobTracker
from slapdesk.ui.map_controller import MapController
from slapdesk.ui.models_controller import ModelsController
from slapdesk.ui.proposal_model import ProposalTableModel
from slapdesk.ui.search_controller import SearchController
from slapdesk.ui.tagging_controller import TaggingController
from slapdesk.ui.track_table_model import TrackTableModel
from slapdesk.ui.training_controller import TrainingController
from slapdesk.ui.views.details import DetailsView
from slapdesk.ui.views.job_bar import JobBarView
from slapdesk.ui.views.library_view import LibraryView
from slapdesk.ui.views.map_view import MapView
from slapdesk.ui.views.message_bar import MessageBarView
from slapdesk.ui.views.models_view import ModelsView
from slapdesk.ui.views.player import PlayerView
from slapdesk.ui.views.sidebar import SidebarView
from slapdesk.ui.views.tagging_view import TaggingView
from slapdesk.ui.views.training_view import TrainingView
from slapdesk.ui.views.welcome import WelcomeView

log = logging.getLogger(__name__)

# While a job adds tracks, the visible results are refreshed this often.
LIVE_REFRESH_MS = 1500


class MainWindow(QMainWindow):
    """SlapDesk's window. Every service comes from ``AppContext``; nothing here creates one."""

    def __init__(self, ctx: AppContext) -> None:
        """Build the window for ``ctx`` and show the library (or the welcome page)."""
        super().__init__()
        self.ctx = ctx
        self.setWindowTitle("SlapDesk")
        self.resize(1280, 800)
        self._reader: Reader | None = None
        self.model = TrackTableModel(None, self)
        self._build_views()
        self._build_menus()
        self.jobs = JobTracker(ctx.runner, self.job_bar, self)
        settings = ctx.settings.value
        self.search = SearchController(ctx.runner, ctx.library_path, settings.search_debounce_ms,
                                       settings.result_limit, ctx.models, self)
        self.map = MapController(ctx.runner, ctx.library_path, self.map_view, self)
        self.tagging = TaggingController(ctx, self.tagging_view, self.jobs, ctx.models, self)
        self.training = TrainingController(ctx, self.training_view, self)
        self.models = ModelsController(ctx, self.models_view, self)
        self._map_stale = True
        self._live_timer = QTimer(self)
        self._live_timer.setInterval(LIVE_REFRESH_MS)
        self._wire()
        self.reload_library()
        if ctx.startup_error:
            self.show_error(ctx.startup_error)
        if ctx.scan_on_start:
            self.start_scan(ctx.scan_on_start)
        elif self.track_count():
            self.load_model()

    # ---- construction ------------------------------------------------------------------------
    def _build_views(self) -> None:
        self.messages = MessageBarView()
        self.welcome = WelcomeView()
        self.sidebar = SidebarView()
        self.library_view = LibraryView(self.model)
        self.details = DetailsView()
        self.player = PlayerView(self.ctx.settings.value.volume)
        self.job_bar = JobBarView()
        self.tabs = QTabWidget()
        self.map_view = MapView()
        self.tagging_view = TaggingView(ProposalTableModel(self))
        self.training_view = TrainingView()
        self.models_view = ModelsView()
        self.tabs.addTab(self.library_view, "Library")
        self.tabs.addTab(self.tagging_view, "Auto-tag")
        self.tabs.addTab(self.map_view, "Map")
        self.tabs.addTab(self.training_view, "Training")
        self.tabs.addTab(self.models_view, "Models")
        self.splitter = QSplitter()
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(self.tabs)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([200, 800, 280])
        self.stack = QStackedWidget()
        self.stack.addWidget(self.welcome)
        self.stack.addWidget(self.splitter)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addWidget(self.messages)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.player)
        self.setCentralWidget(central)
        self.status_label = QLabel()
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.job_bar)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.add_folder_action = QAction("&Add music folder…", self)
        self.rescan_action = QAction("&Rescan library", self)
        self.rescan_action.setShortcut(QKeySequence("F5"))
        self.save_playlist_action = QAction("&Save results as playlist…", self)
        self.save_playlist_action.setShortcut(QKeySequence.StandardKey.Save)
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        for action in (self.add_folder_action, self.rescan_action, self.save_playlist_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        self.add_folder_action.triggered.connect(self.choose_folder)
        self.rescan_action.triggered.connect(self.rescan)
        self.save_playlist_action.triggered.connect(self.choose_playlist_file)
        quit_action.triggered.connect(self.close)

    def _wire(self) -> None:
        view = self.library_view
        view.query_edited.connect(self.search.set_query)
        view.query_submitted.connect(self.search.run_now)
        view.current_track_changed.connect(self.show_track)
        view.track_activated.connect(self.play_track)
        view.save_playlist_button.clicked.connect(self.choose_playlist_file)
        view.save_search_button.clicked.connect(self.save_current_search)
        self.search.results_ready.connect(self.show_results)
        self.search.failed.connect(self.show_error)
        self.sidebar.entry_selected.connect(self.select_scope)
        self.details.play_clicked.connect(self.play_track)
        self.details.more_like_this_clicked.connect(self.more_like_this)
        self.player.error.connect(self.show_error)
        self.welcome.start_requested.connect(self.start_scan)
        self.jobs.failed.connect(self._job_failed)
        self.jobs.started.connect(self._job_started)
        self.jobs.finished.connect(self._job_finished)
        self._live_timer.timeout.connect(self._live_refresh)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.map.play_requested.connect(self.play_track)
        self.map.show_ids_requested.connect(self.show_ids)
        self.map.playlist_requested.connect(self.choose_playlist_file)
        self.map.failed.connect(self.show_error)
        self.map.tag_requested.connect(self.tag_tracks)
        for controller in (self.tagging, self.training, self.models):
            controller.failed.connect(self.show_error)
        self.tagging.info.connect(self.show_info)
        self.models.info.connect(self.show_info)
        self.tagging.library_changed.connect(self._library_changed)
        self.training.activate_requested.connect(self.models.activate)
        self.models.model_activated.connect(self._model_activated)

    # ---- library state -----------------------------------------------------------------------
    @property
    def reader(self) -> Reader | None:
        """The GUI thread's read-only connection (None before the library file exists)."""
        return self._reader

    def _open_reader(self) -> None:
        if self._reader is not None:
            return
        if not self.ctx.library_path.is_file():
            return
        try:
            self._reader = open_readonly(self.ctx.library_path)
        except LibraryError as error:
            self.show_error(str(error))
            return
        self.model.set_connection(self._reader)

    def track_count(self) -> int:
        """Tracks in the library (0 when there is none)."""
        if self._reader is None:
            return 0
        try:
            return queries.count_tracks(self._reader)
        except ReadError:
            return 0

    def reload_library(self) -> None:
        """Re-read folders, playlists and results; show the welcome page for an empty library."""
        self._open_reader()
        folders = queries.list_folders(self._reader) if self._reader is not None else []
        self.sidebar.set_folders(folders)
        self.sidebar.set_playlists(playlists.list_playlists(self.ctx.playlists_dir))
        searches = self.ctx.settings.value.saved_searches
        self.sidebar.set_saved_searches([(s.name, s.query) for s in searches])
        empty = not folders and self.track_count() == 0 and not self.jobs.busy
        self.stack.setCurrentWidget(self.welcome if empty else self.splitter)
        if not empty:
            self.search.run_now()

    # ---- search and results ------------------------------------------------------------------
    @Slot(object)
    def show_results(self, result: SearchAnswer) -> None:
        """Put search results in the table, keeping the current track selected if still there."""
        current = self.details.track_id
        if result.ids != self.model.ids or result.scores != self.model.scores:
            self.model.set_ids(result.ids, result.scores)
            header = self.library_view.table.horizontalHeader()
            if header.sortIndicatorSection() >= 0 and result.mode == "metadata":
                self.model.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())
            else:
                self.library_view.show_ranked()
            if current is not None and self.model.row_of(current) >= 0:
                self.library_view.select_row(self.model.row_of(current))
        else:
            self.model.refresh()
        self.map.set_results(result.ids, result.scores)
        what = {"like": "that sound alike", "sound": "by sound and tags",
                "metadata": "by tags"}.get(result.mode, "")
        count = f"{len(result.ids):,} track{'s' if len(result.ids) != 1 else ''}"
        status = f"{count} {what}".strip()
        if result.mode != "browse":
            status += f" · {result.elapsed_ms:.0f} ms"
        if result.message:
            status += f" — {result.message}"
        self.library_view.set_status(status)

    @Slot(str, str)
    def select_scope(self, kind: str, value: str) -> None:
        """The sidebar picked library / folder / saved search / playlist."""
        self.tabs.setCurrentWidget(self.library_view)
        if kind == "search":
            self.library_view.search.setText(value)
            self.search.set_scope(Scope())
            self.search.run_now(value)
            return
        self.search.set_scope(Scope(kind, value))

    @Slot(int)
    def show_track(self, track_id: int) -> None:
        """Fill the details panel."""
        if self._reader is None:
            return
        try:
            track = queries.fetch_row(self._reader, track_id)
            scores = queries.tag_scores(self._reader, track_id)
        except ReadError as error:
            self.show_error(f"Cannot read track {track_id}: {error}")
            return
        self.details.show_track(track, scores)

    @Slot(int)
    def play_track(self, track_id: int) -> None:
        """Preview a track."""
        track = queries.fetch_row(self._reader, track_id) if self._reader is not None else None
        if track is None:
            return
        if self.details.track_id != track_id:
            self.show_track(track_id)
        self.player.load(track.path, f"{track.artist} – {track.display_title}".strip(" –"))

    @Slot(int)
    def more_like_this(self, track_id: int) -> None:
        """Show the tracks that sound like ``track_id``."""
        self.tabs.setCurrentWidget(self.library_view)
        self.library_view.search.clear()
        self.search.more_like(track_id)

    @Slot(list)
    def show_ids(self, ids: list[int]) -> None:
        """Show exactly these tracks in the library table (e.g. a map selection)."""
        self.tabs.setCurrentWidget(self.library_view)
        self.model.set_ids(ids)
        self.library_view.show_ranked()
        self.library_view.set_status(f"{len(ids):,} selected tracks")

    @Slot(list)
    def tag_tracks(self, ids: list[int]) -> None:
        """Review tag proposals for just these tracks."""
        self.tabs.setCurrentWidget(self.tagging_view)
        self.tagging.restrict_to(ids)

    @Slot(int)
    def _tab_changed(self, _index: int) -> None:
        current = self.tabs.currentWidget()
        # Track details belong with the views that show tracks; the other panels get the room.
        self.details.setVisible(current in (self.library_view, self.map_view))
        if current is self.map_view and self._map_stale:
            self._map_stale = False
            self.map.refresh()
        elif current is self.tagging_view:
            self.tagging.reload()
        elif current is self.training_view:
            self.training.detect_devices()
        elif current is self.models_view:
            self.models.refresh()

    @Slot()
    def _library_changed(self) -> None:
        self.model.refresh()
        if self.details.track_id is not None:
            self.show_track(self.details.track_id)

    @Slot(str)
    def _model_activated(self, path: str) -> None:
        self.ctx.models.switch(path)
        self._map_stale = True
        self.start_embedding()

    def save_current_search(self) -> None:
        """Keep the current query in the sidebar."""
        query = self.library_view.search.text().strip()
        if not query:
            self.show_info("Type a search first, then save it.")
            return
        name, ok = QInputDialog.getText(self, "Save search", "Name:", text=query)
        if ok and name.strip():
            self.add_saved_search(name.strip(), query)

    def add_saved_search(self, name: str, query: str) -> None:
        """Store a saved search (replacing one with the same name)."""
        kept = [s for s in self.ctx.settings.value.saved_searches if s.name != name]
        self.ctx.settings.update(saved_searches=(*kept, SavedSearch(name, query)))
        self.sidebar.set_saved_searches(
            [(s.name, s.query) for s in self.ctx.settings.value.saved_searches])

    def choose_playlist_file(self, ids: list[int] | bool | None = None) -> None:
        """Ask where to save the results (or ``ids``) as M3U8, then save."""
        ids = list(ids) if isinstance(ids, list) and ids else self.model.ids
        if not ids:
            self.show_info("There are no results to save.")
            return
        self.ctx.playlists_dir.mkdir(parents=True, exist_ok=True)
        suggested = self.ctx.playlists_dir / f"{self.library_view.search.text() or 'playlist'}.m3u8"
        path, _ = QFileDialog.getSaveFileName(self, "Save playlist", str(suggested),
                                              "Playlists (*.m3u8)")
        if path:
            self.save_playlist(Path(path), ids)

    def save_playlist(self, path: Path, ids: list[int] | None = None) -> int:
        """Write the results (or ``ids``) to an M3U8 file; returns the number of entries."""
        if self._reader is None:
            return 0
        ids = self.model.ids if ids is None else ids
        rows = queries.fetch_rows(self._reader, ids)
        entries = [
            playlists.PlaylistEntry(rows[i].path, rows[i].duration,
                                    " - ".join(x for x in (rows[i].artist, rows[i].title) if x))
            for i in ids if i in rows
        ]
        try:
            count = playlists.write_m3u8(path.with_suffix(".m3u8"), entries)
        except OSError as error:
            self.show_error(f"Cannot save the playlist {path}: {error.strerror or error}")
            return 0
        self.sidebar.set_playlists(playlists.list_playlists(self.ctx.playlists_dir))
        self.show_info(f"Saved {count} tracks to {path.with_suffix('.m3u8')}")
        return count

    # ---- scanning ----------------------------------------------------------------------------
    def choose_folder(self) -> None:
        """Ask for a music folder and scan it."""
        folder = QFileDialog.getExistingDirectory(self, "Add a music folder")
        if folder:
            self.start_scan([folder])

    def rescan(self) -> None:
        """Scan every library folder again."""
        folders = queries.list_folders(self._reader) if self._reader is not None else []
        folders = folders or list(self.ctx.settings.value.music_folders)
        if folders:
            self.start_scan(folders)
        else:
            self.show_info("Add a music folder first (File → Add music folder…).")

    @Slot(list)
    def start_scan(self, folders: list[str]) -> None:
        """Scan ``folders`` in the background; the library stays usable meanwhile."""
        if self.ctx.database is None:
            self.show_error("The library could not be opened, so nothing can be scanned.")
            return
        known = list(self.ctx.settings.value.music_folders)
        self.ctx.settings.update(music_folders=tuple(dict.fromkeys([*known, *folders])))
        job = partial(scan_folders, self.ctx.database, folders)
        if not self.jobs.start("Scanning", job, self._after_scan, pool="io"):
            self.show_info(f"Wait for “{self.jobs.title}” to finish, or stop it first.")
            return
        self.stack.setCurrentWidget(self.splitter)

    def _after_scan(self, result: JobResult) -> None:
        if result.errors:
            shown = "\n".join(result.errors[:5])
            more = f"\n… and {len(result.errors) - 5:,} more" if len(result.errors) > 5 else ""
            self.show_error(f"Some files could not be read:\n{shown}{more}")
        if not result.cancelled:
            # Started after the scan job has been cleared, from the event loop.
            QTimer.singleShot(0, self, self.start_embedding)

    def start_embedding(self) -> None:
        """Embed the tracks that have no vector for the active model (model worker)."""
        if self.ctx.database is None or self.jobs.busy:
            return
        job = partial(active_model.embed_new_tracks, self.ctx.models, self.ctx.database)
        self.jobs.start("Listening to tracks", job, self._after_embedding, pool="model")

    def _after_embedding(self, result: JobResult) -> None:
        self._map_stale = True
        if result.errors:
            self.show_error(f"Some tracks could not be listened to: {result.errors[0]}"
                            + (f" (and {len(result.errors) - 1} more)" if len(result.errors) > 1
                               else ""))

    def load_model(self) -> None:
        """Load the active model in the background, then search by sound too."""
        self.ctx.runner.run(partial(active_model.load_model, self.ctx.models),
                            self._model_loaded, self._model_missing, pool="model",
                            name="load model")

    @Slot(object)
    def _model_loaded(self, _embedder: object) -> None:
        self.search.run_now()

    @Slot(object)
    def _model_missing(self, error: BaseException) -> None:
        self.status_label.setText(f"Searching tags only: {error}")

    @Slot(str)
    def _job_started(self, title: str) -> None:
        self.status_label.setText(f"{title}…")
        self._live_timer.start()

    @Slot(str, object)
    def _job_finished(self, title: str, result: object) -> None:
        self._live_timer.stop()
        summary = getattr(result, "summary", None)
        self.status_label.setText(summary() if callable(summary) else f"{title}: done")
        self._map_stale = True
        self.reload_library()

    @Slot(str, str)
    def _job_failed(self, title: str, message: str) -> None:
        self._live_timer.stop()
        self.status_label.setText(f"{title} failed")
        self.show_error(f"{title} failed: {message}")
        self.reload_library()

    @Slot()
    def _live_refresh(self) -> None:
        # New tracks appear while the scan runs; re-run the current query on them.
        self._open_reader()
        if self._reader is not None:
            self.sidebar.set_folders(queries.list_folders(self._reader))
            self.search.run_now()

    # ---- messages and lifetime ---------------------------------------------------------------
    @Slot(str)
    def show_error(self, message: str) -> None:
        """Show a readable error in the window."""
        log.warning("%s", message)
        self.messages.show_message(message, "error")

    @Slot(str)
    def show_info(self, message: str) -> None:
        """Show a short notice."""
        self.messages.show_message(message, "info")

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        """Stop playback and background work before closing."""
        self.player.stop()
        self._live_timer.stop()
        self.training.shutdown()
        self.ctx.runner.shutdown(3000)
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        super().closeEvent(event)
