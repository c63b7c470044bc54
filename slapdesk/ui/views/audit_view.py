"""The tag audit panel's layout: field, method, the list, and keep / replace / skip."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from slapdesk.ui.audit_model import AuditTableModel

METHOD_HELP = {
    "both": "the model's zero-shot reading and your own labels on similar-sounding tracks",
    "library": "only your own labels: what the tracks that sound alike are tagged",
    "text": "only the model's zero-shot reading of each value",
}


class AuditView(QWidget):
    """Widgets only; ``AuditController`` drives them."""

    def __init__(self, model: AuditTableModel, parent: QWidget | None = None) -> None:
        """Build the panel around ``model``."""
        super().__init__(parent)
        self.model = model
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.field = QComboBox()
        self.field.setEditable(True)
        self.field.addItems(["genre", "mood"])
        self.field.setToolTip("genre, mood, or any tag name your files carry")
        self.method = QComboBox()
        for name, help_text in METHOD_HELP.items():
            self.method.addItem(name, name)
            self.method.setItemData(self.method.count() - 1, help_text, 3)  # ToolTipRole
        self.run_button = QPushButton("Audit tags")
        self.run_button.setToolTip("Rank the tracks whose tag the audio disagrees with")
        for label, widget in (("Field:", self.field), ("Judged by:", self.method)):
            top.addWidget(QLabel(label))
            top.addWidget(widget)
        top.addStretch(1)
        top.addWidget(self.run_button)
        layout.addLayout(top)
        note = QLabel("Most suspect first. The audit never changes a tag: “Replace” writes the "
                      "suggestion (journaled, undoable in Auto-tag → Undo last run).")
        note.setWordWrap(True)
        layout.addWidget(note)
        self.table = QTableView()
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        for column, width in enumerate((320, 140, 60, 140, 60)):
            self.table.setColumnWidth(column, width)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        actions = QHBoxLayout()
        self.keep_button = QPushButton("Keep my tag")
        self.replace_button = QPushButton("Replace with suggestion")
        self.skip_button = QPushButton("Skip")
        for button in (self.keep_button, self.replace_button, self.skip_button):
            actions.addWidget(button)
        actions.addStretch(1)
        layout.addLayout(actions)
        self.status = QLabel()
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

    def current_row(self) -> int:
        """The selected row, or -1."""
        index = self.table.currentIndex()
        return index.row() if index.isValid() else -1

    def select_row(self, row: int) -> None:
        """Select ``row`` (clamped to the table)."""
        count = self.model.rowCount()
        if count:
            self.table.selectRow(min(max(row, 0), count - 1))
