"""The right-click menu on result rows, triggered from the built menu on the real window."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QUrl, Slot
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
