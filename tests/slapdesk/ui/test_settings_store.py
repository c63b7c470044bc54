"""Settings changes are saved off the GUI thread, the latest one last, and nothing is lost."""

from __future__ import annotations

import threading
from pathlib import Path

from slapdesk.settings import Settings, load_settings, save_settings
from slapdesk.ui.context import SettingsStore


def test_background_saves_write_the_latest_settings_off_the_calling_thread(tmp_path: Path):
    path = tmp_path / "settings.toml"
    writers: list[str] = []

    def save(settings: Settings) -> None:
        writers.append(threading.current_thread().name)
        save_settings(settings, path)

    store = SettingsStore(Settings(), save, background=True)
    for volume in (0.1, 0.2, 0.3, 0.4):
        store.update(volume=volume)
    assert store.value.volume == 0.4  # the window sees the change at once
    store.flush()
    assert load_settings(path).volume == 0.4
    assert writers and set(writers) == {"settings-writer"}
    assert len(writers) <= 4  # a burst coalesces: never more saves than changes


def test_a_failing_save_is_logged_and_the_next_change_still_saves(tmp_path: Path, caplog):
    path = tmp_path / "settings.toml"
    calls: list[float] = []

    def save(settings: Settings) -> None:
        calls.append(settings.volume)
        if len(calls) == 1:
            raise PermissionError(13, "Permission denied", str(path))
        save_settings(settings, path)

    store = SettingsStore(Settings(), save, background=True)
    store.update(volume=0.25)
    store.flush()
    store.update(volume=0.75)
    store.flush()
    assert load_settings(path).volume == 0.75
    assert "cannot save the settings" in caplog.text


def test_without_background_the_save_happens_inside_update(tmp_path: Path):
    path = tmp_path / "settings.toml"
    store = SettingsStore(Settings(), lambda s: save_settings(s, path))
    store.update(volume=0.5)
    assert load_settings(path).volume == 0.5
