"""What the composition root hands the window: settings, library, task runner, folders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from slapdesk.settings import Settings

if TYPE_CHECKING:
    from slapdesk.library.jobs.active_model import ModelHolder
    from slapdesk.library.store.database import Database
    from slapdesk.ui.tasks import TaskRunner


class SettingsStore(QObject):
    """The current ``Settings``; ``update`` replaces them, saves, and emits ``changed``."""

    changed = Signal(object)

    def __init__(self, settings: Settings, save: Callable[[Settings], object] | None = None,
                 parent: QObject | None = None) -> None:
        """Hold ``settings``; ``save`` persists them (None: keep in memory, as tests do)."""
        super().__init__(parent)
        self._settings = settings
        self._save = save

    @property
    def value(self) -> Settings:
        """The settings now."""
        return self._settings

    def update(self, **changes: object) -> Settings:
        """Change some fields, save, notify; returns the new settings."""
        self._settings = self._settings.replace(**changes)
        if self._save is not None:
            self._save(self._settings)
        self.changed.emit(self._settings)
        return self._settings


@dataclass
class AppContext:
    """The services the window uses; built only by ``slapdesk.app``."""

    library_path: Path  # the library database file
    settings: SettingsStore
    runner: TaskRunner
    database: Database | None  # the single writer; None when the library could not be opened
    data_dir: Path  # playlists, trained models and logs live below this
    models: ModelHolder  # the active model, loaded on first use in the model worker
    startup_error: str = ""  # shown in the window when the library could not be opened
    scan_on_start: list[str] = field(default_factory=list)  # folders from `slapdesk PATH`

    @property
    def playlists_dir(self) -> Path:
        """Where "Save as playlist" proposes to write."""
        return self.data_dir / "playlists"

    @property
    def models_dir(self) -> Path:
        """Imported and trained model bundles."""
        return self.data_dir / "models"
