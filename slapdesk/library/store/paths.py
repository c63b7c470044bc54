"""Where the library database and settings live (platformdirs), and how users override it."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "SlapDesk"
LIBRARY_ENV = "SLAPDESK_LIBRARY"
LIBRARY_FILENAME = "library.sqlite"


def default_library_path() -> Path:
    """The library file in the user's data folder."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / LIBRARY_FILENAME


def resolve_library_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Choose the library file: ``--library``, else ``$SLAPDESK_LIBRARY``, else the default."""
    if explicit:
        return Path(explicit).expanduser()
    from_env = os.environ.get(LIBRARY_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return default_library_path()


def config_dir() -> Path:
    """The user's settings folder."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def graph_cache_dir() -> Path:
    """Where exported model graphs are kept between runs (rebuilt when missing)."""
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)) / "graphs"


def data_dir_for(library_path: Path) -> Path:
    """Where playlists, models and runs live: beside a custom library, else the user data dir."""
    default = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    return default if library_path.parent == default else library_path.parent
