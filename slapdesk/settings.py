"""User settings: a frozen dataclass stored as TOML in the user's config folder.

Read with ``tomllib``; written by a tiny writer below (the file only holds strings, numbers,
booleans, lists of strings and a list of saved searches), atomically, so a crash never leaves
half a file. Unknown keys are ignored and bad values fall back to the defaults, so a hand-edited
file never stops the app from starting.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from engine.atomic_files import atomic_output
from slapdesk.library.store.paths import config_dir

log = logging.getLogger(__name__)

SETTINGS_FILENAME = "settings.toml"


@dataclass(frozen=True)
class SavedSearch:
    """A query the user kept in the sidebar."""

    name: str  # label in the sidebar
    query: str  # the text typed into the search box


@dataclass(frozen=True)
class Settings:
    """Everything the user can change that is not in the library database."""

    music_folders: tuple[str, ...] = ()  # folders to scan, absolute paths
    # The model of libraries that have not chosen one (each library keeps its own choice):
    # a bundle folder; "" = the bundled default model.
    active_model: str = ""
    search_debounce_ms: int = 250  # wait this long after the last keystroke before searching
    result_limit: int = 5000  # most results a search shows
    tag_vocabulary: str = "genre"  # vocabulary the auto-tag panel starts with
    tag_policy: str = "own-fields"  # own-fields | fill-empty | merge | replace (tagplan.py)
    tag_threshold: float = 0.15  # minimum calibrated score for a proposal to be pre-accepted
    train_device: str = "auto"  # auto | cpu | cuda | mps
    volume: float = 0.8  # preview player volume, 0..1
    # Result-table columns switched off (column keys). The file's path is off at first: the
    # details pane and each row's tooltip show it, and a 1024 px window has no room for it.
    hidden_columns: tuple[str, ...] = ("path",)
    # Saved searches of older versions; each library keeps its own now, and the first library
    # the window opens takes these over (the list is emptied then).
    saved_searches: tuple[SavedSearch, ...] = field(default_factory=tuple)

    def replace(self, **changes: object) -> Settings:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def settings_path() -> Path:
    """Where the settings file lives (``$SLAPDESK_CONFIG`` overrides the folder)."""
    folder = os.environ.get("SLAPDESK_CONFIG")
    return (Path(folder) if folder else config_dir()) / SETTINGS_FILENAME


def _coerce(name: str, value: object, default: object) -> object:
    if name == "saved_searches":
        if not isinstance(value, list):
            raise TypeError("saved_searches must be a list of tables")
        return tuple(SavedSearch(str(item["name"]), str(item["query"])) for item in value)
    if isinstance(default, tuple):
        if not isinstance(value, list):
            raise TypeError(f"{name} must be a list")
        return tuple(str(v) for v in value)
    if isinstance(default, (bool, str)):
        if not isinstance(value, type(default)):
            raise TypeError(f"{name} must be a {type(default).__name__}")
        return value
    if isinstance(default, int):
        return int(value)  # type: ignore[call-overload]
    if isinstance(default, float):
        return float(value)  # type: ignore[arg-type]
    return value


def load_settings(path: Path | None = None) -> Settings:
    """Read the settings file; a missing or broken file gives the defaults (and a log line)."""
    path = path or settings_path()
    defaults = Settings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return defaults
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        log.warning("%s: cannot read settings (%s); using defaults", path, exc)
        return defaults
    values: dict[str, object] = {}
    for item in dataclasses.fields(Settings):
        if item.name not in raw:
            continue
        try:
            values[item.name] = _coerce(item.name, raw[item.name], getattr(defaults, item.name))
        except (TypeError, ValueError, KeyError) as exc:
            log.warning("%s: ignoring %s (%s)", path, item.name, exc)
    return defaults.replace(**values)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        # A TOML basic string: JSON-style escapes are valid TOML escapes.
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        escaped = "".join(c if c >= " " or c == "\t" else f"\\u{ord(c):04x}" for c in escaped)
        return f'"{escaped}"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def dumps_settings(settings: Settings) -> str:
    """The settings as TOML text."""
    lines = ["# SlapDesk settings. Edit while SlapDesk is closed; unknown keys are ignored."]
    tables: list[str] = []
    for item in dataclasses.fields(Settings):
        value = getattr(settings, item.name)
        if item.name == "saved_searches":
            for search in value:
                tables += ["", "[[saved_searches]]", f"name = {_toml_value(search.name)}",
                           f"query = {_toml_value(search.query)}"]
            continue
        lines.append(f"{item.name} = {_toml_value(value)}")
    return "\n".join(lines + tables) + "\n"


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write the settings atomically (temp file, fsync, rename); returns the path."""
    path = path or settings_path()
    with atomic_output(path, "w", encoding="utf-8") as out:
        out.write(dumps_settings(settings))
    return path
