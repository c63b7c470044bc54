from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QImage, QPolygonF

from slapdesk.library.store import preferences
from slapdesk.library.store import track_rows as queries
from slapdesk.ui import playlist_actions
from slapdesk.ui.tasks import TaskRunner
from slapdesk.ui.track_table_model import COLUMNS


def titles(window) -> list[str]:
    model = window.model
    return [model.track(row).title for row in range(model.rowCount())]


def test_empty_library_shows_the_welcome_page(make_window, tmp_path: Path) -> None:
    window = make_window()
    assert window.windowTitle() == "SlapDesk"
    assert window.stack.currentWidget() is window.welcome
    assert "slapdesk demo" in window.welcome.demo_hint.text()
    assert window.welcome.demo_hint.isVisible()
    assert not window.welcome.start_button.isEnabled()
    window.welcome.add_folder(str(tmp_path))
    assert window.welcome.start_button.isEnabled()
    assert window.messages.text == ""
    assert not window.grab().isNull()


def test_welcome_start_scans_and_shows_the_library(make_window, music_folder: Path) -> None:
    window = make_window()
    window.welcome.add_folder(str(music_folder))
    window.welcome.start_button.click()
    assert window.stack.currentWidget() is window.splitter
    assert window.model.rowCount() == 8
    assert window.status_label.text() == "Scan: 8 added"
    assert window.sidebar.entries("folder") == [("music", str(music_folder))]
    assert window.ctx.settings.value.music_folders == (str(music_folder),)
    assert window.ctx.settings.value == type(window.ctx.settings.value)(
        music_folders=(str(music_folder),))


def test_command_line_folders_are_scanned_at_start(make_window, music_folder: Path) -> None:
    window = make_window([str(music_folder)])
    assert window.model.rowCount() == 8
    assert sorted(titles(window))[0] == "Tone aiff"


def test_search_puts_the_planted_best_match_first(make_window, planted_folder: Path) -> None:
    window = make_window([str(planted_folder)])
    assert window.model.rowCount() == 10
    window.library_view.search.setText("rainy evening guitar")
    window.search.run_now("rainy evening guitar")
    assert titles(window)[0] == "Rainy Evening Guitar"
    window.search.run_now("evening")
    assert sorted(titles(window)) == ["Evening News", "Rainy Evening Guitar"]
    window.search.run_now("")
    assert window.model.rowCount() == 10


def test_typing_is_debounced_into_one_search(make_window, planted_folder: Path, qtbot) -> None:
    window = make_window([str(planted_folder)])
    started = []
    window.ctx.runner.task_done.connect(lambda *_: started.append(1))
    for text in ("r", "ra", "rai", "rainy"):
        window.library_view.search.setText(text)
        window.library_view.query_edited.emit(text)
    assert started == []
    qtbot.waitUntil(lambda: len(started) == 1, timeout=3000)
    assert titles(window) == ["Rainy Evening Guitar"]


def test_details_show_tags_and_model_scores(make_window, music_folder: Path) -> None:
    window = make_window([str(music_folder)])
    track_id = window.model.track_id(0)
    with window.ctx.database.transaction() as conn:
        conn.executemany(
            "INSERT INTO tag_proposals (track_id, model_id, vocab, tag, score) VALUES (?,?,?,?,?)",
            [(track_id, "m1", "genre", "jazz", 0.7), (track_id, "m1", "genre", "rock", 0.2)],
        )
    window.library_view.select_row(0)
    assert window.details.track_id == track_id
    row = window.model.track(0)
    assert window.details.title.text().startswith(f"<h3>{row.title}")
    assert window.details._values["genre"].text() == "Rock, Jazz"
    assert window.details._bars is not None
    assert list(window.details._bars.opts["width"]) == [0.7, 0.2]


def test_playlist_round_trip(make_window, music_folder: Path, tmp_path: Path) -> None:
    window = make_window([str(music_folder)])
    window.search.run_now("flac")
    target = window.ctx.playlists_dir / "flac only.m3u8"
    assert playlist_actions.save_playlist(window, target) == 1
    text = target.read_text(encoding="utf-8").splitlines()
    assert text[0] == "#EXTM3U"
    assert text[1] == "#EXTINF:1,The Testers - Tone flac"
    assert Path(text[2]).name == "tone_flac.flac"
    assert window.sidebar.entries("playlist") == [("flac only", str(target))]
    window.search.run_now("")
    window.select_scope("playlist", str(target))
    assert titles(window) == ["Tone flac"]


def test_saved_search_is_kept_in_the_library(make_window, music_folder: Path, tmp_path) -> None:
    window = make_window([str(music_folder)])
    playlist_actions.add_saved_search(window, "Oggs", "ogg")
    assert window.sidebar.entries("search") == [("Oggs", "ogg")]
    assert preferences.saved_searches(window.ctx.database) == [("Oggs", "ogg")]
    window.select_scope("search", "ogg")
    assert titles(window) == ["Tone ogg"]


def test_drag_out_gives_the_files(make_window, music_folder: Path) -> None:
    window = make_window([str(music_folder)])
    window.search.run_now("opus")
    mime = window.model.mimeData([window.model.index(0, 0)])
    assert [Path(u.toLocalFile()).name for u in mime.urls()] == ["tone_opus.opus"]


def test_player_loads_the_track(make_window, music_folder: Path) -> None:
    window = make_window([str(music_folder)])
    window.search.run_now("wav")
    window.play_track(window.model.track_id(0))
    assert Path(window.player.source).name == "tone_wav.wav"
    assert window.player.now_playing.text() == "The Testers – Tone wav"
    window.player.stop()


def test_unopenable_library_is_a_readable_message(make_window, tmp_path: Path) -> None:
    folder_not_file = tmp_path / "iam_a_folder"
    folder_not_file.mkdir()
    window = make_window(library=folder_not_file)
    assert "is a folder" in window.messages.text
    window.start_scan([str(tmp_path)])
    assert "could not be opened" in window.messages.text


def _plant_embeddings(window, dim: int = 8) -> list[int]:
    ids = window.model.ids
    rng = np.random.default_rng(0)
    with window.ctx.database.transaction() as conn:
        conn.execute("INSERT INTO models (id, name, dim, added_at) VALUES ('m1', 'test', ?, 0)",
                     (dim,))
        for track_id in ids:
            vector = rng.normal(size=dim).astype("<f4")
            vector /= np.linalg.norm(vector)
            conn.execute("INSERT INTO embeddings (track_id, model_id, dim, vector, created_at) "
                         "VALUES (?, 'm1', ?, ?, ?)",
                         (track_id, dim, vector.tobytes(), time.time()))
    return ids


def test_more_like_this_ranks_the_track_itself_first(make_window, music_folder: Path) -> None:
    window = make_window([str(music_folder)])
    ids = _plant_embeddings(window)
    window.more_like_this(ids[3])
    assert window.model.ids[0] == ids[3]
    assert window.model.scores[ids[3]] == 1.0 or abs(window.model.scores[ids[3]] - 1) < 1e-5
    assert window.model.rowCount() == 8


def test_map_draws_colours_and_lassoes(make_window, music_folder: Path, qtbot) -> None:
    window = make_window([str(music_folder)])
    ids = _plant_embeddings(window)
    window.show_tab("map")
    view = window.tab("map").view
    assert sorted(view.ids.tolist()) == sorted(ids)
    assert view.legend.items[0][1].text == "rock"
    xs, ys = view.xy[:, 0], view.xy[:, 1]
    left, right, low, high = xs.min() - 1, xs.max() + 1, ys.min() - 1, ys.max() + 1
    everything = QPolygonF([QPointF(left, low), QPointF(right, low), QPointF(right, high),
                            QPointF(left, high)])
    assert sorted(view.select_polygon(everything)) == sorted(ids)
    assert view.legend.items[0][1].text == "rock"  # a lasso keeps the legend
    with qtbot.waitSignal(view.show_requested):
        view.show_button.click()
    assert window.tabs.currentWidget() is window.library_view
    assert sorted(window.model.ids) == sorted(ids)


def test_a_long_job_never_blocks_the_window(make_window, music_folder: Path, qtbot) -> None:
    # How long the window may stall is measured by tests/bench/bench_gui_stall.py; this test
    # checks that the scan runs on a worker thread while the GUI thread goes on.
    window = make_window(runner=TaskRunner())
    ticks_while_busy: list[bool] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks_while_busy.append(window.jobs.busy))
    timer.start(1)
    with qtbot.waitSignal(window.jobs.finished, timeout=30_000):
        window.start_scan([str(music_folder)])
        assert window.jobs.busy  # start_scan returned before the scan ended
    qtbot.waitUntil(lambda: window.model.rowCount() == 8, timeout=5000)  # search runs async too
    timer.stop()
    assert any(ticks_while_busy), "the GUI thread handled no event while the scan ran"


def _rgb(image: QImage) -> np.ndarray:
    """The image as an [H, W, 3] uint8 array."""
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    data = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    rows = data.reshape(image.height(), image.bytesPerLine() // 4, 4)
    return rows[:, : image.width(), 2::-1].copy()  # BGRA in memory -> RGB


def _colours(pixels: np.ndarray) -> int:
    return len(np.unique(pixels.reshape(-1, 3), axis=0))


def test_every_view_grabs_to_png(make_window, music_folder: Path, tmp_path: Path) -> None:
    window = make_window([str(music_folder)])
    _plant_embeddings(window)
    window.library_view.select_row(0)
    pages = []
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        out = tmp_path / f"tab{index}.png"
        assert window.grab().save(str(out))
        saved = _rgb(QImage(str(out)))  # what the PNG holds is what the window drew
        assert saved.shape[:2] == (window.height(), window.width())
        assert _colours(saved) > 20, f"tab {index} rendered almost nothing"
        page = window.tabs.currentWidget()
        area = _rgb(page.grab().toImage())
        assert _colours(area) > 10, f"tab {index}'s page is blank"
        pages.append(area)
    # Each tab draws its own page: no two pages render the same pixels.
    for i, a in enumerate(pages):
        for b in pages[i + 1 :]:
            assert a.shape != b.shape or not np.array_equal(a, b)
    # The results table shows its rows: its viewport is not one flat colour.
    table = _rgb(window.library_view.table.viewport().grab().toImage())
    assert _colours(table) > 10
    for widget in (window.sidebar, window.details, window.player, window.welcome):
        image = widget.grab().toImage()
        assert not image.isNull()
        assert image.size() == widget.size()


def test_sort_by_clicking_a_header(make_window, music_folder: Path) -> None:
    window = make_window([str(music_folder)])
    column = [c.key for c in COLUMNS].index("title")
    window.library_view.table.sortByColumn(column, Qt.SortOrder.DescendingOrder)
    assert titles(window)[0] == "Tone wav"
    conn = window.reader
    assert isinstance(conn, sqlite3.Connection)
    assert queries.count_tracks(conn) == 8
