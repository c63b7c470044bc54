"""Each library keeps its own active model and saved searches; the window honours both."""

from __future__ import annotations

from pathlib import Path

from slapdesk import cli
from slapdesk.library.jobs.active_model import library_choice
from slapdesk.library.store import preferences
from slapdesk.library.store.database import Database
from slapdesk.settings import SavedSearch, Settings, load_settings, save_settings
from slapdesk.ui import playlist_actions


def _library(folder: Path) -> Path:
    path = folder / "library.sqlite"
    Database(path).close()
    return path


def test_choosing_a_model_in_one_library_leaves_the_other_alone(
    make_window, tiny_bundle: Path, tmp_path: Path
) -> None:
    first, second = _library(tmp_path / "a"), _library(tmp_path / "b")
    window = make_window(library=first)
    window.tab("models").controller.activate(str(tiny_bundle))
    assert window.model_label.text() == "Model: tiny (tiny)"
    assert "This library now uses the model tiny (tiny)." in window.messages.text
    other = make_window(library=second)  # the same settings file
    assert other.model_label.text() == "Model: none (tags only)"
    assert load_settings(tmp_path / "config" / "settings.toml").active_model == ""
    again = make_window(library=first)
    assert again.model_label.text() == "Model: tiny (tiny)"


def test_the_window_honours_the_command_lines_choice_and_the_global_default(
    make_window, tiny_bundle: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("SLAPDESK_CONFIG", str(tmp_path / "config"))
    chosen, fallback = _library(tmp_path / "a"), _library(tmp_path / "b")
    assert cli.main(["--library", str(chosen), "models", "use", str(tiny_bundle)]) == 0
    assert make_window(library=chosen).model_label.text() == "Model: tiny (tiny)"
    # A library that never chose follows the user's default from settings.toml.
    assert make_window(library=fallback).model_label.text() == "Model: none (tags only)"
    save_settings(Settings(active_model=str(tiny_bundle)), tmp_path / "config" / "settings.toml")
    assert make_window(library=fallback).model_label.text() == "Model: tiny (tiny)"
    with Database(chosen) as db:
        assert library_choice(db, "unused") == str(tiny_bundle)


def test_old_global_saved_searches_move_into_the_first_library_opened(
    make_window, tmp_path: Path
) -> None:
    settings = tmp_path / "config" / "settings.toml"
    save_settings(Settings(saved_searches=(SavedSearch("Calm", "calm piano"),
                                           SavedSearch("Loud", "-quiet rock"))), settings)
    first, second = _library(tmp_path / "a"), _library(tmp_path / "b")
    window = make_window(library=first)
    assert window.sidebar.entries("search") == [("Calm", "calm piano"), ("Loud", "-quiet rock")]
    assert load_settings(settings).saved_searches == ()  # taken over, not copied everywhere
    other = make_window(library=second)
    assert other.sidebar.entries("search") == []
    playlist_actions.add_saved_search(other, "Jazz", "genre:jazz")
    assert other.sidebar.entries("search") == [("Jazz", "genre:jazz")]
    assert make_window(library=first).sidebar.entries("search") == [
        ("Calm", "calm piano"), ("Loud", "-quiet rock")]
    with Database(second) as db:
        assert preferences.saved_searches(db) == [("Jazz", "genre:jazz")]


def test_a_saved_search_is_removed_from_its_context_menu(make_window, tmp_path: Path) -> None:
    window = make_window(library=_library(tmp_path / "a"))
    playlist_actions.add_saved_search(window, "Calm", "calm piano")
    playlist_actions.add_saved_search(window, "Loud", "rock")
    assert window.sidebar.menu_for(window.sidebar.entry("playlist", "Calm")) is None
    menu = window.sidebar.menu_for(window.sidebar.entry("search", "Calm"))
    (remove,) = menu.actions()
    assert remove.text() == "Remove saved search “Calm”"
    remove.trigger()
    assert window.sidebar.entries("search") == [("Loud", "rock")]
    assert preferences.saved_searches(window.ctx.database) == [("Loud", "rock")]
