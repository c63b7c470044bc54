"""What the composition root hands the window: settings, library, task runner, folders."""

from __future__ import annotations

import logging
import threading
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

log = logging.getLogger(__name__)


class LatestWriter:
    """Saves the latest value on a short-lived thread: a burst of changes writes once or twice.

    A save is an atomic write with two fsyncs (tens to hundreds of milliseconds on a busy
    disk), too slow for the GUI thread, which changes settings on a volume drag or a click.
    The thread is not a daemon: the interpreter waits for the last save before it exits.
    """

    def __init__(self, save: Callable[[Settings], object]) -> None:
        """Write with ``save``."""
        self._save = save
        self._lock = threading.Lock()
        self._pending: Settings | None = None
        self._thread: threading.Thread | None = None

    def submit(self, settings: Settings) -> None:
        """Save ``settings`` soon (replacing a save not yet begun)."""
        with self._lock:
            self._pending = settings
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="settings-writer")
                self._thread.start()

    def flush(self) -> None:
        """Wait until every submitted value is saved."""
        thread = self._thread
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        while True:
            with self._lock:
                settings, self._pending = self._pending, None
                if settings is None:
                    self._thread = None
                    return
            try:
                self._save(settings)
            except OSError as exc:  # a read-only config folder: the window goes on
                log.warning("cannot save the settings: %s", exc)


class SettingsStore(QObject):
    """The current ``Settings``; ``update`` replaces them, saves, and emits ``changed``."""

    changed = Signal(object)

    def __init__(self, settings: Settings, save: Callable[[Settings], object] | None = None,
                 parent: QObject | None = None, *, background: bool = False) -> None:
        """Hold ``settings``; ``save`` persists them (None: keep in memory, as tests do).

        ``background``: save on a writer thread (the window) instead of in ``update``.
        """
        super().__init__(parent)
        self._settings = settings
        self._save = save
        self._writer = LatestWriter(save) if background and save is not None else None

    @property
    def value(self) -> Settings:
        """The settings now."""
        return self._settings

    def update(self, **changes: object) -> Settings:
        """Change some fields, save, notify; returns the new settings."""
        self._settings = self._settings.replace(**changes)
        if self._writer is not None:
            self._writer.submit(self._settings)
        elif self._save is not None:
            self._save(self._settings)
        self.changed.emit(self._settings)
        return self._settings

    def flush(self) -> None:
        """Wait for the saves still being written (before reading the file back)."""
        if self._writer is not None:
            self._writer.flush()


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
