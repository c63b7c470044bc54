"""The window fits a 1024 px wide screen without clipping any view."""

from __future__ import annotations

from pathlib import Path


def test_the_window_can_be_1024_px_wide(make_window, music_folder: Path) -> None:
    window = make_window([str(music_folder)])
    assert window.minimumSizeHint().width() <= 1024
    window.resize(1024, 700)
    for name in ("library", "tagging", "map", "training", "models"):
        view = window.show_tab(name).view
        assert view.width() >= view.minimumSizeHint().width(), name
