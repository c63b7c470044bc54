"""Replacing a file so that a crash leaves either the old or the new one, never half of either.

The one way the app layer writes a file it would hurt to lose half-written (settings,
playlists, training manifests, tag rewrites): write a hidden temporary file in the same
folder, fsync it, ``os.replace`` it over the target, fsync the folder. ``os.replace`` is atomic
only within one file system, hence the same folder; the folder's fsync makes the rename itself
survive a power cut. Imports only the standard library.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)


def fsync_file(path: str | os.PathLike[str]) -> None:
    """Flush a file's data to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: str | os.PathLike[str]) -> None:
    """Flush a folder's entries (a rename in it) to the disk, where the platform can."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # some platforms (Windows) cannot open folders; the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        log.debug("fsync of folder %s failed", folder, exc_info=True)
    finally:
        os.close(fd)


def replace_file(temp: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Make ``temp`` (in ``target``'s folder) durable, then atomically put it at ``target``."""
    fsync_file(temp)
    os.replace(temp, target)
    fsync_dir(Path(target).parent)


@contextmanager
def atomic_output(
    target: str | os.PathLike[str], mode: str = "w", **open_args: Any
) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``target``; on success it replaces ``target`` atomically.

    On any exception the temporary file is removed and ``target`` stays as it was.

    Args:
        target: the file to write (its folder is created).
        mode: ``"w"`` or ``"wb"``.
        **open_args: passed to :func:`open` (``encoding``, ``errors``, ``newline``).

    Yields:
        The open temporary file.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Hidden (leading dot), no audio extension: scanners and players never pick it up. Created
    # with 0o666 less the umask, as a plain open() would, so the target keeps usual permissions.
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, mode, **open_args) as out:
            yield out
        replace_file(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
