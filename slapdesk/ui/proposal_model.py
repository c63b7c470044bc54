"""The auto-tag review: each track as a row, its proposed terms below it with check boxes.

A library of 10,000 tracks with five proposals each is 60,000 rows: filtering and sorting
happen here, over plain Python lists, into one flat list of rows (a track, then its terms),
so the table view only ever asks for the rows it paints. (A tree view lays out every expanded
row through Python first, and a ``QSortFilterProxyModel`` calls back into Python per row.)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QApplication, QStyle

from slapdesk.library.autotag.review import (
    AcceptedTag,
    ReviewTerm,
    ReviewTrack,
    already_has,
    preview,
)
from slapdesk.ui.review_filter import ReviewFilter, bulk, natural

_Index = QModelIndex | QPersistentModelIndex
HEADERS = ("Track / term", "Score", "Current → new", "Format", "Folder")
TRACK, SCORE, CHANGE, FORMAT, FOLDER = range(5)
_NO_VALUE = "—"
_GREY = QBrush(QColor("#777"))
_TRACK_BACKGROUND = QBrush(QColor("#eef2f7"))
_BOLD = QFont()
_BOLD.setBold(True)
# Computed once: combining Qt flags in Python costs more than the rest of flags().
_PLAIN = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_CHECKABLE = _PLAIN | Qt.ItemFlag.ItemIsUserCheckable
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_STRIDE = 1 << 12  # rows encode (track position, term index + 1); a track has fewer terms
_STATES = (Qt.CheckState.Unchecked, Qt.CheckState.PartiallyChecked, Qt.CheckState.Checked)


def _join(values: Sequence[str]) -> str:
    return "; ".join(values) or _NO_VALUE


class ReviewModel(QAbstractTableModel):
    """Rows are (track, term) pairs in display order; a track's own row has no term."""

    def __init__(self, parent=None) -> None:
        """Create an empty review."""
        super().__init__(parent)
        self.vocab = "genre"
        self.policy = "own-fields"
        self._tracks: list[ReviewTrack] = []
        self._ticks: list[list[bool]] = []  # per track, per term: ticked or not
        self._position: dict[int, int] = {}  # track id -> position in _tracks
        # What the user decided per (track, term): a reload (after Apply, a new model run)
        # must not tick again a tag they unticked, or a second Apply would write it.
        self._decided: dict[tuple[int, str], bool] = {}
        self._filter = ReviewFilter()
        self._sort: tuple[int, bool] = (TRACK, False)  # column, descending
        # Each row as one int, position * _STRIDE + term index + 1 (0: the track's own row):
        # 60,000 tuples would each count towards a garbage collection of the whole heap.
        self._rows: list[int] = []
        self._best: dict[int, float | None] = {}  # per shown track: its best shown score
        self._names: list[tuple] = []  # per track: its file name as a natural sort key
        self.root = ""  # the folder every track of the review is under
        self._shown_count = 0
        self._problems = 0

    # ---- content -----------------------------------------------------------------------------
    def set_tracks(self, tracks: Sequence[ReviewTrack], threshold: float) -> None:
        """Show a review: the user's choices stand, other terms start ticked at >= threshold."""
        self.beginResetModel()
        with bulk():
            self._fill(tracks, threshold)
        self.endResetModel()

    def _fill(self, tracks: Sequence[ReviewTrack], threshold: float) -> None:
        self._tracks = list(tracks)
        decided = self._decided
        self._ticks = [
            [decided.get((t.track_id, term.tag), term.score >= threshold) for term in t.terms]
            if decided else [term.score >= threshold for term in t.terms]
            for t in self._tracks
        ]
        self._position = {t.track_id: i for i, t in enumerate(self._tracks)}
        self._names = [natural(t.name) for t in self._tracks]
        self._problems = sum(1 for t in self._tracks if t.problem)
        folders = {t.folder for t in self._tracks}
        # Folders are shown below the library's common root: the part that tells them apart.
        self.root = os.path.commonpath(list(folders)) if folders else ""
        self._rebuild()

    def set_policy(self, vocab: str, policy: str) -> None:
        """The field names and the current → new values follow the write policy."""
        self.vocab, self.policy = vocab, policy
        if self._filter.changes_only:
            self._refilter()
        else:
            self._repaint()

    def set_filter(self, review_filter: ReviewFilter) -> None:
        """Show only what ``review_filter`` lets through."""
        self._filter = review_filter
        self._refilter()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Order the tracks by a column (terms stay strongest first)."""
        self._sort = (column, order == Qt.SortOrder.DescendingOrder)
        self._refilter()

    def _refilter(self) -> None:
        self.beginResetModel()
        with bulk():
            self._rebuild()
        self.endResetModel()

    def _rebuild(self) -> None:
        rule = self._filter
        words = rule.text.casefold().split()
        folder = rule.folder.rstrip("/\\")
        filtered = bool(rule.term or rule.min_score > 0 or rule.changes_only)
        shown: list[tuple[int, list[int]]] = []
        for position, track in enumerate(self._tracks):
            if folder and not (track.folder == folder or track.folder.startswith(folder + os.sep)):
                continue
            if words:
                haystack = f"{track.path} {track.label}".casefold()
                if not all(w in haystack for w in words):
                    continue
            terms = ([i for i, term in enumerate(track.terms) if self._term_shown(track, term)]
                     if filtered else list(range(len(track.terms))))
            if terms or not (filtered or track.terms):
                shown.append((position, terms))  # a problem track shows until a filter asks
        column, descending = self._sort
        shown.sort(key=lambda item: self._sort_key(item, column), reverse=descending)
        # One flat list of rows: a track, then its shown terms. A table view asks only for the
        # rows it paints; a tree would lay out every expanded row through Python first.
        rows: list[int] = []
        for position, terms in shown:
            base = position * _STRIDE
            rows.append(base)
            rows.extend(base + i + 1 for i in terms)
        self._rows = rows
        self._shown_count = len(shown)
        self._best = {position: max((self._tracks[position].terms[i].score for i in terms),
                                    default=None) for position, terms in shown}

    def _term_shown(self, track: ReviewTrack, term: ReviewTerm) -> bool:
        rule = self._filter
        return ((not rule.term or term.tag == rule.term) and term.score >= rule.min_score
                and not (rule.changes_only
                         and already_has(track, self.vocab, term.tag, self.policy)))

    def _sort_key(self, item: tuple[int, list[int]], column: int) -> tuple:
        track = self._tracks[item[0]]
        if column == SCORE:
            return (max((track.terms[i].score for i in item[1]), default=-1.0), track.path)
        if column == FORMAT:
            return (track.format, track.path)
        if column == FOLDER:
            return (track.folder.casefold(), self._names[item[0]])
        if column == CHANGE:
            return (sum(self._ticks[item[0]]), track.path)
        return (self._names[item[0]], track.path)

    # ---- decisions ---------------------------------------------------------------------------
    @property
    def tracks(self) -> list[ReviewTrack]:
        """Every track of the review, shown or filtered out."""
        return list(self._tracks)

    def shown_tracks(self) -> list[ReviewTrack]:
        """The tracks shown, in display order."""
        return [self._tracks[code // _STRIDE] for code in self._rows if not code % _STRIDE]

    def track_row(self, track_id: int) -> int:
        """The row of a shown track (-1 when filtered out)."""
        position = self._position.get(track_id, -1)
        return next((row for row, code in enumerate(self._rows) if code == position * _STRIDE),
                    -1)

    def terms(self) -> list[str]:
        """Every proposed term, alphabetically."""
        return sorted({term.tag for track in self._tracks for term in track.terms})

    def folders(self) -> list[str]:
        """Every folder that holds a track of the review."""
        return sorted({track.folder for track in self._tracks})

    def short_folder(self, folder: str) -> str:
        """A folder as shown: relative to the common root (the full path is the tooltip)."""
        if not self.root:
            return folder
        inside = os.path.relpath(folder, self.root)
        return os.path.basename(folder) or folder if inside == "." else inside

    def accepted(self) -> list[AcceptedTag]:
        """Every ticked term of every track (filtered out or not), strongest first per track."""
        return [
            AcceptedTag(track.track_id, track.path, term.tag, term.score, term.model_id)
            for track, ticks in zip(self._tracks, self._ticks, strict=True)
            for term, ok in zip(track.terms, ticks, strict=True)
            if ok
        ]

    def counts(self) -> dict[str, int]:
        """Tracks, shown, problem tracks, ticked terms and files with one: cheap at 10,000."""
        ticked = [sum(ticks) for ticks in self._ticks]
        return {"tracks": len(self._tracks), "shown": self._shown_count,
                "problems": self._problems, "ticked": sum(ticked),
                "files": len(ticked) - ticked.count(0)}

    def decide(self, where, accepted: bool) -> int:
        """Tick or untick every term for which ``where(track, term)`` holds; how many changed."""
        changed = 0
        for position, track in enumerate(self._tracks):
            ticks = self._ticks[position]
            for i, term in enumerate(track.terms):
                if where(track, term):
                    self._decided[(track.track_id, term.tag)] = accepted
                    if ticks[i] != accepted:
                        ticks[i] = accepted
                        changed += 1
        if changed:
            self._repaint()
        return changed

    def decide_term(self, tag: str, min_score: float, accepted: bool) -> int:
        """Tick or untick ``tag`` on every track where it scores at least ``min_score``."""
        return self.decide(lambda _t, term: term.tag == tag and term.score >= min_score, accepted)

    def decide_all(self, accepted: bool, min_score: float | None = None) -> int:
        """Tick or untick every term (optionally only those scoring >= ``min_score``)."""
        return self.decide(lambda _t, term: min_score is None or term.score >= min_score,
                           accepted)

    def decide_tracks(self, track_ids: Iterable[int], accepted: bool,
                      tag: str | None = None) -> int:
        """Tick or untick every term (or just ``tag``) of these tracks."""
        wanted = set(track_ids)
        return self.decide(lambda t, term: t.track_id in wanted and tag in (None, term.tag),
                           accepted)

    def _repaint(self) -> None:
        # Rows neither move nor change in number: one signal, the view repaints what it shows.
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, CHANGE))

    def track_at(self, index: _Index) -> ReviewTrack | None:
        """The track of a row (a term's row gives its track)."""
        row = index.row() if index.isValid() else -1
        return self._tracks[self._rows[row] // _STRIDE] if 0 <= row < len(self._rows) else None

    def term_at(self, index: _Index) -> ReviewTerm | None:
        """The term of a term's row (None for a track's row)."""
        row = index.row() if index.isValid() else -1
        if not 0 <= row < len(self._rows) or not self._rows[row] % _STRIDE:
            return None
        position, term = divmod(self._rows[row], _STRIDE)
        return self._tracks[position].terms[term - 1]

    def preview(self, track: ReviewTrack) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
        """What Apply would write into this track's fields: (field, old, new)."""
        ticks = self._ticks[self._position[track.track_id]]
        ticked = [t.tag for t, ok in zip(track.terms, ticks, strict=True) if ok]
        return preview(track, self.vocab, ticked, self.policy) if ticked else []

    # ---- Qt model API ------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        """Tracks and their shown terms."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        """Number of columns."""
        return 0 if parent.isValid() else len(HEADERS)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        """Texts, check states, the problem mark, the look of a track's row."""
        row = index.row()
        if not 0 <= row < len(self._rows):
            return None
        position, term = divmod(self._rows[row], _STRIDE)
        track = self._tracks[position]
        if term:
            return self._term_data(track, position, term - 1, index.column(), role)
        return self._track_data(track, position, index.column(), role)

    def _track_data(self, track: ReviewTrack, position: int, column: int, role: int) -> object:
        if role == Qt.ItemDataRole.DisplayRole:
            return self._track_text(track, position, column)
        if role == Qt.ItemDataRole.CheckStateRole and column == TRACK and track.terms:
            ticked = sum(self._ticks[position])
            return _STATES[2 if ticked == len(track.terms) else 1 if ticked else 0]
        if role == Qt.ItemDataRole.BackgroundRole:
            return _TRACK_BACKGROUND
        if role == Qt.ItemDataRole.FontRole and column == TRACK:
            return _BOLD
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._track_tooltip(track)
        if track.problem and role == Qt.ItemDataRole.DecorationRole and column == TRACK:
            return QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        if track.problem and role == Qt.ItemDataRole.ForegroundRole:
            return _GREY
        if role == Qt.ItemDataRole.TextAlignmentRole and column == SCORE:
            return _RIGHT
        return None

    def _track_text(self, track: ReviewTrack, position: int, column: int) -> str:
        if column == TRACK:
            return track.name
        if column == SCORE:
            best = self._best.get(position)
            return "" if best is None else f"{best:.2f}"
        if column == FORMAT:
            return track.format
        if column == FOLDER:
            return self.short_folder(track.folder)
        if track.problem:
            return f"Not tagged: {track.problem}"
        changes = self.preview(track)
        if not changes:
            return "no change"
        return "   ".join(f"{field}: {_join(old)} → {_join(new)}" for field, old, new in changes)

    def _track_tooltip(self, track: ReviewTrack) -> str:
        lines = [track.path]
        if track.label and track.label != track.name:
            lines.append(track.label)
        for field, old, new in self.preview(track):
            lines.append(f"{field}: {_join(old)} → {_join(new)}")
        if track.problem:
            lines.append(f"Not tagged: {track.problem}")
        return "\n".join(lines)

    def _term_data(self, track: ReviewTrack, position: int, which: int, column: int,
                   role: int) -> object:
        term = track.terms[which]
        if role == Qt.ItemDataRole.DisplayRole:
            if column == TRACK:
                return term.tag
            if column == SCORE:
                return f"{term.score:.2f}"
            if column == CHANGE:
                held = already_has(track, self.vocab, term.tag, self.policy)
                return "already in the file" if held else "new"
            return ""
        if role == Qt.ItemDataRole.CheckStateRole and column == TRACK:
            return _STATES[2 if self._ticks[position][which] else 0]
        if role == Qt.ItemDataRole.TextAlignmentRole and column == SCORE:
            return _RIGHT
        if role == Qt.ItemDataRole.ToolTipRole and column == TRACK:
            return f"{term.tag} for {track.name} (score {term.score:.2f})"
        return None

    def setData(self, index: _Index, value: object,  # noqa: N802
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        """The check box of a term ticks it; a track's ticks all its terms."""
        track = self.track_at(index)
        if role != Qt.ItemDataRole.CheckStateRole or index.column() != TRACK or track is None:
            return False
        checked = value in (Qt.CheckState.Checked, Qt.CheckState.Checked.value, 2, True)
        term = self.term_at(index)
        self.decide_tracks([track.track_id], checked, term.tag if term is not None else None)
        return True

    def flags(self, index: _Index) -> Qt.ItemFlag:
        """Rows are selectable; the first column of a term, or a track with terms, is checkable."""
        row = index.row()
        if not 0 <= row < len(self._rows):
            return Qt.ItemFlag.NoItemFlags
        if index.column() != TRACK:
            return _PLAIN
        position, term = divmod(self._rows[row], _STRIDE)
        return _CHECKABLE if term or self._tracks[position].terms else _PLAIN

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> object:
        """Column titles."""
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return HEADERS[section] if 0 <= section < len(HEADERS) else None
        return None
