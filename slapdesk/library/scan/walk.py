"""Find audio files under folders: fast, lossless (bytes) paths, safe from symlink loops."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

from slapdesk.library.tags.formats import AUDIO_EXTENSIONS

# (path, size, mtime_ns, inode, was_known) of a file to (re)read.
FileEntry = tuple[bytes, int, int, int, bool]


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
    return name[:1] != b"." and dot > 0 and name[dot + 1 :].lower() in AUDIO_EXTENSIONS


def iter_audio_files(root: bytes, state: WalkState) -> Iterator[tuple[bytes, int, int, int]]:
    """Yield ``(path, size, mtime_ns, inode)`` for every audio file under ``root``.

    Args:
        root: an absolute folder or file path as bytes.
        state: shared walk state; collects problems.

    Yields:
        One tuple per audio file.
    """
    found: list[FileEntry] = []
    for _ in diff_tree(root, {}, found, state):
        for path, size, mtime, inode, _known in found:
            yield path, size, mtime, inode
        found.clear()


def diff_tree(
    root: bytes,
    known: dict[bytes, tuple[int, int]],
    changed: list[FileEntry],
    state: WalkState,
) -> Iterator[int]:
    """Walk ``root`` and diff it against the library in the same loop (the rescan hot path).

    Symbolic links are followed, but a folder is entered only once per (device, inode), so
    ``a/up -> ..`` loops end. Hidden files and folders (``.name``) are skipped: trash folders,
    and the temporary files the tag writer makes. Each audio file found is popped from
    ``known`` (path -> (size, mtime_ns)); what is left afterwards vanished. New files and
    files whose size or mtime differ are appended to ``changed``. Nothing is built for an
    unchanged file: at 100k files a tuple or a generator step per file is what costs.

    Args:
        root: an absolute folder or file path as bytes.
        known: the library's files; consumed.
        changed: receives the files to (re)read.
        state: shared walk state; collects problems and unlisted folders.

    Yields:
        After each folder, the number of audio files found so far under ``root``.
    """
    try:
        root_stat = os.stat(root)
    except OSError as error:
        state.problems.append(WalkProblem(root, f"cannot open: {error.strerror}"))
        state.unlisted.append(root)
        return
    if stat.S_ISREG(root_stat.st_mode):
        previous = known.pop(root, None)
        if previous != (root_stat.st_size, root_stat.st_mtime_ns):
            entry = (root, root_stat.st_size, root_stat.st_mtime_ns, root_stat.st_ino)
            changed.append((*entry, previous is not None))
        yield 1
        return
    key = (root_stat.st_dev, root_stat.st_ino)
    if not stat.S_ISDIR(root_stat.st_mode) or key in state.seen_dirs:
        return
    state.seen_dirs.add(key)
    stack = [root]
    found = 0
    while stack:
        found += _diff_folder(stack.pop(), stack, known, changed, state)
        yield found


def _diff_folder(
    folder: bytes,
    stack: list[bytes],
    known: dict[bytes, tuple[int, int]],
    changed: list[FileEntry],
    state: WalkState,
) -> int:
    try:
        entries = os.scandir(folder)
    except OSError as error:
        state.problems.append(WalkProblem(folder, f"cannot open the folder: {error.strerror}"))
        state.unlisted.append(folder)
        return 0
    # Locals: this loop runs once per file of the library on every scan.
    pop, append, extensions, is_regular = known.pop, changed.append, AUDIO_EXTENSIONS, stat.S_ISREG
    found = 0
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
            if not is_regular(st.st_mode):
                continue
            found += 1
            path = entry.path
            previous = pop(path, None)
            if previous is None or previous[0] != st.st_size or previous[1] != st.st_mtime_ns:
                append((path, st.st_size, st.st_mtime_ns, st.st_ino, previous is not None))
    return found
