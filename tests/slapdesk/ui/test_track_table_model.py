from __future__ import annotations

import sqlite3
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QTableView

from slapdesk.library.store import track_rows as queries
from slapdesk.ui.track_table_model import COLUMNS, TRACK_ID_ROLE, TrackTableModel

from .conftest import write_synthetic_library


def readonly(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def col(key: str) -> int:
    return [c.key for c in COLUMNS].index(key)


def test_model_passes_qt_model_tester(qtmodeltester, synthetic_library: Path) -> None:
    conn = readonly(synthetic_library)
    model = TrackTableModel(conn)
    model.set_ids(queries.all_track_ids(conn)[:200])
    qtmodeltester.check(model, force_py=True)
    qtmodeltester.check(model)
    model.sort(col("year"), Qt.SortOrder.DescendingOrder)
    model.set_ids([])


def test_cells_show_the_database_values(synthetic_library: Path) -> None:
    conn = readonly(synthetic_library)
    model = TrackTableModel(conn)
    model.set_ids([7, 8])
    assert model.rowCount() == 2
    assert model.data(model.index(0, col("title"))) == "Song 000007"
    assert model.data(model.index(0, col("artist"))) == "Delta"
    assert model.data(model.index(0, col("genre"))) == "rock"
    assert model.data(model.index(1, col("duration"))) == "1:08"
    assert model.data(model.index(1, 0), TRACK_ID_ROLE) == 8
    assert model.rowCount(model.index(0, 0)) == 0


def test_sort_goes_through_the_database(synthetic_library: Path) -> None:
    conn = readonly(synthetic_library)
    model = TrackTableModel(conn)
    model.set_ids([5, 1, 3, 2])
    model.sort(col("title"), Qt.SortOrder.AscendingOrder)
    assert model.ids == [1, 2, 3, 5]
    model.sort(col("year"), Qt.SortOrder.DescendingOrder)
    assert model.ids == [5, 3, 2, 1]


def test_scores_sort_in_memory(synthetic_library: Path) -> None:
    model = TrackTableModel(readonly(synthetic_library))
    model.set_ids([1, 2, 3], scores={1: 0.1, 2: 0.9, 3: 0.5},
                  labels={1: "weak", 2: "strong", 3: "good · tags"})
    model.sort(col("score"), Qt.SortOrder.DescendingOrder)
    assert model.ids == [2, 3, 1]
    assert model.data(model.index(0, col("score"))) == "strong"


def test_drag_gives_file_urls(synthetic_library: Path) -> None:
    model = TrackTableModel(readonly(synthetic_library))
    model.set_ids([3, 4])
    mime = model.mimeData([model.index(1, 0), model.index(0, 0), model.index(0, 2)])
    assert [u.toLocalFile() for u in mime.urls()] == ["/music/000003.flac", "/music/000004.flac"]


def test_100k_rows_scroll_without_reading_them_all(qtbot, tmp_path: Path) -> None:
    path = write_synthetic_library(tmp_path / "big.sqlite", 100_000)
    conn = readonly(path)
    model = TrackTableModel(conn)
    model.set_ids(queries.all_track_ids(conn, sort="title"))
    view = QTableView()
    view.setModel(model)
    view.resize(900, 600)
    qtbot.addWidget(view)
    view.show()
    # How long each jump takes is tests/bench/bench_track_table.py's business; here: what it reads.
    for row in range(0, 100_000, 9_973):
        view.scrollTo(model.index(row, 0))
        view.viewport().grab()  # paint the visible rows now
    assert model.rowCount() == 100_000
    assert len(model._cache) <= model.CACHE_ROWS
    assert model.data(model.index(99_999, 0), Qt.ItemDataRole.DisplayRole) == "Song 100000"
    assert not model.index(0, 0).parent().isValid()
    assert model.rowCount(QModelIndex()) == 100_000


def test_the_format_column_names_formats_for_people(make_window, music_folder: Path) -> None:
    window = make_window([str(music_folder)])
    column = next(i for i, c in enumerate(COLUMNS) if c.key == "format")
    shown = sorted(
        window.model.data(window.model.index(row, column)) for row in range(window.model.rowCount())
    )
    assert shown == [
        "AIFF", "FLAC", "M4A AAC", "M4A ALAC", "MP3", "Ogg Vorbis", "Opus", "WAV"
    ]
