"""Tabs register themselves; the window builds what is registered and calls it when shown."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel

from slapdesk.ui import tabs


def test_the_window_builds_the_registered_tabs_in_order(make_window) -> None:
    window = make_window()
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert titles == ["Library", "Auto-tag", "Audit", "Map", "Training", "Models"]
    assert [spec.name for spec in tabs.registered_tabs()] == [
        "library", "tagging", "audit", "map", "training", "models"
    ]
    assert window.tab("library").view is window.library_view
    assert window.tab("library").controller is window.search


def test_a_new_tab_is_one_registration(make_window, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabs, "_REGISTRY", dict(tabs._REGISTRY))
    shown: list[str] = []

    @tabs.register_tab("notes", "Notes", 35)
    def notes_tab(window) -> tabs.Tab:
        return tabs.Tab(QLabel("notes"), on_shown=lambda: shown.append("notes"))

    window = make_window()
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert titles == ["Library", "Auto-tag", "Audit", "Map", "Notes", "Training", "Models"]
    window.show_tab("notes")
    assert shown == ["notes"]
    assert window.details_area.isHidden()  # a tab that shows no tracks gives the details' room
    window.show_tab("library")
    assert not window.details_area.isHidden()
    with pytest.raises(ValueError, match="two tabs are named 'notes'"):
        tabs.register_tab("notes", "Other", 1)(lambda window: tabs.Tab(QLabel()))
