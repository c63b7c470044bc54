"""The sidebar: library, folders, saved searches and playlists."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import QHeaderView, QMenu, QTreeWidget, QTreeWidgetItem, QWidget

_KIND_ROLE = Qt.ItemDataRole.UserRole
_VALUE_ROLE = Qt.ItemDataRole.UserRole + 1

# Sections, in display order: (kind of their entries, heading).
SECTIONS = (("folder", "Folders"), ("search", "Saved searches"), ("playlist", "Playlists"))


class SidebarView(QTreeWidget):
    """Emits ``entry_selected(kind, value)``: kind is library | folder | search | playlist.

    A saved search's context menu removes it: ``search_removal_requested(name)``.
    """

    entry_selected = Signal(str, str)
    search_removal_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the tree with its fixed sections."""
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setColumnCount(1)
        self.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.setMinimumWidth(180)
        self._all = QTreeWidgetItem(["All tracks"])
        self._all.setData(0, _KIND_ROLE, "library")
        self._all.setData(0, _VALUE_ROLE, "")
        self.addTopLevelItem(self._all)
        self._sections: dict[str, QTreeWidgetItem] = {}
        for kind, heading in SECTIONS:
            section = QTreeWidgetItem([heading])
            section.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = section.font(0)
            font.setBold(True)
            section.setFont(0, font)
            self.addTopLevelItem(section)
            section.setExpanded(True)
            self._sections[kind] = section
        self.itemSelectionChanged.connect(self._emit_selection)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._show_menu)

    def menu_for(self, item: QTreeWidgetItem | None) -> QMenu | None:
        """The context menu of an entry (None for entries without one)."""
        if item is None or item.data(0, _KIND_ROLE) != "search":
            return None
        menu = QMenu(self)
        name = item.text(0)
        remove = menu.addAction(f"Remove saved search “{name}”")
        remove.triggered.connect(partial(self.search_removal_requested.emit, name))
        return menu

    def _show_menu(self, position: QPoint) -> None:
        menu = self.menu_for(self.itemAt(position))
        if menu is not None:
            menu.exec(self.viewport().mapToGlobal(position))

    def _fill(self, kind: str, entries: Sequence[tuple[str, str]]) -> None:
        section = self._sections[kind]
        section.takeChildren()
        for label, value in entries:
            item = QTreeWidgetItem([label])
            item.setToolTip(0, value)
            item.setData(0, _KIND_ROLE, kind)
            item.setData(0, _VALUE_ROLE, value)
            section.addChild(item)
        section.setExpanded(True)

    def set_folders(self, folders: Sequence[str]) -> None:
        """List the library's root folders."""
        self._fill("folder", [(Path(f).name or f, f) for f in folders])

    def set_saved_searches(self, searches: Sequence[tuple[str, str]]) -> None:
        """List saved searches as (name, query)."""
        self._fill("search", list(searches))

    def set_playlists(self, playlists: Sequence[Path]) -> None:
        """List playlist files."""
        self._fill("playlist", [(p.stem, str(p)) for p in playlists])

    def entry(self, kind: str, label: str) -> QTreeWidgetItem | None:
        """The listed entry of one section with that label."""
        section = self._sections[kind]
        found = [section.child(i) for i in range(section.childCount())
                 if section.child(i).text(0) == label]
        return found[0] if found else None

    def entries(self, kind: str) -> list[tuple[str, str]]:
        """The (label, value) pairs listed in one section."""
        section = self._sections[kind]
        return [(section.child(i).text(0), section.child(i).data(0, _VALUE_ROLE))
                for i in range(section.childCount())]

    def select_all_tracks(self) -> None:
        """Select "All tracks"."""
        self.setCurrentItem(self._all)

    def _emit_selection(self) -> None:
        items = self.selectedItems()
        if not items:
            return
        kind = items[0].data(0, _KIND_ROLE)
        if kind:
            self.entry_selected.emit(kind, items[0].data(0, _VALUE_ROLE))
