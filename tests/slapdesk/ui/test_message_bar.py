"""A message floats over the content: nothing under the mouse moves when one appears."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QToolButton


def _on_window(widget, window) -> QRect:
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def test_a_message_moves_nothing_and_covers_neither_search_nor_tabs(
    make_window, music_folder: Path, qtbot, tmp_path: Path
) -> None:
    window = make_window([str(music_folder)])
    window.resize(1024, 720)
    qtbot.wait(20)
    view = window.library_view
    before = [_on_window(w, window) for w in (view.table, view.search, window.tabs.tabBar())]
    files = "\n".join(f"/m/{k}.mp3" for k in range(5))
    window.show_error(f"Some files could not be read:\n{files}")
    qtbot.wait(20)
    after = [_on_window(w, window) for w in (view.table, view.search, window.tabs.tabBar())]
    assert after == before
    bar = _on_window(window.messages, window)
    assert window.messages.isVisible()
    assert bar.height() >= 6 * window.messages.label.fontMetrics().height()  # all lines shown
    assert not bar.intersects(before[1]) and not bar.intersects(before[2])
    assert bar.bottom() <= _on_window(window.stack, window).bottom()
    window.grab().save(str(tmp_path / "message.png"))
    window.resize(1280, 800)
    qtbot.wait(20)
    assert window.messages.width() == window.stack.width() - 16  # it follows the window
    window.messages.findChild(QToolButton).click()
    assert window.messages.text == ""


def test_news_goes_away_by_itself_and_an_error_stays(make_window, qtbot, monkeypatch) -> None:
    from slapdesk.ui.views import message_bar

    monkeypatch.setattr(message_bar, "INFO_SECONDS", 0.05)
    window = make_window()
    window.show_info("Tags written: 198 files changed")
    assert window.messages.text == "Tags written: 198 files changed"
    qtbot.waitUntil(lambda: window.messages.text == "", timeout=2000)
    window.show_error("The disk is full.")
    window.show_info("Tags written: 1 file changed")  # news replaces it, and goes too
    qtbot.waitUntil(lambda: window.messages.text == "", timeout=2000)
    window.show_error("The disk is full.")
    qtbot.wait(300)
    assert window.messages.text == "The disk is full."
