"""The right-click menu on result rows, triggered from the built menu on the real window."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices

from slapdesk.library import playlists
from slapdesk.ui.track_menu import build_track_menu
from tests.slapdesk.ui.test_main_window import _plant_embeddings


class _FileManager(QObject):
    """The desktop's file manager as Qt sees it: Qt hands it the file:// URLs to open."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url.toLocalFile())


def _action(menu, text: str):
    actions = {a.text(): a for a in menu.actions()}
    for action in menu.actions():
        if action.menu() is not None:
            actions.update({f"{action.text()}/{a.text()}": a for a in action.menu().actions()})
    return actions[text]


def test_menu_plays_finds_alike_shows_folder_and_tags(make_window, music_folder: Path) -> None:
    window = make_window([str(music_folder)])
    ids = _plant_embeddings(window)
    menu = build_track_menu(window, [ids[2]])
    assert [a.text() for a in menu.actions() if a.text()] == [
        "Play", "Play next", "More like this", "Show in folder", "Add to playlist", "Tag…"
    ]
    _action(menu, "Play").trigger()
    assert window.player.source == window.model.track(window.model.row_of(ids[2])).path
    window.player.stop()
    _action(menu, "More like this").trigger()
    assert window.model.ids[0] == ids[2] and window.model.rowCount() == 8
    manager = _FileManager()
    QDesktopServices.setUrlHandler("file", manager, "open")
    try:
        _action(menu, "Show in folder").trigger()
    finally:
        QDesktopServices.unsetUrlHandler("file")
    track_path = Path(window.model.track(window.model.row_of(ids[2])).path)
    assert manager.opened == [str(track_path.parent)]
    assert track_path.parent.parent == music_folder
    asked: list[list[int]] = []
    window.tag_requested.connect(asked.append)
    several = build_track_menu(window, ids[:3])
    _action(several, "Tag 3 tracks…").trigger()
    assert asked == [ids[:3]]


def test_add_to_playlist_appends_and_keeps_the_entries(make_window, music_folder: Path) -> None:
    window = make_window([str(music_folder)])
    ids = window.model.ids
    window.ctx.playlists_dir.mkdir(parents=True, exist_ok=True)
    target = window.ctx.playlists_dir / "mix.m3u8"
    first = window.model.track(0).path
    playlists.write_m3u8(target, [playlists.PlaylistEntry(first, 1.0, "First"),
                                  playlists.PlaylistEntry("/elsewhere/x.flac")])
    menu = build_track_menu(window, [ids[0], ids[1]])
    _action(menu, "Add to playlist/mix").trigger()
    second = window.model.track(1).path
    assert playlists.read_m3u8(target) == [first, "/elsewhere/x.flac", second]
    assert "Added 1 track to mix" in window.messages.text


def test_status_bar_names_the_active_model(make_window, tiny_bundle: Path) -> None:
    window = make_window()
    assert window.model_label.text() == "Model: none (tags only)"
    window.use_model(str(tiny_bundle))
    assert window.model_label.text().startswith(f"Model: {tiny_bundle.name} (")


def test_delete_takes_tracks_out_of_the_playlist_shown_never_the_files(
    make_window, music_folder: Path, qtbot
) -> None:
    window = make_window([str(music_folder)])
    paths = [window.model.track(r).path for r in range(3)]
    window.ctx.playlists_dir.mkdir(parents=True, exist_ok=True)
    target = window.ctx.playlists_dir / "mix.m3u8"
    playlists.write_m3u8(target, [playlists.PlaylistEntry(p) for p in paths]
                         + [playlists.PlaylistEntry("/elsewhere/x.flac")])
    table = window.library_view.table
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_Delete)  # the library, not a playlist: nothing happens
    assert playlists.read_m3u8(target) == [*paths, "/elsewhere/x.flac"]
    assert window.model.rowCount() == 8
    window.select_scope("playlist", str(target))
    assert sorted(window.model.track(r).path for r in range(3)) == sorted(paths)
    menu = build_track_menu(window, [window.model.track_id(0)])
    assert "Remove from playlist" in [a.text() for a in menu.actions()]
    gone = window.model.track(0).path
    window.library_view.select_row(0)
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_Delete)
    assert playlists.read_m3u8(target) == [p for p in paths if p != gone] + ["/elsewhere/x.flac"]
    assert window.model.rowCount() == 2
    assert Path(gone).is_file()
    assert window.messages.text == "Removed 1 track from mix (the files stay)"
