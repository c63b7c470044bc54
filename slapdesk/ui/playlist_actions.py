"""Saving what the library shows: the results as an M3U8 playlist, the query as a saved search."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QInputDialog

from slapdesk.library import playlists
from slapdesk.library.store import preferences, track_rows

if TYPE_CHECKING:
    from slapdesk.ui.main_window import MainWindow


def save_current_search(window: MainWindow) -> None:
    """Keep the current query in the sidebar."""
    query = window.library_view.search.text().strip()
    if not query:
        window.show_info("Type a search first, then save it.")
        return
    name, ok = QInputDialog.getText(window, "Save search", "Name:", text=query)
    if ok and name.strip():
        add_saved_search(window, name.strip(), query)


def add_saved_search(window: MainWindow, name: str, query: str) -> None:
    """Store a saved search in this library (replacing one with the same name)."""
    if window.ctx.database is None:
        window.show_error("Cannot save the search: the library is not open.")
        return
    preferences.save_search(window.ctx.database, name, query)
    window.sidebar.set_saved_searches(preferences.saved_searches(window.ctx.database))


def remove_saved_search(window: MainWindow, name: str) -> None:
    """Forget one of this library's saved searches."""
    if window.ctx.database is None:
        return
    preferences.delete_saved_search(window.ctx.database, name)
    window.sidebar.set_saved_searches(preferences.saved_searches(window.ctx.database))


def choose_playlist_file(window: MainWindow, ids: list[int] | bool | None = None) -> None:
    """Ask where to save the results (or ``ids``) as M3U8, then save."""
    ids = list(ids) if isinstance(ids, list) and ids else window.model.ids
    if not ids:
        window.show_info("There are no results to save.")
        return
    window.ctx.playlists_dir.mkdir(parents=True, exist_ok=True)
    suggested = window.ctx.playlists_dir / f"{window.library_view.search.text() or 'playlist'}.m3u8"
    path, _ = QFileDialog.getSaveFileName(window, "Save playlist", str(suggested),
                                          "Playlists (*.m3u8)")
    if path:
        save_playlist(window, Path(path), ids)


def save_playlist(window: MainWindow, path: Path, ids: list[int] | None = None) -> int:
    """Write the results (or ``ids``) to an M3U8 file; returns the number of entries."""
    if window.reader is None:
        return 0
    ids = window.model.ids if ids is None else ids
    rows = track_rows.fetch_rows(window.reader, ids)
    entries = [
        playlists.PlaylistEntry(rows[i].path, rows[i].duration,
                                " - ".join(x for x in (rows[i].artist, rows[i].title) if x))
        for i in ids if i in rows
    ]
    try:
        count = playlists.write_m3u8(path.with_suffix(".m3u8"), entries)
    except OSError as error:
        window.show_error(f"Cannot save the playlist {path}: {error.strerror or error}")
        return 0
    window.sidebar.set_playlists(playlists.list_playlists(window.ctx.playlists_dir))
    window.show_info(f"Saved {count} tracks to {path.with_suffix('.m3u8')}")
    return count
