"""The results table's columns: which are shown (the header's right-click menu), how wide.

Text columns share the table's width by weight (Title most, then Artist, Album, File, Genre)
and keep sharing it when the window grows, in proportion to their widths then, so a column
the user widened keeps its share; short columns (Year, Length, Match, Format) stay as wide as
their longest usual text. Qt's own "stretch the last section" gave every extra pixel to File.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal, Slot
from PySide6.QtWidgets import QApplication, QHeaderView, QMenu, QStyledItemDelegate, QTableView

from slapdesk.ui.track_table_model import COLUMNS

# Share of the free width per text column, and the narrowest it gets.
FLEX_WEIGHTS = {"title": 3.0, "artist": 2.0, "album": 2.0, "path": 2.0, "genre": 1.5}
FLEX_MIN = {"title": 96, "artist": 64, "album": 64, "path": 70, "genre": 52}
# The widest usual text of each short column: it sets the column's fixed width.
FIXED_SAMPLES = {"year": "8888", "duration": "1:23:45", "score": "strong · tags",
                 "format": "Ogg Vorbis"}
ALWAYS_SHOWN = "title"


class _MiddleElide(QStyledItemDelegate):
    """Cuts long text in the middle: a path keeps its file name, not only its first folders."""

    def initStyleOption(self, option, index) -> None:  # noqa: N802 (Qt name)
        """Qt's options, with the middle elided."""
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideMiddle


class ColumnLayout(QObject):
    """Sizes and shows the columns of ``table``; ``hidden_changed(keys)`` after the user's pick."""

    hidden_changed = Signal(tuple)

    def __init__(self, table: QTableView, hidden: Iterable[str] = ()) -> None:
        """Take over the column widths of ``table``, hiding the columns keyed in ``hidden``."""
        super().__init__(table)
        self._table = table
        self._keys = [column.key for column in COLUMNS]
        self._fitting = False
        self._user_sized = False  # once the user drags a text column, its share follows
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._show_menu)
        header.sectionResized.connect(self._section_resized)
        self.fixed = {key: self._fitting_width(key, text) for key, text in FIXED_SAMPLES.items()}
        for key in set(hidden) - {ALWAYS_SHOWN}:
            if key in self._keys:
                header.setSectionHidden(self._keys.index(key), True)
        self._path_delegate = _MiddleElide(table)
        table.setItemDelegateForColumn(self._keys.index("path"), self._path_delegate)
        table.viewport().installEventFilter(self)

    def _fitting_width(self, key: str, sample: str) -> int:
        # The sample in the cells' font, the title in the header's with room for the sort arrow.
        header = self._table.horizontalHeader()
        cell = self._table.fontMetrics().horizontalAdvance(sample) + 12
        title = header.fontMetrics().horizontalAdvance(COLUMNS[self._keys.index(key)].title)
        return max(cell, title + 20)

    @property
    def hidden(self) -> tuple[str, ...]:
        """Keys of the hidden columns, in column order."""
        header = self._table.horizontalHeader()
        return tuple(k for i, k in enumerate(self._keys) if header.isSectionHidden(i))

    def width_of(self, key: str) -> int:
        """The width of column ``key`` now (0 when hidden)."""
        index = self._keys.index(key)
        header = self._table.horizontalHeader()
        return 0 if header.isSectionHidden(index) else header.sectionSize(index)

    def set_shown(self, key: str, shown: bool) -> None:
        """Show or hide a column (Title always stays) and share the width again."""
        if key == ALWAYS_SHOWN or key not in self._keys:
            return
        index = self._keys.index(key)
        header = self._table.horizontalHeader()
        if header.isSectionHidden(index) != shown:
            return
        header.setSectionHidden(index, not shown)
        if shown and key in FLEX_WEIGHTS:
            header.resizeSection(index, FLEX_MIN[key])
        self.fit()
        self.hidden_changed.emit(self.hidden)

    def build_menu(self, parent=None) -> QMenu:
        """The header's menu: one tick per column."""
        menu = QMenu(parent)
        menu.addSection("Columns")
        header = self._table.horizontalHeader()
        for index, column in enumerate(COLUMNS):
            action = menu.addAction(column.title)
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(index))
            action.setEnabled(column.key != ALWAYS_SHOWN)
            action.toggled.connect(lambda on, key=column.key: self.set_shown(key, on))
        return menu

    @Slot(QPoint)
    def _show_menu(self, point: QPoint) -> None:
        header = self._table.horizontalHeader()
        menu = self.build_menu(header)
        menu.exec(header.mapToGlobal(point))
        menu.deleteLater()

    @Slot(int, int, int)
    def _section_resized(self, index: int, _old: int, _new: int) -> None:
        # Qt resizes sections itself too (model resets, hiding); only a drag is the user's.
        dragging = QApplication.mouseButtons() & Qt.MouseButton.LeftButton
        if dragging and not self._fitting and self._keys[index] in FLEX_WEIGHTS:
            self._user_sized = True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        """Share the width again whenever the table's visible area changes size."""
        # Only a change of width: a scroll bar coming or going mid-drag must not undo the drag.
        if (event.type() == QEvent.Type.Resize and watched is self._table.viewport()
                and event.size().width() != event.oldSize().width()):
            self.fit()
        return False

    def fit(self) -> None:
        """Fixed widths for short columns; the rest of the width shared by the text columns."""
        header = self._table.horizontalHeader()
        available = self._table.viewport().width()
        if self._fitting or available <= 0:
            return
        self._fitting = True
        try:
            shown = [k for i, k in enumerate(self._keys) if not header.isSectionHidden(i)]
            for key in shown:
                if key in self.fixed:
                    header.resizeSection(self._keys.index(key), self.fixed[key])
            flex = [k for k in shown if k in FLEX_WEIGHTS]
            free = available - sum(self.fixed[k] for k in shown if k in self.fixed)
            for key, width in self._shares(flex, free).items():
                header.resizeSection(self._keys.index(key), width)
        finally:
            self._fitting = False

    def _shares(self, flex: list[str], free: int) -> dict[str, int]:
        if not flex:
            return {}
        if self._user_sized:  # keep the proportions the user gave the columns
            weights = {k: float(max(self.width_of(k), 1)) for k in flex}
        else:
            weights = {k: FLEX_WEIGHTS[k] for k in flex}
        widths: dict[str, int] = {}
        left, budget = list(flex), free
        while left:  # columns whose share is below their minimum get the minimum, out of it
            total = sum(weights[k] for k in left)
            short = [k for k in left if budget * weights[k] / total < FLEX_MIN[k]]
            if not short:
                widths.update({k: int(budget * weights[k] / total) for k in left})
                break
            for key in short:
                widths[key] = FLEX_MIN[key]
                budget -= FLEX_MIN[key]
                left.remove(key)
        # Rounding leaves a few pixels: the widest column takes them, so the row fits exactly.
        widest = max(flex, key=lambda k: widths[k])
        rest = free - sum(widths.values())
        if rest > 0:
            widths[widest] += rest
        return widths
