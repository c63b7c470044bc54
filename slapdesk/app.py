"""The composition root: the one place that builds SlapDesk's services and the window.

``slapdesk`` with no command (or with folder arguments) ends up in ``run_gui``: it reads the
settings, opens the library database (the single writer), creates the task runner and hands all
of them to the main window. Nothing else in the app creates services.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from slapdesk.library.store.paths import data_dir_for, resolve_library_path
from slapdesk.settings import Settings, load_settings, save_settings, settings_path

if TYPE_CHECKING:
    from slapdesk.library.store.database import Database
    from slapdesk.ui.context import SettingsStore

log = logging.getLogger(__name__)

# Set (to anything) by packaging smoke tests: open the window, then quit with 0 once it shows.
SMOKE_TEST_ENV = "SLAPDESK_SMOKE_TEST"


def build_context(library: str | os.PathLike[str] | None = None,
                  folders: Sequence[str] = (), *, settings_file: Path | None = None,
                  runner=None, save: bool = True):
    """Build settings, database and task runner into an ``AppContext``.

    Args:
        library: ``--library`` value (else ``$SLAPDESK_LIBRARY``, else the default file).
        folders: folders given on the command line; scanned as soon as the window opens.
        settings_file: settings TOML (default: the user config folder).
        runner: a ``TaskRunner`` to use (tests pass a synchronous one).
        save: whether settings changes are written back to ``settings_file``.

    Returns:
        The ``AppContext`` for ``MainWindow``. A library that cannot be opened does not stop
        the app: the context carries the readable reason instead of a database.
    """
    from slapdesk.library.jobs.active_model import ModelHolder, library_choice
    from slapdesk.library.store.database import Database, LibraryError
    from slapdesk.ui.context import AppContext, SettingsStore
    from slapdesk.ui.tasks import TaskRunner

    library_path = resolve_library_path(library)
    settings_file = settings_file or settings_path()
    settings: Settings = load_settings(settings_file)
    # The window's own runner (not a test's synchronous one) saves settings off the GUI thread.
    store = SettingsStore(settings, (lambda s: save_settings(s, settings_file)) if save else None,
                          background=runner is None)
    database, error = None, ""
    try:
        database = Database(library_path)
    except LibraryError as exc:
        error = str(exc)
    if database is not None:
        _recover_tag_writes(database)
        _adopt_global_searches(database, store)
    scan = [str(Path(f).expanduser().resolve()) for f in folders]
    data_dir = data_dir_for(library_path)
    return AppContext(
        library_path=library_path,
        settings=store,
        runner=runner or TaskRunner(),
        database=database,
        data_dir=data_dir,
        models=ModelHolder(library_choice(database, settings.active_model), data_dir / "models",
                           data_dir / "runs"),
        startup_error=error,
        scan_on_start=scan,
    )


def _adopt_global_searches(database: Database, store: SettingsStore) -> None:
    """Saved searches belong to a library now: the old global list moves into this one."""
    from slapdesk.library.store.preferences import adopt_saved_searches

    old = store.value.saved_searches
    if old:
        adopt_saved_searches(database, [(s.name, s.query) for s in old])
        store.update(saved_searches=())


def _recover_tag_writes(database: Database) -> None:
    """Remove stale temp files and reconcile interrupted tag writes before anything writes."""
    from slapdesk.library.tags.journal import JournalBusyError, recover

    try:
        recover(database)
    except JournalBusyError:
        log.info("another process is writing tags; start-up recovery left to it")
    except Exception:  # never keep the window from opening; the next run recovers again
        log.exception("start-up recovery of tag writes failed")


def run_gui(library: str | None = None, folders: Sequence[str] = ()) -> int:
    """Open the window on the library (scanning ``folders`` first) and run until it closes."""
    from slapdesk.ui.application import (
        ErrorReporter,
        exit_abandoning_workers,
        qapplication,
        quit_when_shown,
        run_event_loop,
    )
    from slapdesk.ui.main_window import MainWindow

    app = qapplication()
    ctx = build_context(library, folders)
    window = MainWindow(ctx)
    reporter = ErrorReporter(window)
    reporter.error.connect(window.show_error)
    reporter.install()
    window.show()
    if os.environ.get(SMOKE_TEST_ENV):
        quit_when_shown(window)
    code = 1
    try:
        code = run_event_loop(app)
    finally:
        ctx.settings.flush()  # the last change is on disk even if the exit below is abrupt
        if not ctx.runner.shutdown(0):  # closing the window waited QUIT_GRACE_MS already
            exit_abandoning_workers(code)  # a worker may still use the database: leave it open
        if ctx.database is not None:
            ctx.database.close()
    return code
