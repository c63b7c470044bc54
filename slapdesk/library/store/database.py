"""The SQLite library file: one writer connection, read-only readers, migrations.

Writes go through :meth:`Database.transaction` (``BEGIN IMMEDIATE``, so a read-then-write
never loses to another writer with "database is locked"). Readers, such as the UI, open their
own connection with :func:`open_readonly`; WAL lets them read while a scan writes.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from slapdesk.library.store.schema import MIGRATIONS, SCHEMA_VERSION

log = logging.getLogger(__name__)

# A reader's connection and what its reads raise, named here so that the window can hold one
# and catch the other without importing sqlite3 (it only reads through track_rows).
Reader = sqlite3.Connection
ReadError = sqlite3.Error

# How long a connection waits for another process's write lock before giving up.
_BUSY_TIMEOUT_MS = 10_000


class LibraryError(Exception):
    """The library file cannot be used; the message says what to do."""


# Less free space than this beside the library makes an I/O error a full disk: SQLite
# reports ENOSPC on its shared-memory and WAL files as "disk I/O error".
_NEARLY_FULL_BYTES = 1 << 20


def explain_write_error(path: Path, error: sqlite3.Error) -> str:
    """One line for a database error: which library file, what happened, what to do."""
    text = str(error)
    lowered = text.lower()
    try:
        nearly_full = shutil.disk_usage(path.parent).free < _NEARLY_FULL_BYTES
    except OSError:
        nearly_full = False
    kept = "the change in progress was rolled back, everything saved before it is intact"
    if "full" in lowered or ("i/o" in lowered and nearly_full):
        what = "the disk holding it is full"
        todo = "free some space, then run the command again"
    elif "readonly" in lowered or "read-only" in lowered:
        what = "it cannot be written (read-only file, folder or disk)"
        todo = "check the permissions, or choose another library with --library PATH"
    elif "i/o" in lowered:
        what = "the disk reported an I/O error"
        todo = "check the disk, then run the command again"
    elif "locked" in lowered or "busy" in lowered:
        what = "another program kept it locked"
        todo = "close the other program, then run the command again"
    else:
        what, todo = "SQLite failed", "run the command again; if it persists, restore a backup"
    return f"cannot use the library {path}: {what} (SQLite: {text}); {kept}; {todo}"


def _sqlite_says_not_a_database(error: sqlite3.Error) -> bool:
    text = str(error).lower()
    return "not a database" in text or "malformed" in text or "encrypted" in text


def _configure(conn: sqlite3.Connection, *, readonly: bool) -> None:
    conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    if not readonly:
        # WAL: readers never block the writer; NORMAL sync is durable across app crashes
        # and loses at most the last transactions on power loss, never consistency.
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            log.warning("SQLite refused WAL mode (got %s); continuing without it", mode)
        conn.execute("PRAGMA synchronous = NORMAL")


def _check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    problems = [row[0] for row in conn.execute("PRAGMA quick_check").fetchall()]
    if problems != ["ok"]:
        raise LibraryError(
            f"The library file {path} is damaged ({problems[0]}). Restore a backup, or move it "
            "aside and scan your folders again to rebuild it."
        )


class Database:
    """The library database, opened for writing, migrated to the current schema.

    Use one instance per process for writing; it may be shared between threads (a lock
    serialises transactions), but the app gives all writes to one writer thread.

    Args:
        path: the library file; created (with its folder) when missing.

    Raises:
        LibraryError: the file is not a SQLite database, is damaged, is from a newer
            SlapDesk, or its folder cannot be written.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._depth = 0
        self.conn = self._connect()
        try:
            _check_integrity(self.conn, self.path)
            self._migrate()
        except sqlite3.DatabaseError as error:
            self.conn.close()
            raise self._explain(error) from error
        except BaseException:
            self.conn.close()
            raise

    # -- opening -------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise LibraryError(
                f"Cannot create the folder {folder} for the library ({error.strerror}). Choose "
                "another place with --library PATH or the SLAPDESK_LIBRARY variable."
            ) from error
        if self.path.is_dir():
            raise LibraryError(
                f"The library path {self.path} is a folder. Give a file name, e.g. "
                f"--library {self.path / 'library.sqlite'}."
            )
        if not self.path.exists() and not os.access(folder, os.W_OK | os.X_OK):
            raise LibraryError(
                f"Cannot create the library in {folder}: the folder is not writable. Choose "
                "another place with --library PATH or the SLAPDESK_LIBRARY variable."
            )
        try:
            # Autocommit mode: transaction() issues BEGIN IMMEDIATE / COMMIT itself.
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=10
            )
            _configure(conn, readonly=False)
        except sqlite3.DatabaseError as error:
            raise self._explain(error) from error
        return conn

    def _explain(self, error: sqlite3.Error) -> LibraryError:
        if _sqlite_says_not_a_database(error):
            return LibraryError(
                f"{self.path} is not a SlapDesk library (SQLite says: {error}). Move the file "
                "aside, or choose another library with --library PATH."
            )
        if "readonly" in str(error).lower() or "unable to open" in str(error).lower():
            return LibraryError(
                f"Cannot write the library {self.path} ({error}). Check the permissions of the "
                "file and its folder, or choose another one with --library PATH."
            )
        return LibraryError(explain_write_error(self.path, error))

    def _migrate(self) -> None:
        with self.transaction():
            version = schema_version(self.conn)
            if version > SCHEMA_VERSION:
                raise LibraryError(
                    f"The library {self.path} was written by a newer SlapDesk (schema "
                    f"{version}; this one knows up to {SCHEMA_VERSION}). Upgrade SlapDesk, "
                    "or use another library with --library PATH."
                )
            if version == 0 and _has_foreign_tables(self.conn):
                raise LibraryError(
                    f"{self.path} is a SQLite database but not a SlapDesk library. Choose "
                    "another file with --library PATH."
                )
            if version == 0:
                self.conn.execute(
                    "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at REAL)"
                )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                log.info("migrating %s to schema %d", self.path, target)
                MIGRATIONS[target](self.conn)
                self.conn.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                    (target, time.time()),
                )

    # -- transactions --------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run the block in one ``BEGIN IMMEDIATE`` transaction; nested blocks join it.

        Commits when the block ends, rolls back when it raises (KeyboardInterrupt included).

        Yields:
            The writer connection.
        """
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self.conn
            except BaseException:
                # A Ctrl-C landing inside COMMIT can leave no transaction to roll back.
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")
            finally:
                self._depth = 0

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        """Run one read statement on the writer connection (writes belong in transaction())."""
        return self.conn.execute(sql, params)

    # -- lifetime ------------------------------------------------------------------------------

    def backup(self, target: str | os.PathLike[str]) -> None:
        """Write a consistent copy of the library to ``target`` (``VACUUM INTO``)."""
        self.conn.execute("VACUUM INTO ?", (os.fspath(target),))

    def close(self) -> None:
        """Close the connection (checkpointing the WAL)."""
        self.conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def schema_version(conn: sqlite3.Connection) -> int:
    """The schema version of an open library (0 for an empty database)."""
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if not has_table:
        return 0
    return int(conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0])


def _has_foreign_tables(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table'").fetchone() is not None


def open_readonly(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """Open a read-only connection for a reader thread (the UI, search, reports).

    Args:
        path: an existing library file.

    Returns:
        A connection that cannot write; it sees each writer commit as it lands.

    Raises:
        LibraryError: the file is missing, not a SQLite database, or not a SlapDesk library.
    """
    file = Path(path)
    if not file.is_file():
        raise LibraryError(
            f"There is no library at {file}. Scan a folder first (slapdesk scan ~/Music) or "
            "point --library PATH at an existing library."
        )
    uri = f"{file.resolve().as_uri()}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=10)
        _configure(conn, readonly=True)
        version = schema_version(conn)
    except sqlite3.DatabaseError as error:
        raise LibraryError(
            f"{file} is not a SlapDesk library (SQLite says: {error}). Choose another "
            "library with --library PATH."
        ) from error
    if version == 0:
        conn.close()
        raise LibraryError(f"{file} is not a SlapDesk library. Scan a folder first.")
    if version > SCHEMA_VERSION:
        conn.close()
        raise LibraryError(
            f"The library {file} was written by a newer SlapDesk (schema {version}). "
            "Upgrade SlapDesk."
        )
    return conn
