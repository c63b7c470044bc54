"""The main window: layout, and the wiring of view signals to library work."""

from __future__ import annotations

import logging
from functools import partial

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from slapdesk.library import playlists
from slapdesk.library.autotag.review import track_problems
from slapdesk.library.jobs.search import Scope, SearchAnswer, status_line
from slapdesk.library.store import preferences
from slapdesk.library.store import track_rows as queries
from slapdesk.library.store.database import LibraryError, Reader, ReadError, open_readonly
from slapdesk.ui.application import QUIT_GRACE_MS
from slapdesk.ui.context import AppContext
from slapdesk.ui.jobs import JobTracker
from slapdesk.ui.library_pipeline import EMBEDDING_TITLE, LibraryPipeline
from slapdesk.ui.playback import Playback
from slapdesk.ui.playlist_actions import choose_playlist_file, remove_saved_search
from slapdesk.ui.shortcuts import install_shortcuts
from slapdesk.ui.tabs import Tab, TabSpec, registered_tabs
from slapdesk.ui.track_table_model import TrackTableModel
from slapdesk.ui.views.details import DetailsView, scrolling
from slapdesk.ui.views.job_bar import JobBarView
from slapdesk.ui.views.message_bar import MessageBarView
from slapdesk.ui.views.player import PlayerView
from slapdesk.ui.views.sidebar import SidebarView
from slapdesk.ui.views.welcome import WelcomeView

log = logging.getLogger(__name__)

# While a job adds tracks, the visible results are refreshed this often.
LIVE_REFRESH_MS = 1500


class MainWindow(QMainWindow):
    """SlapDesk's window. Every service comes from ``AppContext``; nothing here creates one.

    The frame (sidebar, details, player, job bar) is built here; the tabs build themselves
    (``slapdesk.ui.tabs``) and talk to each other through the window's signals below.
    """

    results_changed = Signal(object)  # a SearchAnswer now shown in the library table
    vectors_changed = Signal()  # tracks were embedded, or the active model changed
    model_requested = Signal(str)  # a view asks to make this bundle the active model
    tag_requested = Signal(list)  # a view asks to review tag proposals for these tracks
    closing = Signal()  # the window is about to close: stop what outlives a task

    def __init__(self, ctx: AppContext) -> None:
        """Build the window for ``ctx`` and show the library (or the welcome page)."""
        super().__init__()
        self.ctx = ctx
        self.setWindowTitle("SlapDesk")
        self.resize(1280, 800)
        self._reader: Reader | None = None
        self.model = TrackTableModel(None, self)
        self._build_frame()
        self._build_menus()
        self.jobs = JobTracker(ctx.runner, self.job_bar, self)
        self.pipeline = LibraryPipeline(ctx, self.jobs, self)
        self.closing.connect(self.pipeline.shutdown)
        self._specs: list[TabSpec] = []
        self._tabs: dict[str, Tab] = {}
        self._build_tabs()
        self.library_view = self._tabs["library"].view
        self.search = self._tabs["library"].controller
        self.playback = Playback(self)
        self._live_timer = QTimer(self, interval=LIVE_REFRESH_MS)
        self._wire()
        install_shortcuts(self)
        self.reload_library()
        if ctx.startup_error:
            self.show_error(ctx.startup_error)
        if ctx.scan_on_start:
            self.start_scan(ctx.scan_on_start)
        elif self.track_count():
            self.pipeline.load_model()

    # ---- construction ------------------------------------------------------------------------
    def _build_frame(self) -> None:
        self.messages = MessageBarView()
        self.welcome = WelcomeView()
        self.sidebar = SidebarView()
        self.details = DetailsView()
        self.player = PlayerView(self.ctx.settings.value.volume)
        self.job_bar = JobBarView()
        self.tabs = QTabWidget()
        self.details_area = scrolling(self.details)
        self.splitter = QSplitter()
        for part in (self.sidebar, self.tabs, self.details_area):
            self.splitter.addWidget(part)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([200, 800, 280])
        self.stack = QStackedWidget()
        self.stack.addWidget(self.welcome)
        self.stack.addWidget(self.splitter)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.player)
        self.setCentralWidget(central)
        self.messages.setParent(central)
        self.messages.float_over(self.stack)
        self.status_label = QLabel()
        # A long status line is cut rather than making the window wider than a small screen.
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.job_bar)
        self.model_label = QLabel()
        self.statusBar().addPermanentWidget(self.model_label)
        self.show_model()

    def _build_tabs(self) -> None:
        for spec in registered_tabs():
            tab = spec.build(self)
            self._specs.append(spec)
            self._tabs[spec.name] = tab
            self.tabs.addTab(tab.view, spec.title)

    def tab(self, name: str) -> Tab:
        """The built tab registered as ``name`` (KeyError if there is none)."""
        return self._tabs[name]

    def show_tab(self, name: str) -> Tab:
        """Make the tab ``name`` current; returns it."""
        tab = self._tabs[name]
        self.tabs.setCurrentWidget(tab.view)
        return tab

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.add_folder_action = QAction("&Add music folder…", self)
        self.rescan_action = QAction("&Rescan library", self)
        self.rescan_action.setShortcut(QKeySequence("F5"))
        self.save_playlist_action = QAction("&Save results as playlist…", self)
        self.save_playlist_action.setShortcut(QKeySequence.StandardKey.Save)
        quit_action = self.quit_action = QAction("&Quit", self)
        # Ctrl+Q by name: the platform's Quit key is empty on Windows and some Linux desktops.
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        for action in (self.add_folder_action, self.rescan_action, self.save_playlist_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        self.add_folder_action.triggered.connect(self.choose_folder)
        self.rescan_action.triggered.connect(self.rescan)
        self.save_playlist_action.triggered.connect(partial(choose_playlist_file, self))
        quit_action.triggered.connect(self.close)

    def _wire(self) -> None:
        self.sidebar.entry_selected.connect(self.select_scope)
        self.sidebar.search_removal_requested.connect(partial(remove_saved_search, self))
        self.details.play_clicked.connect(self.play_track)
        self.details.more_like_this_clicked.connect(self.more_like_this)
        self.player.error.connect(self.show_error)
        self.welcome.start_requested.connect(self.start_scan)
        self.jobs.failed.connect(self._job_failed)
        self.jobs.started.connect(self._job_started)
        self.jobs.finished.connect(self._job_finished)
        self._live_timer.timeout.connect(self._live_refresh)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.pipeline.failed.connect(self.show_error)
        self.pipeline.info.connect(self.show_info)
        self.pipeline.status.connect(self.status_label.setText)
        self.pipeline.model_ready.connect(self.search.run_now)
        self.pipeline.model_ready.connect(self.show_model)
        self.pipeline.vectors_changed.connect(self.vectors_changed)

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
        self.sidebar.set_saved_searches(preferences.saved_searches(self._reader))
        empty = not folders and self.track_count() == 0 and not self.jobs.busy
        self.stack.setCurrentWidget(self.welcome if empty else self.splitter)
        if not empty:
            self.search.run_now()

    @Slot()
    def show_model(self) -> None:
        """Name the active model in the status bar (searches and embedding use it)."""
        self.model_label.setText(f"Model: {self.ctx.models.describe()}")

    # ---- search and results ------------------------------------------------------------------
    @Slot(object)
    def show_results(self, result: SearchAnswer) -> None:
        """Put search results in the table, keeping the current track selected if still there."""
        current = self.details.track_id
        if result.ids != self.model.ids or result.scores != self.model.scores:
            self.model.set_ids(result.ids, result.scores, result.labels)
            header = self.library_view.table.horizontalHeader()
            if header.sortIndicatorSection() >= 0 and result.mode == "metadata":
                self.model.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())
            else:
                self.library_view.show_ranked()
            if current is not None and self.model.row_of(current) >= 0:
                self.library_view.select_row(self.model.row_of(current))
        else:
            self.model.refresh()
        self.results_changed.emit(result)
        status = status_line(result, embedding=self.jobs.title == EMBEDDING_TITLE)
        self.library_view.set_status(status)

    @Slot(str, str)
    def select_scope(self, kind: str, value: str) -> None:
        """The sidebar picked library / folder / saved search / playlist."""
        self.show_tab("library")
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
            problem = track_problems(self._reader, [track_id]).get(track_id, "")
        except ReadError as error:
            self.show_error(f"Cannot read track {track_id}: {error}")
            return
        self.details.show_track(track, scores, problem)

    @Slot(int)
    def play_track(self, track_id: int) -> None:
        """Preview a track from its start."""
        self.playback.play(track_id)

    @Slot(int, float)
    def play_from(self, track_id: int, seconds: float) -> None:
        """Preview a track from ``seconds`` (a moment of it)."""
        self.playback.play(track_id, seconds)

    @Slot(int)
    def more_like_this(self, track_id: int) -> None:
        """Show the tracks that sound like ``track_id``."""
        self.show_tab("library")
        self.library_view.search.clear()
        self.search.more_like(track_id)

    @Slot(list)
    def show_ids(self, ids: list[int]) -> None:
        """Show exactly these tracks in the library table (e.g. a map selection)."""
        self.show_tab("library")
        self.model.set_ids(ids)
        self.library_view.show_ranked()
        self.library_view.set_status(f"{len(ids):,} selected tracks")

    @Slot(list)
    def tag_tracks(self, ids: list[int]) -> None:
        """Review tag proposals for just these tracks."""
        self.tag_requested.emit(list(ids))

    @Slot(int)
    def _tab_changed(self, index: int) -> None:
        if not 0 <= index < len(self._specs):
            return
        spec = self._specs[index]
        # Track details belong with the views that show tracks; the other panels get the room.
        self.details_area.setVisible(spec.shows_tracks)
        shown = self._tabs[spec.name].on_shown
        if shown is not None:
            shown()

    @Slot()
    def refresh_tracks(self) -> None:
        """Re-read the visible rows and the details (files' tags changed)."""
        self.model.refresh()
        if self.details.track_id is not None:
            self.show_track(self.details.track_id)

    @Slot(str)
    def use_model(self, path: str) -> None:
        """The active model changed: use it from the next job on and embed what it lacks."""
        self.ctx.models.switch(path)
        self.show_model()
        self.vectors_changed.emit()
        self.pipeline.start_embedding()

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
        if self.pipeline.start_scan(folders):
            self.stack.setCurrentWidget(self.splitter)

    @Slot(str)
    def _job_started(self, title: str) -> None:
        self.status_label.setText(f"{title}…")
        self._live_timer.start()

    @Slot(str, object)
    def _job_finished(self, title: str, result: object) -> None:
        self._live_timer.stop()
        summary = getattr(result, "summary", None)
        self.status_label.setText(summary() if callable(summary) else f"{title}: done")
        self.vectors_changed.emit()
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
        self.hide()  # gone at once, though stopping the worker process may take a moment
        self.player.stop_and_wait()
        self._live_timer.stop()
        self.closing.emit()
        self.ctx.runner.shutdown(QUIT_GRACE_MS)
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        super().closeEvent(event)
