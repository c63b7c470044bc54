"""Keyboard navigation in the results keeps the highlight and the details on one track."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableWidget


@pytest.mark.parametrize(("key", "row"), [(Qt.Key.Key_End, -1), (Qt.Key.Key_Home, 0)])
def test_ctrl_home_and_end_select_the_row_the_details_show(
    make_window, music_folder: Path, qtbot, key: Qt.Key, row: int
) -> None:
    window = make_window([str(music_folder)])
    view = window.library_view
    view.select_row(3)
    view.table.setFocus()
    qtbot.keyClick(view.table, key, Qt.KeyboardModifier.ControlModifier)
    expected = window.model.track_id(row % window.model.rowCount())
    assert view.selected_ids() == [expected]
    assert window.details.track_id == expected


def test_search_box_keys(make_window, music_folder: Path, qtbot) -> None:
    window = make_window([str(music_folder)])
    view = window.library_view
    window.show_tab("map")
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is view
    assert view.search.hasFocus()
    qtbot.keyClicks(view.search, "tone")
    qtbot.keyClick(view.search, Qt.Key.Key_Escape)
    assert view.search.text() == ""
    qtbot.keyClick(view.search, Qt.Key.Key_Down)
    assert view.table.hasFocus()
    assert view.selected_ids() == [window.model.track_id(0)]


def test_ctrl_number_switches_views(make_window, qtbot) -> None:
    window = make_window()
    window.stack.setCurrentWidget(window.splitter)
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.tab("audit").view
    qtbot.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.tab("map").view
    qtbot.keyClick(window, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.tab("training").view


def test_the_help_page_lists_every_shortcut(make_window) -> None:
    from slapdesk.ui.shortcuts import SHORTCUTS, shortcuts_dialog

    window = make_window()
    dialog = shortcuts_dialog(window)
    table = dialog.findChild(QTableWidget)
    assert table.rowCount() == len(SHORTCUTS)
    assert table.item(0, 0).text() == "Ctrl+F, Ctrl+L"
    assert "&Keyboard shortcuts" in [
        a.text() for a in window.menuBar().actions()[-1].menu().actions()
    ]
