"""Keyboard shortcuts of the window, and the Help page that lists them.

One table (``SHORTCUTS``) is both what is installed and what Help → Keyboard shortcuts shows,
so the page can never list a key that does nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QHeaderView, QTableWidget, QTableWidgetItem, QVBoxLayout

from slapdesk.ui.track_menu import remove_from_playlist

if TYPE_CHECKING:
    from slapdesk.ui.main_window import MainWindow

# (keys, what they do) in the order the Help page lists them.
SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("Ctrl+F, Ctrl+L", "Go to the search box"),
    ("Esc (in the search box)", "Clear the search"),
    ("Down (in the search box)", "Move into the results"),
    ("Enter (in the results)", "Play the track"),
    ("Space (in the results)", "Pause / resume"),
    ("Media Play, Media Next, Media Previous", "Pause / resume, next track, previous track"),
    ("Ctrl+Home, Ctrl+End", "First / last result"),
    ("Delete (in a playlist's results)", "Remove the tracks from the playlist"),
    ("Ctrl+1 … Ctrl+6", "Library, Auto-tag, Audit, Map, Training, Models"),
    ("Ctrl+Tab", "Next view"),
    ("F5", "Rescan the library"),
    ("Ctrl+S", "Save the results as a playlist"),
    ("Ctrl+Q", "Quit"),
)


def install_shortcuts(window: MainWindow) -> None:
    """Create the window's shortcuts and its Help menu."""
    view = window.library_view
    for keys in ("Ctrl+F", "Ctrl+L"):
        _shortcut(window, keys, lambda: focus_search(window))
    only_there = Qt.ShortcutContext.WidgetShortcut  # the key keeps its meaning elsewhere
    _shortcut(view.search, "Escape", view.search.clear, only_there)
    _shortcut(view.search, "Down", lambda: _enter_results(window), only_there)
    _shortcut(view.table, "Space", window.player.toggle, only_there)
    _shortcut(view.table, "Delete",
              lambda: remove_from_playlist(window, view.selected_ids()), only_there)
    media = ((Qt.Key.Key_MediaPlay, window.player.toggle),
             (Qt.Key.Key_MediaTogglePlayPause, window.player.toggle),
             (Qt.Key.Key_MediaPause, window.player.toggle),
             (Qt.Key.Key_MediaNext, window.playback.next),
             (Qt.Key.Key_MediaPrevious, window.playback.previous))
    for key, slot in media:
        _shortcut(window, QKeySequence(key), slot, Qt.ShortcutContext.ApplicationShortcut)
    for number in range(1, window.tabs.count() + 1):
        _shortcut(window, f"Ctrl+{number}", lambda n=number: window.tabs.setCurrentIndex(n - 1))
    _shortcut(window, "Ctrl+Tab",
              lambda: window.tabs.setCurrentIndex((window.tabs.currentIndex() + 1)
                                                  % window.tabs.count()))
    help_menu = window.menuBar().addMenu("&Help")
    window.shortcuts_action = QAction("&Keyboard shortcuts", window)
    window.shortcuts_action.triggered.connect(lambda: shortcuts_dialog(window).exec())
    help_menu.addAction(window.shortcuts_action)


def focus_search(window: MainWindow) -> None:
    """Show the library and put the cursor in the search box, its text selected."""
    window.show_tab("library")
    window.library_view.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
    window.library_view.search.selectAll()


def shortcuts_dialog(window: MainWindow) -> QDialog:
    """The Help page: every shortcut and what it does."""
    dialog = QDialog(window)
    dialog.setWindowTitle("Keyboard shortcuts")
    table = QTableWidget(len(SHORTCUTS), 2, dialog)
    table.setHorizontalHeaderLabels(["Keys", "Action"])
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    for row, (keys, action) in enumerate(SHORTCUTS):
        table.setItem(row, 0, QTableWidgetItem(keys))
        table.setItem(row, 1, QTableWidgetItem(action))
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    layout = QVBoxLayout(dialog)
    layout.addWidget(table)
    dialog.resize(480, 420)
    return dialog


def _enter_results(window: MainWindow) -> None:
    view = window.library_view
    if window.model.rowCount() == 0:
        return
    view.table.setFocus(Qt.FocusReason.ShortcutFocusReason)
    if not view.selected_ids():
        view.select_row(0)


def _shortcut(parent: QObject, keys: str | QKeySequence, slot,
              context=Qt.ShortcutContext.WindowShortcut) -> None:
    shortcut = QShortcut(QKeySequence(keys), parent)
    shortcut.setContext(context)
    shortcut.activated.connect(slot)
