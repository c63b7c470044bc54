"""Helpers for the tag-writing tests: full tag snapshots and read-only files that hold for root."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import mutagen
import pytest

from slapdesk.library.tags.write import TEMP_PREFIX


def all_tags(path: Path) -> dict[str, str]:
    """Every tag of the file as key -> repr of the value (byte-level comparable)."""
    audio = mutagen.File(path)
    tags = audio.tags
    if tags is None:
        return {}
    if hasattr(tags, "vendor") and not hasattr(tags, "getall"):
        # Vorbis comments: an ordered list of (key, value) pairs; keep order and repeats.
        out = {"\0vendor": tags.vendor}
        for index, (key, value) in enumerate(tags):
            out[f"{key}#{index}"] = value
        return out
    out = {key: repr(value) for key, value in tags.items()}
    if hasattr(tags, "version"):
        out["\0version"] = repr(tags.version)
    return out


def without(tags: dict[str, str], *names: str) -> dict[str, str]:
    """Drop keys (case-insensitive, Vorbis ``KEY#i`` included) from a snapshot."""
    drop = {n.lower() for n in names}
    return {k: v for k, v in tags.items() if k.split("#")[0].lower() not in drop}


def vorbis_pairs(path: Path, *names: str) -> list[tuple[str, str]]:
    """Vorbis comments except ``names``, in file order."""
    drop = {n.lower() for n in names}
    return [(k, v) for k, v in mutagen.File(path).tags if k.lower() not in drop]


def temp_files(folder: Path) -> list[Path]:
    """Our temp files left in ``folder``."""
    return [p for p in folder.iterdir() if p.name.startswith(TEMP_PREFIX)]


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make a file or folder unwritable, even for root (chattr +i), and restore it afterwards."""
    if os.geteuid() == 0:
        chattr = shutil.which("chattr")
        if chattr is None:
            pytest.skip("running as root without chattr: cannot make a file read-only")
        done = subprocess.run([chattr, "+i", str(path)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"chattr +i not supported here: {done.stderr.decode().strip()}")
        try:
            yield
        finally:
            subprocess.run([chattr, "-i", str(path)], check=True)
        return
    mode = path.stat().st_mode
    path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield
    finally:
        path.chmod(mode)


def index_tracks(db, paths: list[Path]) -> list[int]:
    """Add files to the library as the scanner would (path, size, mtime_ns, inode); their ids."""
    ids = []
    with db.transaction() as conn:
        for path in paths:
            st = path.stat()
            cursor = conn.execute(
                "INSERT INTO tracks (path, size, mtime_ns, inode, added_at, updated_at) "
                "VALUES (?, ?, ?, ?, 0, 0)",
                (os.fsencode(path.absolute()), st.st_size, st.st_mtime_ns, st.st_ino),
            )
            ids.append(int(cursor.lastrowid))
    return ids
