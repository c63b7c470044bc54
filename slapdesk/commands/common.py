"""What several commands share: opening the library and the active model, reporting.

Every command that opens the library for writing first recovers what a crash left
(``recover_writes``; two indexed lookups when there is nothing to do), and a database error
(full disk, I/O error, read-only file) becomes one line naming the library
(``database_error_line``), never a traceback.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from slapdesk.library.store.paths import data_dir_for, resolve_library_path

if TYPE_CHECKING:
    from engine.inference import Embedder
    from engine.textquery import TextEmbedder
    from slapdesk.library.models import ModelBundle
    from slapdesk.library.store.database import Database, Reader

log = logging.getLogger(__name__)

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130
T = TypeVar("T")


def fail(command: str, message: str, code: int = EXIT_USAGE) -> int:
    """Print ``slapdesk COMMAND: message`` on stderr and return ``code``."""
    sys.stderr.write(f"slapdesk {command}: {message}\n")
    return code


def expected_errors() -> tuple[type[Exception], ...]:
    """Errors a command reports as one line (the torch-free engine module defines BundleError)."""
    from engine.bundle_info import BundleError
    from slapdesk.library.models import ModelChoiceError
    from slapdesk.library.search.query_language import QueryError
    from slapdesk.library.search.ranking import SearchError
    from slapdesk.library.store.database import LibraryError

    return (LibraryError, ModelChoiceError, BundleError, SearchError, QueryError)


class ReportedError(Exception):
    """The command already told the user what went wrong; exit with ``code``."""

    def __init__(self, code: int) -> None:
        """Remember the exit code."""
        super().__init__(code)
        self.code = code


def read_library(command: str, library: str | None, read: Callable[[Reader], T]) -> T:
    """Run ``read`` on a read-only connection to the library, closed afterwards.

    Raises:
        ReportedError: the library cannot be opened (the reason is printed, exit code 2).
    """
    from slapdesk.library.store.database import LibraryError, open_readonly

    try:
        conn = open_readonly(resolve_library_path(library))
    except LibraryError as error:
        raise ReportedError(fail(command, str(error))) from error
    try:
        return read(conn)
    finally:
        conn.close()


def open_library(library: str | None, *, must_exist: bool = True) -> Database:
    """Open the library named by ``--library`` / $SLAPDESK_LIBRARY / the default, recovered.

    Raises:
        LibraryError: when it is missing (and ``must_exist``) or unusable.
    """
    from slapdesk.library.store.database import Database, LibraryError

    path = resolve_library_path(library)
    if must_exist and not path.is_file():
        raise LibraryError(
            f"There is no library at {path}. Scan a folder first: slapdesk scan ~/Music"
        )
    db = Database(path)
    try:
        recover_writes(db)
    except BaseException:
        db.close()
        raise
    return db


def recover_writes(db: Database) -> None:
    """Reconcile what a crash left (pending tag writes, temp files, half-done undos).

    Costs two indexed lookups when there is nothing to do. A run in progress in another
    process holds the writer lock; its rows are not stale, so they are left to it.
    """
    from slapdesk.library.tags.runs import needs_recovery

    if not needs_recovery(db):
        return
    from slapdesk.library.tags.journal import JournalBusyError, recover
    from slapdesk.library.tags.journal_store import CAN_LOCK

    if not CAN_LOCK:
        return  # a run in another process would look crashed: tag, undo and the window recover

    try:
        recover(db)
    except JournalBusyError:
        log.info("another process is writing tags; recovery left to it")


def recover_before_reading(path: Path) -> None:
    """For commands that only read (``runs``, ``library``): recover first when needed.

    The check uses a read-only connection; a writer is opened only when a crash left work.
    A library that cannot be opened for writing (read-only media) is still shown as it is.
    """
    from slapdesk.library.store.database import Database, LibraryError, open_readonly
    from slapdesk.library.tags.runs import needs_recovery

    try:
        conn = open_readonly(path)
    except LibraryError:
        return  # the command reports it when it opens the library itself
    try:
        needed = needs_recovery(conn)
    finally:
        conn.close()
    if not needed:
        return
    try:
        with Database(path) as db:
            recover_writes(db)
    except LibraryError as error:
        log.warning("cannot recover interrupted tag writes: %s", error)


def database_error_line(library: str | None, error: sqlite3.Error) -> str:
    """One line for a database error: which library file, what happened, what to do."""
    from slapdesk.library.store.database import explain_write_error

    return explain_write_error(resolve_library_path(library), error)


def model_dirs(library: str | None) -> tuple[Path, Path]:
    """(imported models folder, training runs folder) that belong with this library."""
    data = data_dir_for(resolve_library_path(library))
    return data / "models", data / "runs"


def active_choice(library: str | None) -> str:
    """The library's own active model, else the user's default (settings.toml)."""
    from slapdesk.library.jobs.active_model import library_choice
    from slapdesk.library.store.database import LibraryError, open_readonly
    from slapdesk.settings import load_settings, settings_path

    default = load_settings(settings_path()).active_model
    path = resolve_library_path(library)
    if not path.is_file():
        return default
    try:
        conn = open_readonly(path)
    except LibraryError:
        return default  # the command reports an unusable library when it opens it
    try:
        return library_choice(conn, default)
    finally:
        conn.close()


def choose_model(library: str | None, name: str | None) -> ModelBundle:
    """The model named on the command line, else the library's active one."""
    from slapdesk.library.jobs.active_model import choose_model as choose

    models_dir, runs_dir = model_dirs(library)
    return choose(models_dir, runs_dir, "" if name else active_choice(library), name)


def load_embedder(bundle: ModelBundle, device: str | None) -> Embedder:
    """Load a bundle for inference (imported lazily: torch is slow to import)."""
    from engine.inference import Embedder
    from slapdesk.library.store.paths import graph_cache_dir

    return Embedder.from_bundle(bundle.path, device=device, graph_cache=graph_cache_dir())


def load_audio_embedder(bundle: ModelBundle, device: str | None) -> Embedder:
    """Load what embedding audio needs: no text tower, no transformers, torch only if needed.

    ``embed_text`` is refused on it; commands that embed text use :func:`load_embedder` or
    :func:`load_text_model`.
    """
    from engine.inference import Embedder
    from slapdesk.library.store.paths import graph_cache_dir

    return Embedder.from_bundle(bundle.path, device=device, graph_cache=graph_cache_dir(),
                                audio_only=True)


def load_text_model(bundle: ModelBundle, device: str | None) -> TextEmbedder:
    """The text side of a bundle, for commands that only embed text (queries, tag names).

    numpy, without torch, for BERT text towers; other towers load through torch.
    """
    from engine.textquery import load_text_embedder

    return load_text_embedder(bundle.path, device=device)


@contextmanager
def cancel_on_interrupt() -> Iterator[threading.Event]:
    """Yield an Event that Ctrl-C sets, so a job stops cleanly after its current batch."""
    import signal

    cancel = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield cancel
        return

    def handler(signum: int, frame: object) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt  # a second Ctrl-C stops at once
        cancel.set()
        sys.stderr.write("\nStopping after the current batch (Ctrl-C again to abort)...\n")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield cancel
    finally:
        signal.signal(signal.SIGINT, previous)
