"""The player bar: seek, volume, next / previous through the results, auto-advance, Play next."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtMultimedia import QMediaDevices, QMediaPlayer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QStyle

from slapdesk.library.demo.audio_files import make_track
from slapdesk.ui.track_menu import build_track_menu
from slapdesk.ui.views.player import NO_DEVICE_NOTE


def _names(window, ids) -> list[str]:
    return [Path(window.model.track(window.model.row_of(i)).path).name for i in ids]


def _playing(window) -> str:
    return Path(window.player.source).name


@pytest.fixture
def window(make_window, tmp_path: Path):
    """Five tracks a..e of 1 s and one of 10 s, listed by file name."""
    music = tmp_path / "music"
    music.mkdir()
    for k, name in enumerate("abcde"):
        make_track(music / name, "wav", freq_hz=220.0 * (k + 1), seconds=1.0,
                   tags={"title": name.upper()})
    make_track(music / "long", "wav", seconds=10.0, tags={"title": "Long"})
    window = make_window([str(music)])
    window.resize(1024, 720)
    window.library_view.table.sortByColumn(8, Qt.SortOrder.AscendingOrder)  # File
    assert _names(window, window.model.ids) == ["a.wav", "b.wav", "c.wav", "d.wav", "e.wav",
                                                "long.wav"]
    yield window
    window.player.stop()


def test_next_and_previous_walk_the_results_as_shown(window) -> None:
    ids = window.model.ids
    window.play_track(ids[1])
    assert _playing(window) == "b.wav"
    window.player.next_button.click()
    assert _playing(window) == "c.wav"
    assert window.library_view.selected_ids() == [ids[2]]  # the highlight follows
    assert window.details.track_id == ids[2]
    window.player.previous_button.click()
    assert _playing(window) == "b.wav"
    window.player.previous_button.click()
    assert _playing(window) == "a.wav"
    window.library_view.table.sortByColumn(8, Qt.SortOrder.DescendingOrder)
    window.player.next_button.click()  # the order shown now: long, e, d, c, b, a
    assert window.playback.next_id() is None
    assert _playing(window) == "a.wav"
    window.player.next_button.click()
    assert window.status_label.text() == "End of the results."
    assert _playing(window) == "a.wav"


def test_a_track_that_ends_moves_on_to_the_next(window, qtbot) -> None:
    ids = window.model.ids
    window.play_track(ids[2])
    qtbot.waitUntil(lambda: _playing(window) == "d.wav", timeout=8000)
    qtbot.waitUntil(lambda: _playing(window) == "e.wav", timeout=8000)
    assert window.library_view.selected_ids() == [ids[4]]


def test_play_next_queues_after_the_current_track(window, qtbot) -> None:
    ids = window.model.ids
    window.play_track(ids[0])
    menu = build_track_menu(window, [ids[4], ids[3]])
    action = next(a for a in menu.actions() if a.text() == "Play next")
    action.trigger()
    assert window.messages.text == "2 tracks will play next."
    assert window.playback.up_next == [ids[4], ids[3]]
    window.player.next_button.click()
    assert _playing(window) == "e.wav"
    qtbot.waitUntil(lambda: _playing(window) == "d.wav", timeout=8000)  # ended, moved on
    window.player.next_button.click()
    assert _playing(window) == "b.wav"  # the results go on after a, where they were left
    assert window.playback.up_next == []


def test_seek_by_click_and_time_label(window, qtbot) -> None:
    player = window.player
    window.play_track(window.model.ids[5])
    qtbot.waitUntil(lambda: player.player.duration() == 10_000, timeout=5000)
    gc.collect()  # the slider's jump-to-click style must outlive Python's collection
    slider = player.slider
    assert slider.style().styleHint(QStyle.StyleHint.SH_Slider_AbsoluteSetButtons) == 1
    QTest.mouseClick(slider, Qt.MouseButton.LeftButton, pos=QPoint(slider.width() * 3 // 4,
                                                                    slider.height() // 2))
    assert 6_500 <= slider.value() <= 8_500
    qtbot.waitUntil(lambda: player.player.position() >= 6_500, timeout=3000)
    assert player.time.text() in {"0:07 / 0:10", "0:08 / 0:10", "0:09 / 0:10"}
    QTest.mouseClick(slider, Qt.MouseButton.LeftButton, pos=QPoint(2, slider.height() // 2))
    qtbot.waitUntil(lambda: player.player.position() < 2_000, timeout=3000)
    assert player.time.text() in {"0:00 / 0:10", "0:01 / 0:10"}
    window.grab().save(str(window.ctx.library_path.parent / "player.png"))


def test_volume_is_kept_in_the_settings(window, qtbot, make_window, tmp_path: Path) -> None:
    volume = window.player.volume
    assert volume.value() == 80
    volume.setValue(30)
    assert window.player.audio.volume() == pytest.approx(0.3)
    qtbot.waitUntil(lambda: window.ctx.settings.value.volume == 0.3, timeout=3000)
    text = (tmp_path / "config" / "settings.toml").read_text()
    assert "volume = 0.3\n" in text
    again = make_window(library=window.ctx.library_path)
    assert again.player.volume.value() == 30


def test_no_output_device_is_said_in_words(window) -> None:
    note = window.player.device_note
    assert note.text() == NO_DEVICE_NOTE
    assert note.isVisible() == (not QMediaDevices.audioOutputs())


@pytest.mark.parametrize(("content", "sentence"), [
    (b"ID3" + bytes(range(256)) * 20, "not a readable audio file"),
    (None, "the file is no longer there"),
])
def test_unplayable_files_are_sentences(window, qtbot, content, sentence) -> None:
    track_id = window.model.ids[0]
    path = Path(window.model.track(0).path)
    if content is None:
        path.unlink()
    else:
        path.write_bytes(content)
    window.play_track(track_id)
    qtbot.waitUntil(lambda: window.messages.text != "", timeout=5000)
    assert window.messages.text == f"Cannot play A: {sentence}."


def test_a_long_title_does_not_widen_the_window(window) -> None:
    window.play_track(window.model.ids[0])
    window.player.now_playing.setText("A very long title " * 20)
    assert window.minimumSizeHint().width() <= 1024
    window.resize(1024, 720)
    assert window.width() == 1024


def test_media_keys_pause_and_skip(window, qtbot) -> None:
    ids = window.model.ids
    window.play_track(ids[0])
    QTest.keyClick(window.library_view.table, Qt.Key.Key_MediaNext)
    assert _playing(window) == "b.wav"
    QTest.keyClick(window.library_view.table, Qt.Key.Key_MediaPrevious)
    assert _playing(window) == "a.wav"
    qtbot.waitUntil(lambda: window.player.playing, timeout=3000)
    QTest.keyClick(window.library_view.table, Qt.Key.Key_MediaTogglePlayPause)
    # The pause is carried out by the event loop (see slapdesk.ui.views.player).
    qtbot.waitUntil(lambda: window.player.player.playbackState()
                    == window.player.player.PlaybackState.PausedState, timeout=3000)


def test_next_skips_a_track_that_cannot_be_played(window) -> None:
    ids = window.model.ids
    broken = Path(window.model.track(2).path)
    broken.write_bytes(b"RIFF" + bytes(range(256)) * 40)  # c.wav, damaged after the scan
    window.rescan()
    window.library_view.table.sortByColumn(8, Qt.SortOrder.AscendingOrder)
    assert window.model.ids == ids
    assert _names(window, window.model.ids) == ["a.wav", "b.wav", "c.wav", "d.wav", "e.wav",
                                                "long.wav"]
    window.play_track(ids[1])
    window.player.next_button.click()
    assert _playing(window) == "d.wav"


def test_drag_moves_when_released_and_previous_restarts(window, qtbot) -> None:
    player = window.player
    window.play_track(window.model.ids[5])
    qtbot.waitUntil(lambda: player.player.duration() == 10_000, timeout=5000)
    slider, y = player.slider, player.slider.height() // 2
    QTest.mousePress(slider, Qt.MouseButton.LeftButton, pos=QPoint(slider.width() // 4, y))
    QTest.mouseMove(slider, QPoint(slider.width() // 2, y))
    assert slider.isSliderDown()
    assert player.time.text() in {"0:04 / 0:10", "0:05 / 0:10", "0:06 / 0:10"}
    QTest.mouseRelease(slider, Qt.MouseButton.LeftButton, pos=QPoint(slider.width() // 2, y))
    qtbot.waitUntil(lambda: player.player.position() >= 4_000, timeout=3000)
    assert player.player.position() < 8_000
    player.previous_button.click()  # more than 3 s in: back to the start of the same track
    qtbot.waitUntil(lambda: player.player.position() < 1_000, timeout=3000)
    assert _playing(window) == "long.wav"


def test_playing_on_passes_a_file_that_will_not_open(window, qtbot) -> None:
    ids = window.model.ids
    Path(window.model.track(1).path).write_bytes(b"RIFF" + bytes(range(256)) * 40)  # b.wav
    window.play_track(ids[0])
    assert window.player.next_button.toolTip() == "Next: B"
    qtbot.waitUntil(lambda: _playing(window) == "c.wav", timeout=8000)
    assert window.messages.text == "Cannot play B: not a readable audio file."
    window.play_track(ids[1])  # chosen by the user: the error stays, nothing plays on
    media = window.player.player
    qtbot.waitUntil(lambda: media.mediaStatus() == QMediaPlayer.MediaStatus.InvalidMedia
                    and not window.player.playing, timeout=5000)
    qtbot.wait(300)
    assert _playing(window) == "b.wav"


def test_the_volume_is_saved_when_the_window_closes(window) -> None:
    window.player.volume.setValue(55)
    window.close()
    assert window.ctx.settings.value.volume == 0.55


def test_player_commands_are_carried_out_by_the_event_loop(window, qtbot) -> None:
    # Called from Python they could wait on Qt's audio thread while holding the GIL (see
    # slapdesk.ui.views.player): a command only takes effect when the event loop turns.
    media = window.player.player
    window.play_track(window.model.ids[5])
    assert media.playbackState() == QMediaPlayer.PlaybackState.StoppedState
    assert media.source().toLocalFile() == ""
    assert _playing(window) == "long.wav"  # the view already says what it is loading
    qtbot.waitUntil(lambda: window.player.playing, timeout=3000)
    assert Path(media.source().toLocalFile()).name == "long.wav"
    window.player.stop()
    assert media.playbackState() == QMediaPlayer.PlaybackState.PlayingState
    qtbot.waitUntil(lambda: media.playbackState() == QMediaPlayer.PlaybackState.StoppedState,
                    timeout=3000)


def test_closing_the_window_stops_playback_before_it_returns(window, qtbot) -> None:
    window.play_track(window.model.ids[5])
    qtbot.waitUntil(lambda: window.player.playing, timeout=3000)
    window.close()
    assert window.player.player.playbackState() == QMediaPlayer.PlaybackState.StoppedState


def _queue_menu(window) -> list[str]:
    return [a.text() for a in window.player.queue_button.menu().actions() if a.text()]


def test_the_play_next_queue_is_shown_and_can_be_cleared(window) -> None:
    ids = window.model.ids
    window.play_track(ids[0])
    assert window.player.queue_button.isHidden()
    assert window.player.next_button.toolTip() == "Next: B"
    window.playback.play_next([ids[4], ids[3]])
    button = window.player.queue_button
    assert (button.isVisible(), button.text()) == (True, "Up next: 2")
    assert _queue_menu(window) == ["1. E", "2. D", "Clear the queue"]
    assert window.player.next_button.toolTip() == "Next: E"
    window.player.next_button.click()
    assert (_playing(window), button.text(), _queue_menu(window)) == (
        "e.wav", "Up next: 1", ["1. D", "Clear the queue"])
    next(a for a in button.menu().actions() if a.text() == "Clear the queue").trigger()
    assert window.playback.up_next == [] and button.isHidden()
    assert window.player.next_button.toolTip() == "Next: B"  # the results go on after a


def test_a_long_queue_names_its_first_tracks_and_counts_the_rest(window, monkeypatch) -> None:
    from slapdesk.ui import playback

    monkeypatch.setattr(playback, "QUEUE_SHOWN", 2)
    ids = window.model.ids
    window.play_track(ids[0])
    window.playback.play_next([ids[1], ids[2], ids[3], ids[4]])
    assert window.player.queue_button.text() == "Up next: 4"
    assert _queue_menu(window) == ["1. B", "2. C", "… and 2 more", "Clear the queue"]


def test_a_queued_track_picked_from_the_menu_plays_now(window) -> None:
    ids = window.model.ids
    window.play_track(ids[0])
    window.playback.play_next([ids[2], ids[3], ids[4]])
    next(a for a in window.player.queue_button.menu().actions() if a.text() == "2. D").trigger()
    assert _playing(window) == "d.wav"
    assert window.playback.up_next == [ids[2], ids[4]]
    assert _queue_menu(window) == ["1. C", "2. E", "Clear the queue"]
