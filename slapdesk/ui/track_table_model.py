"""The results table: a ``QAbstractTableModel`` over a list of track ids with a lazy row cache.

Only the ids live in memory; rows are read from the UI's read-only connection a page at a time,
when the view first asks for them (Anki's browser ``DataModel``). Sorting asks the database.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import (
    QAbstractTableModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QUrl,
)

from slapdesk.library.store import track_rows as queries
from slapdesk.library.store.database import Reader, ReadError
from slapdesk.library.store.track_rows import TrackRow
from slapdesk.library.tags.formats import display_name
from slapdesk.library.tags.reasons import plain_reason

_Index = QModelIndex | QPersistentModelIndex
TRACK_ID_ROLE = Qt.ItemDataRole.UserRole + 1
TRACK_IDS_MIME = "application/x-slapdesk-track-ids"


@dataclass(frozen=True)
class Column:
    """One table column."""

    key: str  # sort key understood by ``queries.SORT_KEYS`` ("score" is sorted in memory)
    title: str  # header text


COLUMNS: tuple[Column, ...] = (
    Column("title", "Title"),
    Column("artist", "Artist"),
    Column("album", "Album"),
    Column("genre", "Genre"),
    Column("year", "Year"),
    Column("duration", "Length"),
    Column("score", "Match"),
    Column("format", "Format"),
    Column("path", "File"),
)


def format_duration(seconds: float | None) -> str:
    """``m:ss`` (or ``h:mm:ss``) for a duration in seconds; empty when unknown."""
    if seconds is None:
        return ""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _cell(row: TrackRow, key: str, label: str) -> str:
    match key:
        case "title":
            return row.display_title
        case "artist":
            return row.artist
        case "album":
            return row.album
        case "genre":
            return ", ".join(row.genre)
        case "year":
            return str(row.year) if row.year else ""
        case "duration":
            return format_duration(row.duration)
        case "format":
            return display_name(row.format, row.codec)
        case "score":
            return label
        case "path":
            return row.path
    return ""


class TrackTableModel(QAbstractTableModel):
    """Rows are track ids; cells are read lazily, a page at a time, from a read-only DB."""

    PAGE = 256  # rows read per cache miss
    CACHE_ROWS = 4096  # rows kept; least recently read pages are dropped first

    def __init__(self, conn: Reader | None = None, parent=None) -> None:
        """Create an empty model reading from ``conn`` (set later with ``set_connection``)."""
        super().__init__(parent)
        self._conn = conn
        self._ids: list[int] = []
        self._scores: dict[int, float] = {}
        self._labels: dict[int, str] = {}
        self._cache: OrderedDict[int, TrackRow] = OrderedDict()
        self._sort: tuple[str, bool] | None = None

    # ---- content -----------------------------------------------------------------------------
    def set_connection(self, conn: Reader | None) -> None:
        """Read from another connection (e.g. once the library exists)."""
        self.beginResetModel()
        self._conn = conn
        self._cache.clear()
        self.endResetModel()

    def set_ids(self, ids: Sequence[int], scores: dict[int, float] | None = None,
                labels: dict[int, str] | None = None) -> None:
        """Show these tracks, in this order, with optional match scores and labels.

        The scores sort the Match column; the labels are what it shows ("strong", "tags",
        ...; see ``slapdesk.library.search.match``).
        """
        self.beginResetModel()
        self._ids = list(ids)
        self._scores = dict(scores or {})
        self._labels = dict(labels or {})
        self._cache.clear()
        self.endResetModel()

    def refresh(self) -> None:
        """Forget cached rows (the library changed) and repaint what is visible."""
        self._cache.clear()
        if self._ids:
            last = self.index(len(self._ids) - 1, len(COLUMNS) - 1)
            # Roles passed explicitly: emitting with the default argument crashed PySide 6.12
            # once ("deallocating None") after many emits while a worker thread ran.
            self.dataChanged.emit(self.index(0, 0), last, [Qt.ItemDataRole.DisplayRole,
                                                           Qt.ItemDataRole.ToolTipRole])

    @property
    def ids(self) -> list[int]:
        """The track ids, in display order."""
        return list(self._ids)

    @property
    def scores(self) -> dict[int, float]:
        """Match score per track id, when the rows came from a search."""
        return dict(self._scores)

    def track_id(self, row: int) -> int:
        """The track id shown in ``row``."""
        return self._ids[row]

    def row_of(self, track_id: int) -> int:
        """The row showing ``track_id``, or -1."""
        try:
            return self._ids.index(track_id)
        except ValueError:
            return -1

    def track(self, row: int) -> TrackRow | None:
        """The row's track, read through the cache."""
        if not 0 <= row < len(self._ids):
            return None
        track_id = self._ids[row]
        cached = self._cache.get(track_id)
        if cached is not None:
            self._cache.move_to_end(track_id)
            return cached
        self._load_page(row)
        return self._cache.get(track_id)

    def _load_page(self, row: int) -> None:
        if self._conn is None:
            return
        start = max(0, row - self.PAGE // 4)  # views scroll both ways: read a little behind
        page = [i for i in self._ids[start : start + self.PAGE] if i not in self._cache]
        try:
            self._cache.update(queries.fetch_rows(self._conn, page))
        except ReadError:
            return  # a busy or vanished library shows blank cells, never an exception in paint
        while len(self._cache) > self.CACHE_ROWS:
            self._cache.popitem(last=False)

    # ---- Qt model API ------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        """Number of tracks (zero under any parent: this is a flat table)."""
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        """Number of columns."""
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        """Cell text, tooltip, alignment, or the track id (``TRACK_ID_ROLE``)."""
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        track_id = self._ids[index.row()]
        if role == TRACK_ID_ROLE:
            return track_id
        key = COLUMNS[index.column()].key
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if key in {"year", "duration", "score"}:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        row = self.track(index.row())
        if row is None:
            return ""
        if role == Qt.ItemDataRole.ToolTipRole:
            return plain_reason(row.error) or row.path
        return _cell(row, key, self._labels.get(track_id, ""))

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> object:
        """Column titles; row numbers down the side."""
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section].title if 0 <= section < len(COLUMNS) else None
        return str(section + 1)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        """Rows can be selected and dragged out (as files)."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsDragEnabled)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Reorder the ids by a column: the database sorts; scores sort in memory."""
        if not 0 <= column < len(COLUMNS) or not self._ids:
            return
        key = COLUMNS[column].key
        descending = order == Qt.SortOrder.DescendingOrder
        self.layoutAboutToBeChanged.emit()
        old_persistent = self.persistentIndexList()
        old_ids = [self._ids[i.row()] if i.isValid() else None for i in old_persistent]
        if key == "score":
            self._ids.sort(key=lambda i: self._scores.get(i, float("-inf")), reverse=descending)
        elif self._conn is not None:
            self._ids = queries.sort_ids(self._conn, self._ids, key, descending)
        new_rows = {track_id: row for row, track_id in enumerate(self._ids)}
        for index, track_id in zip(old_persistent, old_ids, strict=True):
            if track_id is None:
                continue
            self.changePersistentIndex(index, self.index(new_rows[track_id], index.column()))
        self._sort = (key, descending)
        self.layoutChanged.emit()

    def mimeTypes(self) -> list[str]:  # noqa: N802
        """Dragged rows become file URLs (for file managers and players) plus our ids."""
        return ["text/uri-list", TRACK_IDS_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:  # noqa: N802
        """File URLs of the dragged tracks, in row order, each once."""
        rows = sorted({i.row() for i in indexes if i.isValid()})
        tracks = [t for t in (self.track(r) for r in rows) if t is not None]
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(os.path.abspath(t.path)) for t in tracks])
        payload = ",".join(str(t.id) for t in tracks).encode()
        mime.setData(TRACK_IDS_MIME, QByteArray(payload))
        return mime
