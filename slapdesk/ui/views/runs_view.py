"""The tagging runs: when, which vocabulary, how many files and fields, whether undone."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from slapdesk.library.tags.runs import RunChange, RunInfo

HEADERS = ("Run", "When", "Vocabulary", "Files", "Fields", "State")
_RUN_ROLE = Qt.ItemDataRole.UserRole


def run_state(info: RunInfo) -> str:
    """A run's state in words: "written", "undone", "undo of run 3", "partly undone"."""
    if info.undo_of is not None:
        return f"undo of run {info.undo_of}"
    counts = info.counts
    if counts["undone"] and not counts["applied"]:
        return "undone"
    if counts["undone"]:
        return "partly undone"
    if counts["failed"] and not counts["applied"]:
        return "failed"
    if info.status in ("running", "interrupted"):
        return info.status
    return "written" if counts["applied"] else "nothing written"


def undoable(info: RunInfo) -> bool:
    """Whether Undo can restore anything of ``info``."""
    return info.undo_of is None and info.policy != "undo" and info.counts["applied"] > 0


class RunsView(QWidget):
    """A small list of runs with an Undo button for the one picked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the list (empty until ``set_runs``)."""
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(QLabel("<b>Tagging runs</b>"))
        top.addStretch(1)
        self.undo_button = QPushButton("Undo this run…")
        self.undo_button.setEnabled(False)
        top.addWidget(self.undo_button)
        layout.addLayout(top)
        self.list = QTreeWidget()
        self.list.setHeaderLabels(list(HEADERS))
        self.list.setRootIsDecorated(True)  # a run opens onto what it changed
        self.list.setUniformRowHeights(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.header().setStretchLastSection(True)
        for column, width in enumerate((44, 130, 90, 52, 52)):
            self.list.setColumnWidth(column, width)
        self.list.header().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        layout.addWidget(self.list)
        self._runs: dict[int, RunInfo] = {}
        self.list.itemSelectionChanged.connect(self._selection_changed)

    def set_runs(self, runs: Sequence[RunInfo]) -> None:
        """Show ``runs`` (newest first); the selection follows its run id."""
        chosen = self.selected_run()
        self._runs = {info.run_id: info for info in runs}
        self.list.clear()
        for info in runs:
            when = dt.datetime.fromtimestamp(info.created_at).strftime("%Y-%m-%d %H:%M")
            fields = sum(info.counts.values())
            item = QTreeWidgetItem([str(info.run_id), when, info.vocab or "", str(info.files),
                                    str(fields), run_state(info)])
            item.setData(0, _RUN_ROLE, info.run_id)
            for column in (0, 3, 4):
                item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight
                                      | Qt.AlignmentFlag.AlignVCenter)
            self.list.addTopLevelItem(item)
            if info.run_id == chosen:
                item.setSelected(True)
        if not runs:
            empty = QTreeWidgetItem(["No tagging runs yet: each Write is one run, and Undo "
                                     "restores the files as they were before it."])
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addTopLevelItem(empty)
            empty.setFirstColumnSpanned(True)
        self._selection_changed()

    def set_changes(self, run_id: int, changes: Sequence[RunChange], total: int) -> None:
        """List what a run changed under its row (one line per field) and in its tooltip."""
        for row in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(row)
            if item.data(0, _RUN_ROLE) != run_id:
                continue
            lines = [f"{os.path.basename(c.path)}: {c.field.upper()} "
                     f"{'; '.join(c.old) or '—'} → {'; '.join(c.new) or '—'}"
                     + ("" if c.state == "applied" else f" ({c.state})") for c in changes]
            if total > len(changes):
                lines.append(f"… and {total - len(changes):,} more")
            for column in range(len(HEADERS)):
                item.setToolTip(column, "\n".join(lines[:12]))
            for line in lines:
                child = QTreeWidgetItem([line])
                child.setFlags(Qt.ItemFlag.ItemIsEnabled)
                item.addChild(child)
                child.setFirstColumnSpanned(True)

    def selected_run(self) -> int | None:
        """The run picked in the list, if any."""
        items = self.list.selectedItems()
        run_id = items[0].data(0, _RUN_ROLE) if items else None
        return None if run_id is None else int(run_id)

    def select_run(self, run_id: int) -> None:
        """Pick a run in the list."""
        for row in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(row)
            item.setSelected(item.data(0, _RUN_ROLE) == run_id)

    def run_info(self, run_id: int) -> RunInfo | None:
        """The listed run ``run_id``."""
        return self._runs.get(run_id)

    def _selection_changed(self) -> None:
        run_id = self.selected_run()
        info = self._runs.get(run_id) if run_id is not None else None
        self.undo_button.setEnabled(info is not None and undoable(info))
