"""Writing files so that a crash leaves the old version or the new one, never a torn file.

The one way the project does it, engine and app alike (checkpoints, bundles, feature caches,
the metrics log; settings, playlists, training manifests, tag rewrites): write a temporary file
in the target's own folder, fsync it, ``os.replace`` it over the target, fsync the folder.
``os.replace`` is atomic only within one file system, hence the same folder; the folder's fsync
makes the rename itself survive a power cut. Imports only the standard library, so the app's
lowest packages may use it without loading anything of the model.
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


def _fsync_file(path: str | os.PathLike[str]) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_file(temp: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Make ``temp`` (in ``target``'s folder) durable, then atomically put it at ``target``."""
    _fsync_file(temp)
    os.replace(temp, target)
    fsync_dir(Path(target).parent)


def temp_path(target: str | os.PathLike[str]) -> Path:
    """A fresh hidden name beside ``target`` for the file that will replace it.

    Hidden (a leading dot) and ending in ``.tmp``: scanners and players never pick it up.
    """
    target = Path(target)
    return target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")


def write_text_atomically(target: str | os.PathLike[str], text: str) -> None:
    """Replace ``target`` with ``text`` (UTF-8) atomically; on failure ``target`` is untouched."""
    temp = temp_path(target)
    try:
        temp.write_text(text, encoding="utf-8")
        replace_file(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def fsync_tree(folder: str | os.PathLike[str]) -> None:
    """Flush every file under ``folder``, and the folder itself, before it is renamed into place."""
    folder = Path(folder)
    for item in folder.rglob("*"):
        if item.is_file():
            _fsync_file(item)
    fsync_dir(folder)


@contextmanager
def atomic_output(
    target: str | os.PathLike[str], mode: str = "w", **open_args: Any
) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``target``; when the block ends it replaces ``target``.

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
    temp = temp_path(target)
    # 0o666 less the umask, as a plain open() gives: the target keeps the usual permissions.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, mode, **open_args) as out:
            yield out
        replace_file(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
