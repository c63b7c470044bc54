"""The right-click menu on result rows: the window's own actions, for the rows under the mouse."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMenu

from slapdesk.library import playlists
from slapdesk.library.autotag.review import track_problems
from slapdesk.library.store import track_rows
from slapdesk.ui.playlist_actions import choose_playlist_file

if TYPE_CHECKING:
    from slapdesk.ui.main_window import MainWindow
    from slapdesk.ui.views.library_view import LibraryView


def install_track_menu(window: MainWindow, view: LibraryView) -> None:
    """Show ``build_track_menu`` where the user right-clicks the table."""
    table = view.table
    table.setContextMenuPolicy(table.contextMenuPolicy().CustomContextMenu)

    def show(point: QPoint) -> None:
        index = table.indexAt(point)
        if not index.isValid():
            return
        if index.row() not in {i.row() for i in table.selectionModel().selectedRows()}:
            view.select_row(index.row())  # right-click outside the selection acts on that row
        menu = build_track_menu(window, view.selected_ids(), table)
        menu.exec(table.viewport().mapToGlobal(point))
        menu.deleteLater()  # a child of the table: without this every right-click would stay

    table.customContextMenuRequested.connect(show)


def build_track_menu(window: MainWindow, ids: list[int], parent=None) -> QMenu:
    """Play / More like this / Show in folder act on the first row; the rest on all of ``ids``."""
    menu = QMenu(parent)
    first = ids[0]
    # A silent or unreadable track has nothing to play or to sound like.
    problem = track_problems(window.reader, [first]).get(first) if window.reader else None
    play = menu.addAction("Play", partial(window.play_track, first))
    menu.addAction("Play next", partial(window.playback.play_next, list(ids)))
    more = menu.addAction("More like this", partial(window.more_like_this, first))
    for action in (play, more):
        action.setEnabled(problem is None)
        if problem:
            action.setToolTip(problem[:1].upper() + problem[1:])
    menu.setToolTipsVisible(True)
    menu.addAction("Show in folder", partial(show_in_folder, window, first))
    menu.addSeparator()
    add = menu.addMenu("Add to playlist")
    for path in playlists.list_playlists(window.ctx.playlists_dir):
        add.addAction(path.stem, partial(add_to_playlist, window, path, list(ids)))
    add.addAction("New playlist…", partial(choose_playlist_file, window, list(ids)))
    if window.search.scope.kind == "playlist":
        menu.addAction("Remove from playlist", partial(remove_from_playlist, window, list(ids)))
    count = f" {len(ids)} tracks" if len(ids) > 1 else ""
    menu.addAction(f"Tag{count}…", partial(window.tag_tracks, list(ids)))
    return menu


def show_in_folder(window: MainWindow, track_id: int) -> None:
    """Open the folder holding the track in the file manager."""
    row = track_rows.fetch_row(window.reader, track_id) if window.reader is not None else None
    if row is None:
        return
    folder = os.path.dirname(row.path)
    if not QDesktopServices.openUrl(QUrl.fromLocalFile(folder)):
        window.show_info(f"Could not open a file manager; the track is in {folder}")


def _entry(row: track_rows.TrackRow) -> playlists.PlaylistEntry:
    return playlists.PlaylistEntry(
        row.path, row.duration, " - ".join(x for x in (row.artist, row.title) if x))


def _read_entries(window: MainWindow, path: Path
                  ) -> tuple[list[playlists.PlaylistEntry], dict[int, track_rows.TrackRow]]:
    """A playlist's entries (library tracks with their length and title) and its tracks."""
    assert window.reader is not None
    kept = playlists.read_m3u8(path)
    known = track_rows.fetch_rows(window.reader, track_rows.ids_for_paths(window.reader, kept))
    by_path = {row.path: row for row in known.values()}
    entries = [_entry(by_path[p]) if p in by_path else playlists.PlaylistEntry(p) for p in kept]
    return entries, known


def _write(window: MainWindow, path: Path, entries: list[playlists.PlaylistEntry],
           done: str) -> bool:
    try:
        playlists.write_m3u8(path, entries)
    except OSError as error:
        window.show_error(f"Cannot change the playlist {path.name}: {error.strerror or error}")
        return False
    window.show_info(done)
    return True


def _tracks(count: int) -> str:
    return f"{count} track{'s' if count != 1 else ''}"


def add_to_playlist(window: MainWindow, path: Path, ids: list[int]) -> None:
    """Append the tracks to a playlist; its entries stay, those outside the library too."""
    if window.reader is None:
        return
    entries, known = _read_entries(window, path)
    new = track_rows.fetch_rows(window.reader, [i for i in ids if i not in known])
    entries += [_entry(new[i]) for i in ids if i in new]
    _write(window, path, entries, f"Added {_tracks(len(new))} to {path.stem}")


def remove_from_playlist(window: MainWindow, ids: list[int]) -> None:
    """Take the tracks out of the playlist the results show (their files stay untouched)."""
    scope = window.search.scope
    if window.reader is None or scope.kind != "playlist" or not ids:
        return
    path = Path(scope.value)
    entries, known = _read_entries(window, path)
    gone = {known[i].path for i in ids if i in known}
    if _write(window, path, [e for e in entries if e.path not in gone],
              f"Removed {_tracks(len(gone))} from {path.stem} (the files stay)"):
        window.search.run_now()
