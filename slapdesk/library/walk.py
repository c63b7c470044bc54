"""Find audio files under folders: fast, lossless paths, and safe from symlink loops."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

from slapdesk.library.tagread import AUDIO_EXTENSIONS


@dataclass(frozen=True)
class WalkProblem:
    """A folder or file the walk could not look at (it goes on without it)."""

    path: bytes
    error: str


@dataclass
class WalkState:
    """What a walk learned besides the files: problems, and folders it could not list."""

    problems: list[WalkProblem]
    unlisted: list[bytes]  # folders whose tracks must not be taken as removed
    seen_dirs: set[tuple[int, int]]  # (st_dev, st_ino) of every folder entered

    @classmethod
    def empty(cls) -> WalkState:
        """A state for a new walk (share one across roots so no folder is walked twice)."""
        return cls([], [], set())


def is_audio_name(name: bytes) -> bool:
    """True when a file name has an audio extension and is not hidden."""
    dot = name.rfind(b".")
    return dot > 0 and name[dot + 1 :].lower() in AUDIO_EXTENSIONS


def iter_audio_files(root: bytes, state: WalkState) -> Iterator[tuple[bytes, int, int, int]]:
    """Yield ``(path, size, mtime_ns, inode)`` for every audio file under ``root``.

    Symbolic links are followed, but a folder is entered only once per (device, inode), so
    ``a/up -> ..`` loops end. Hidden files and folders (``.name``) are skipped: trash folders,
    and the temporary files the tag writer makes. Problems land in ``state`` and the walk goes on.

    Args:
        root: an absolute folder or file path as bytes.
        state: shared walk state; collects problems.

    Yields:
        One tuple per audio file, from ``os.scandir`` data plus one ``stat`` call.
    """
    try:
        root_stat = os.stat(root)
    except OSError as error:
        state.problems.append(WalkProblem(root, f"cannot open: {error.strerror}"))
        state.unlisted.append(root)
        return
    if not stat.S_ISDIR(root_stat.st_mode):
        if stat.S_ISREG(root_stat.st_mode):
            yield root, root_stat.st_size, root_stat.st_mtime_ns, root_stat.st_ino
        return
    key = (root_stat.st_dev, root_stat.st_ino)
    if key in state.seen_dirs:
        return
    state.seen_dirs.add(key)
    stack = [root]
    while stack:
        yield from _scan_folder(stack.pop(), stack, state)


def _scan_folder(
    folder: bytes, stack: list[bytes], state: WalkState
) -> Iterator[tuple[bytes, int, int, int]]:
    try:
        entries = os.scandir(folder)
    except OSError as error:
        state.problems.append(WalkProblem(folder, f"cannot open the folder: {error.strerror}"))
        state.unlisted.append(folder)
        return
    extensions = AUDIO_EXTENSIONS
    with entries:
        for entry in entries:
            name = entry.name
            if name[:1] == b".":
                continue
            try:
                if entry.is_dir():
                    st = entry.stat()
                    key = (st.st_dev, st.st_ino)
                    if key not in state.seen_dirs:
                        state.seen_dirs.add(key)
                        stack.append(entry.path)
                    continue
                dot = name.rfind(b".")
                if dot <= 0 or name[dot + 1 :].lower() not in extensions:
                    continue
                st = entry.stat()
            except FileNotFoundError:
                state.problems.append(WalkProblem(entry.path, "broken symbolic link"))
                continue
            except OSError as error:
                state.problems.append(WalkProblem(entry.path, f"cannot stat: {error.strerror}"))
                continue
            if stat.S_ISREG(st.st_mode):
                yield entry.path, st.st_size, st.st_mtime_ns, st.st_ino
