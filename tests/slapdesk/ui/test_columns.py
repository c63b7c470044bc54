"""Result columns: shown or hidden from the header menu (kept in the settings), sensible widths."""

from __future__ import annotations

from pathlib import Path

from slapdesk.ui.column_layout import FIXED_SAMPLES

TEXT = ("title", "artist", "album", "genre", "path")


def _widths(window) -> dict[str, int]:
    columns = window.library_view.columns
    return {key: columns.width_of(key) for key in (*TEXT, *FIXED_SAMPLES)}


def test_widening_the_window_widens_the_text_columns_not_just_file(
    make_window, music_folder: Path, qtbot
) -> None:
    window = make_window([str(music_folder)])
    assert window.library_view.columns.hidden == ("path",)  # until the user shows it
    window.library_view.columns.set_shown("path", True)
    table = window.library_view.table
    window.resize(1280, 800)
    qtbot.wait(20)
    narrow = _widths(window)
    assert sum(narrow.values()) == table.viewport().width()  # no horizontal scrolling
    window.resize(1800, 900)
    qtbot.wait(20)
    wide = _widths(window)
    assert sum(wide.values()) == table.viewport().width()
    gained = {key: wide[key] - narrow[key] for key in wide}
    assert gained["title"] > gained["path"] > 0
    assert gained["artist"] > 0 and gained["album"] > 0 and gained["genre"] > 0
    assert gained["path"] < sum(gained.values()) / 3  # File no longer takes all of it
    for key in FIXED_SAMPLES:  # short columns stay as they were, and narrow
        assert gained[key] == 0 and wide[key] < 130, key
    assert wide["title"] >= wide["path"]


def test_at_1024_px_the_columns_fit_without_scrolling(make_window, music_folder: Path,
                                                       qtbot) -> None:
    window = make_window([str(music_folder)])
    window.resize(1024, 720)
    qtbot.wait(20)
    table = window.library_view.table
    assert sum(_widths(window).values()) <= table.viewport().width()
    assert not table.horizontalScrollBar().isVisible()
    assert window.library_view.columns.width_of("title") >= 96


def test_the_header_menu_hides_columns_and_the_choice_is_kept(
    make_window, music_folder: Path, qtbot, tmp_path: Path
) -> None:
    window = make_window([str(music_folder)])
    window.resize(1280, 800)
    qtbot.wait(20)
    table = window.library_view.table
    menu = window.library_view.columns.build_menu()
    actions = {a.text(): a for a in menu.actions() if a.isCheckable()}
    assert list(actions) == ["Title", "Artist", "Album", "Genre", "Year", "Length", "Match",
                             "Format", "File"]
    assert [a.text() for a in actions.values() if not a.isChecked()] == ["File"]
    assert not actions["Title"].isEnabled()  # one column always stays
    assert table.horizontalHeader().isSectionHidden(8)
    actions["File"].trigger()
    assert window.ctx.settings.value.hidden_columns == ()
    before = window.library_view.columns.width_of("title")
    actions["File"].trigger()
    actions["Year"].trigger()
    assert table.horizontalHeader().isSectionHidden(8)
    assert window.library_view.columns.width_of("title") > before  # the room is shared out
    assert window.ctx.settings.value.hidden_columns == ("year", "path")
    assert 'hidden_columns = ["year", "path"]' in (
        tmp_path / "config" / "settings.toml").read_text()
    again = make_window(library=window.ctx.library_path)
    assert again.library_view.columns.hidden == ("year", "path")
    menu = again.library_view.columns.build_menu()
    next(a for a in menu.actions() if a.text() == "File").trigger()
    assert again.ctx.settings.value.hidden_columns == ("year",)
    assert again.library_view.columns.width_of("path") >= 70
