"""The auto-tag review table: one row per proposed tag, with a check box to accept it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from slapdesk.library.store.track_rows import ProposalRow

_Index = QModelIndex | QPersistentModelIndex
HEADERS = ("Accept", "Track", "Current", "Proposed", "Score")


class ProposalTableModel(QAbstractTableModel):
    """Rows are proposals; column 0 is checkable (accepted or not)."""

    def __init__(self, parent=None) -> None:
        """Create an empty model."""
        super().__init__(parent)
        self._rows: list[ProposalRow] = []
        self._accepted: list[bool] = []
        # What the user decided per (track, tag): a reload (after Apply, a new model run)
        # must not tick again a tag they unticked, or a second Apply would write it.
        self._decided: dict[tuple[int, str], bool] = {}

    def set_proposals(self, rows: Sequence[ProposalRow], threshold: float) -> None:
        """Show proposals: the user's choices stand, the others start accepted at >= threshold."""
        self.beginResetModel()
        self._rows = list(rows)
        self._accepted = [
            self._decided.get((r.track_id, r.tag), r.score >= threshold) for r in self._rows
        ]
        self.endResetModel()

    @property
    def rows(self) -> list[ProposalRow]:
        """Every proposal shown."""
        return list(self._rows)

    def accepted(self) -> list[ProposalRow]:
        """The accepted proposals."""
        return [r for r, ok in zip(self._rows, self._accepted, strict=True) if ok]

    def set_accepted(self, rows: Iterable[int], accepted: bool) -> None:
        """Accept or reject rows (by index)."""
        changed = [r for r in rows if 0 <= r < len(self._rows) and self._accepted[r] != accepted]
        for row in changed:
            self._accepted[row] = accepted
            self._decided[(self._rows[row].track_id, self._rows[row].tag)] = accepted
        if changed:
            self.dataChanged.emit(self.index(min(changed), 0), self.index(max(changed), 0),
                                  [Qt.ItemDataRole.CheckStateRole])

    def set_all(self, accepted: bool, min_score: float | None = None) -> None:
        """Accept or reject every row (optionally only rows scoring >= ``min_score``)."""
        rows = [i for i, r in enumerate(self._rows) if min_score is None or r.score >= min_score]
        self.set_accepted(rows, accepted)

    # ---- Qt model API ------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        """Number of proposals."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        """Number of columns."""
        return 0 if parent.isValid() else len(HEADERS)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        """Cell text, the check state of column 0, a right-aligned score."""
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row, column = self._rows[index.row()], index.column()
        if role == Qt.ItemDataRole.CheckStateRole and column == 0:
            return (Qt.CheckState.Checked if self._accepted[index.row()]
                    else Qt.CheckState.Unchecked)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 4:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.path
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return ("", row.label, ", ".join(row.current) or "—", row.tag,
                f"{row.score:.2f}")[column]

    def setData(self, index: _Index, value: object,  # noqa: N802
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        """Toggle acceptance from the check box."""
        if role != Qt.ItemDataRole.CheckStateRole or index.column() != 0 or not index.isValid():
            return False
        checked = value in (Qt.CheckState.Checked, Qt.CheckState.Checked.value, 2, True)
        self.set_accepted([index.row()], checked)
        return True

    def flags(self, index: _Index) -> Qt.ItemFlag:
        """Rows are selectable; column 0 is checkable."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == 0:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> object:
        """Column titles."""
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return HEADERS[section] if 0 <= section < len(HEADERS) else None
        return None
