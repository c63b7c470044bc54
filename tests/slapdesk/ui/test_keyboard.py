"""Keyboard navigation in the results keeps the highlight and the details on one track."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt


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
