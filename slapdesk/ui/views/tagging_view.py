"""The auto-tag review panel's layout."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from slapdesk.ui.proposal_model import ProposalTableModel

POLICY_HELP = {
    "own-fields": "Write only SlapDesk's own fields (SLAPDESK_GENRE …); your tags stay as they are",
    "fill-empty": "Also fill the standard field, but only where a file has none",
    "merge": "Also add new values after the ones already in the standard field",
    "replace": "Also replace the standard field with the proposed values",
}


class TaggingView(QWidget):
    """Widgets only; ``TaggingController`` drives them."""

    def __init__(self, model: ProposalTableModel, parent: QWidget | None = None) -> None:
        """Build the panel around ``model``."""
        super().__init__(parent)
        self.model = model
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._build_choices())
        self.policy_help = QLabel()
        self.policy_help.setWordWrap(True)
        layout.addWidget(self.policy_help)
        layout.addWidget(self._build_scope_bar())
        layout.addWidget(self._build_table(model), 1)
        layout.addLayout(self._build_review_buttons())
        layout.addLayout(self._build_write_buttons())
        self.status = QLabel()
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.policy.currentIndexChanged.connect(self._show_policy_help)
        self._show_policy_help()

    def _build_choices(self) -> QHBoxLayout:
        top = QHBoxLayout()
        self.vocabulary = QComboBox()
        self.policy = QComboBox()
        for name, help_text in POLICY_HELP.items():
            self.policy.addItem(name, name)
            self.policy.setItemData(self.policy.count() - 1, help_text, 3)  # ToolTipRole
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(2)
        for label, widget in (("Vocabulary:", self.vocabulary), ("Write policy:", self.policy),
                              ("Accept from score:", self.threshold)):
            top.addWidget(QLabel(label))
            top.addWidget(widget)
        top.addStretch(1)
        return top

    def _build_scope_bar(self) -> QWidget:
        # Shown only while the review is limited to a selection (from the map): the user must
        # see that other tracks' proposals are hidden, and get them back in one click.
        self.scope_bar = QWidget()
        scope = QHBoxLayout(self.scope_bar)
        scope.setContentsMargins(0, 0, 0, 0)
        self.scope_label = QLabel()
        self.show_all_button = QPushButton("Show all tracks")
        scope.addWidget(self.scope_label)
        scope.addWidget(self.show_all_button)
        scope.addStretch(1)
        self.scope_bar.hide()
        return self.scope_bar

    def _build_table(self, model: ProposalTableModel) -> QTableView:
        self.table = QTableView()
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        for column, width in enumerate((60, 320, 200, 160, 70)):
            self.table.setColumnWidth(column, width)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        return self.table

    def _build_review_buttons(self) -> QHBoxLayout:
        bulk = QHBoxLayout()
        self.propose_button = QPushButton("Propose tags")
        self.propose_button.setToolTip("Score every embedded track against the vocabulary")
        self.accept_threshold_button = QPushButton("Accept all above threshold")
        self.accept_selected_button = QPushButton("Accept selected")
        self.reject_selected_button = QPushButton("Reject selected")
        self.reject_all_button = QPushButton("Reject all")
        for button in (self.propose_button, self.accept_threshold_button,
                       self.accept_selected_button, self.reject_selected_button,
                       self.reject_all_button):
            bulk.addWidget(button)
        bulk.addStretch(1)
        return bulk

    def _build_write_buttons(self) -> QHBoxLayout:
        # Writing and undoing get a row of their own: one row of six buttons would make the
        # window wider than a 1024 px screen.
        write = QHBoxLayout()
        self.undo_button = QPushButton("Undo last run")
        self.apply_button = QPushButton("Apply")
        self.apply_button.setDefault(True)
        write.addStretch(1)
        write.addWidget(self.undo_button)
        write.addWidget(self.apply_button)
        return write

    def selected_rows(self) -> list[int]:
        """Indices of the selected table rows."""
        return sorted({i.row() for i in self.table.selectionModel().selectedRows()})

    def show_scope(self, tracks: int | None) -> None:
        """Say that only ``tracks`` selected tracks are reviewed (None: the whole library)."""
        self.scope_bar.setVisible(tracks is not None)
        if tracks is not None:
            self.scope_label.setText(f"Reviewing the {tracks:,} selected tracks only.")

    def _show_policy_help(self, _index: int = 0) -> None:
        self.policy_help.setText(POLICY_HELP.get(str(self.policy.currentData()), ""))
