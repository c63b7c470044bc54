"""The search box and the results table."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QEvent, QItemSelectionModel, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from slapdesk.ui.column_layout import ColumnLayout
from slapdesk.ui.track_table_model import TrackTableModel
from slapdesk.ui.views.moment_strip import MomentStrip


class TrackTable(QTableView):
    """The results table; Ctrl+Home / Ctrl+End select the row they jump to.

    In extended selection Qt moves only the current row on Ctrl+navigation and leaves the
    highlight where it was, so the details pane (which follows the current row) would show
    another track than the highlighted one.
    """

    _JUMPS = (Qt.Key.Key_Home, Qt.Key.Key_End)

    def selectionCommand(  # noqa: N802 (Qt name)
        self, index: QPersistentModelIndex, event: QEvent | None = None
    ) -> QItemSelectionModel.SelectionFlag:
        """Select on Ctrl+Home / Ctrl+End as on Home / End; Qt's choice otherwise."""
        if (
            isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
            and event.key() in self._JUMPS
            and event.modifiers() == Qt.KeyboardModifier.ControlModifier
        ):
            return (QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows)
        return super().selectionCommand(index, event)


class LibraryView(QWidget):
    """Search box above a sortable, draggable table of tracks.

    Signals: ``query_edited(text)`` on every keystroke (the window debounces),
    ``query_submitted(text)`` on Enter, ``current_track_changed(id)``,
    ``track_activated(id)`` on double-click / Enter in the table.
    """

    query_edited = Signal(str)
    query_submitted = Signal(str)
    current_track_changed = Signal(int)
    track_activated = Signal(int)

    def __init__(self, model: TrackTableModel, hidden_columns: Iterable[str] = (),
                 parent: QWidget | None = None) -> None:
        """Build the view around ``model``, without the columns keyed in ``hidden_columns``."""
        super().__init__(parent)
        self.model = model
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText(
            "Describe what you want to hear — or search artist, title, album, genre…"
        )
        self.search.setClearButtonEnabled(True)
        self.save_search_button = QPushButton("Save search")
        self.save_playlist_button = QPushButton("Save as playlist…")
        self.save_playlist_button.setToolTip("Save these results as an M3U8 playlist")
        top.addWidget(self.search, 1)
        top.addWidget(self.save_search_button)
        top.addWidget(self.save_playlist_button)
        layout.addLayout(top)
        self.status = QLabel()
        layout.addWidget(self.status)
        self.table = TrackTable()
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setDragEnabled(True)
        self.table.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.table.horizontalHeader()
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # keep the ranked order
        self.table.setSortingEnabled(True)
        self.columns = ColumnLayout(self.table, hidden_columns)
        layout.addWidget(self.table, 1)
        self.moment_strip = MomentStrip()
        layout.addWidget(self.moment_strip)
        self.search.textEdited.connect(self.query_edited)
        self.search.returnPressed.connect(self._submit)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.activated.connect(self._activated)

    def show_ranked(self) -> None:
        """New results arrived in ranked order: clear the sort indicator."""
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)

    def set_status(self, text: str) -> None:
        """The line above the table ("1,234 tracks", "searching…")."""
        self.status.setText(text)

    def selected_ids(self) -> list[int]:
        """Track ids of the selected rows, in row order."""
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.track_id(r) for r in rows]

    def select_row(self, row: int) -> None:
        """Make ``row`` current and the only one selected."""
        if 0 <= row < self.model.rowCount():
            # Not selectRow: that one reads the keyboard modifiers held now, and with Ctrl or
            # Shift down it would add the row to the selection instead.
            flags = (QItemSelectionModel.SelectionFlag.ClearAndSelect
                     | QItemSelectionModel.SelectionFlag.Rows)
            index = self.model.index(row, 0)
            self.table.selectionModel().setCurrentIndex(index, flags)
            self.table.scrollTo(index)

    def _submit(self) -> None:
        self.query_submitted.emit(self.search.text())

    def _current_changed(self, current, _previous) -> None:
        if current.isValid():
            self.current_track_changed.emit(self.model.track_id(current.row()))

    def _activated(self, index) -> None:
        if index.isValid():
            self.track_activated.emit(self.model.track_id(index.row()))
