from __future__ import annotations

from pathlib import Path

from slapdesk.settings import SavedSearch, Settings, dumps_settings, load_settings, save_settings


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "nope.toml") == Settings()


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    settings = Settings(
        music_folders=("/music/a", "/home/me/Mus\u00efk \"quoted\" \\ back"),
        active_model="/models/mine",
        search_debounce_ms=120,
        tag_threshold=0.35,
        volume=0.5,
        saved_searches=(SavedSearch("Rainy", "mellow -drums"), SavedSearch("Old", "year<1970")),
    )
    path = save_settings(settings, tmp_path / "cfg" / "settings.toml")
    assert load_settings(path) == settings
    assert not list(path.parent.glob(".settings-*"))  # the temp file was renamed away


def test_bad_values_fall_back_one_by_one(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('music_folders = "not a list"\nvolume = 0.25\nunknown = 1\n')
    settings = load_settings(path)
    assert settings.music_folders == ()
    assert settings.volume == 0.25


def test_broken_toml_gives_defaults(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("this is [not toml")
    assert load_settings(path) == Settings()


def test_the_file_is_readable_toml() -> None:
    text = dumps_settings(Settings(saved_searches=(SavedSearch("a", "b"),)))
    assert 'tag_policy = "own-fields"' in text
    assert "[[saved_searches]]" in text
