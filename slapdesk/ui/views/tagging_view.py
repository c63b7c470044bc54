"""The auto-tag review panel's layout."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from slapdesk.ui.proposal_model import (
    CHANGE,
    FOLDER,
    FORMAT,
    SCORE,
    TRACK,
    ReviewFilter,
    ReviewModel,
)
from slapdesk.ui.views.runs_view import RunsView

POLICY_HELP = {
    "own-fields": "Write only SlapDesk's own fields (SLAPDESK_GENRE …); your tags stay as they are",
    "fill-empty": "Also fill the standard field, but only where a file has none",
    "merge": "Also add new values after the ones already in the standard field",
    "replace": "Also replace the standard field with the proposed values",
}
ALL_TERMS = "All terms"
ALL_FOLDERS = "All folders"


class _IndentTerms(QStyledItemDelegate):
    """Draws a term's check box and name indented under its track, as in a tree."""

    INDENT = 22

    def paint(self, painter, option: QStyleOptionViewItem, index) -> None:
        """Shift term rows right; track rows draw as usual."""
        if self.parent().model().term_at(index) is not None:
            option = QStyleOptionViewItem(option)
            option.rect.adjust(self.INDENT, 0, 0, 0)
        super().paint(painter, option, index)

    def editorEvent(self, event, model, option: QStyleOptionViewItem, index) -> bool:  # noqa: N802
        """Clicks on the check box land where it is drawn."""
        if model.term_at(index) is not None:
            option = QStyleOptionViewItem(option)
            option.rect.adjust(self.INDENT, 0, 0, 0)
        return super().editorEvent(event, model, option, index)


def _narrow_combo(letters: int) -> QComboBox:
    # Long terms or folder names must not widen the panel past a 1024 px window.
    box = QComboBox()
    box.setMinimumContentsLength(letters)
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    return box


def _score_box(value: float = 0.0) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(0.0, 1.0)
    box.setSingleStep(0.05)
    box.setDecimals(2)
    box.setValue(value)
    return box


class TaggingView(QWidget):
    """Widgets only; ``TaggingController`` drives them."""

    def __init__(self, model: ReviewModel, parent: QWidget | None = None) -> None:
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
        layout.addLayout(self._build_filters())
        self.runs = RunsView()
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self._build_table(model))
        split.addWidget(self.runs)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 0)
        split.setSizes([400, 110])
        split.setChildrenCollapsible(False)
        layout.addWidget(split, 1)
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
        self.threshold = _score_box()
        self.threshold.setToolTip("Terms scoring at least this start ticked")
        for label, widget in (("Vocabulary:", self.vocabulary), ("Write policy:", self.policy),
                              ("Tick from score:", self.threshold)):
            top.addWidget(QLabel(label))
            top.addWidget(widget)
        top.addStretch(1)
        self.propose_button = QPushButton("Propose tags")
        self.propose_button.setToolTip("Score every embedded track against the vocabulary")
        top.addWidget(self.propose_button)
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

    def _build_filters(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.filter_text = QLineEdit()
        self.filter_text.setPlaceholderText("Filter by file, folder, artist…")
        self.filter_text.setClearButtonEnabled(True)
        self.filter_text.setMinimumWidth(100)
        self.filter_term = _narrow_combo(7)
        self.filter_term.setToolTip("Show only this term")
        self.filter_term.addItem(ALL_TERMS)
        self.filter_score = _score_box()
        self.filter_score.setToolTip("Show only terms scoring at least this")
        self.filter_folder = _narrow_combo(8)
        self.filter_folder.setToolTip("Show only the tracks in this folder")
        self.filter_folder.addItem(ALL_FOLDERS)
        self.changes_only = QCheckBox("Changes only")
        self.changes_only.setToolTip("Hide terms the file already holds")
        row.addWidget(self.filter_text, 2)
        # The combo boxes name themselves ("All terms", "All folders"): no labels, less width.
        row.addWidget(self.filter_term)
        row.addWidget(QLabel("Score ≥"))
        row.addWidget(self.filter_score)
        row.addWidget(self.filter_folder, 1)
        row.addWidget(self.changes_only)
        return row

    def _build_table(self, model: ReviewModel) -> QTableView:
        self.table = QTableView()
        self.table.setModel(model)
        self.table.setItemDelegateForColumn(TRACK, _IndentTerms(self.table))
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(TRACK, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        for column, width in ((TRACK, 200), (SCORE, 44), (CHANGE, 260), (FORMAT, 50),
                              (FOLDER, 130)):
            self.table.setColumnWidth(column, width)
        # What a write changes and which file: those get the room a wider window gives.
        header.setSectionResizeMode(TRACK, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(CHANGE, QHeaderView.ResizeMode.Stretch)
        return self.table

    def _build_review_buttons(self) -> QHBoxLayout:
        bulk = QHBoxLayout()
        self.accept_threshold_button = QPushButton("Tick from score")
        self.accept_threshold_button.setToolTip("Tick every term scoring at least the score above")
        self.reject_all_button = QPushButton("Untick all")
        # "Accept every 'drums' above 0.6": one term, one score, across the whole library.
        self.term = _narrow_combo(7)
        self.term_score = _score_box(0.5)
        self.tick_term_button = QPushButton("Tick")
        self.untick_term_button = QPushButton("Untick")
        for widget in (self.accept_threshold_button, self.reject_all_button):
            bulk.addWidget(widget)
        bulk.addStretch(1)
        for widget in (QLabel("Every"), self.term, QLabel("from"), self.term_score,
                       self.tick_term_button, self.untick_term_button):
            bulk.addWidget(widget)
        return bulk

    def _build_write_buttons(self) -> QHBoxLayout:
        # Writing and undoing get a row of their own: one row of six buttons would make the
        # window wider than a 1024 px screen.
        write = QHBoxLayout()
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Play the selected track (or double-click it)")
        self.undo_button = QPushButton("Undo last run")
        self.apply_button = QPushButton("Apply")
        self.apply_button.setDefault(True)
        write.addWidget(self.play_button)
        write.addStretch(1)
        write.addWidget(self.undo_button)
        write.addWidget(self.apply_button)
        return write

    def review_filter(self) -> ReviewFilter:
        """The filter the widgets describe."""
        term = self.filter_term.currentData() or ""
        folder = self.filter_folder.currentData() or ""
        return ReviewFilter(term=str(term),
                            min_score=self.filter_score.value(), folder=str(folder),
                            changes_only=self.changes_only.isChecked(),
                            text=self.filter_text.text().strip())

    def set_choices(self, terms: list[str], folders: list[tuple[str, str]]) -> None:
        """Offer these terms and (folder, shown name) pairs in the filters and the term control."""
        for box, first, items in ((self.filter_term, ALL_TERMS, [(t, t) for t in terms]),
                                  (self.filter_folder, ALL_FOLDERS, folders)):
            current = box.currentData()
            box.blockSignals(True)
            box.clear()
            box.addItem(first)
            for data, text in items:
                box.addItem(text, data)
                box.setItemData(box.count() - 1, data, Qt.ItemDataRole.ToolTipRole)
            box.setCurrentIndex(max(box.findData(current), 0) if current else 0)
            box.blockSignals(False)
        current = self.term.currentText()
        self.term.clear()
        self.term.addItems(terms)
        self.term.setCurrentIndex(max(self.term.findText(current), 0))

    def selected_track_ids(self) -> list[int]:
        """The tracks of the selected rows (a term row counts for its track), in order."""
        ids: list[int] = []
        for index in self.table.selectionModel().selectedRows():
            track = self.model.track_at(index)
            if track is not None and track.track_id not in ids:
                ids.append(track.track_id)
        return ids

    def show_scope(self, tracks: int | None) -> None:
        """Say that only ``tracks`` selected tracks are reviewed (None: the whole library)."""
        self.scope_bar.setVisible(tracks is not None)
        if tracks is not None:
            self.scope_label.setText(f"Reviewing the {tracks:,} selected tracks only.")

    def _show_policy_help(self, _index: int = 0) -> None:
        self.policy_help.setText(POLICY_HELP.get(str(self.policy.currentData()), ""))
