"""M3U8 playlists: write a result list for any player, read one back as paths.

Extended M3U in UTF-8 (``#EXTM3U`` / ``#EXTINF:seconds,Artist - Title``). Paths are written
relative to the playlist's folder when they lie below it (the playlist then survives moving the
whole tree), absolute otherwise. Names that are not valid UTF-8 are written with
``surrogateescape`` so the bytes on disk are the file's real name.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from engine.atomic_files import atomic_output

PLAYLIST_SUFFIX = ".m3u8"


@dataclass(frozen=True)
class PlaylistEntry:
    """One line of a playlist."""

    path: str  # absolute file path
    duration: float | None = None  # seconds; -1 is written when unknown
    title: str = ""  # "Artist - Title" as players show it


def _relative(path: str, folder: Path) -> str:
    try:
        relative = os.path.relpath(path, folder)
    except ValueError:  # another drive on Windows
        return path
    return path if relative.startswith(os.pardir) else relative


def write_m3u8(target: Path, entries: Iterable[PlaylistEntry]) -> int:
    """Write a playlist (atomically); returns the number of entries written."""
    target = Path(target)
    lines = ["#EXTM3U"]
    count = 0
    for entry in entries:
        seconds = -1 if entry.duration is None else round(entry.duration)
        title = entry.title.replace("\n", " ") or Path(entry.path).stem
        lines.append(f"#EXTINF:{seconds},{title}")
        lines.append(_relative(entry.path, target.parent.resolve()))
        count += 1
    text_args = {"encoding": "utf-8", "errors": "surrogateescape", "newline": "\n"}
    with atomic_output(target, "w", **text_args) as out:
        out.write("\n".join(lines) + "\n")
    return count


def read_m3u8(source: Path) -> list[str]:
    """The absolute file paths a playlist lists, in order (comments and blanks skipped)."""
    source = Path(source)
    paths = []
    text = source.read_text(encoding="utf-8", errors="surrogateescape")
    for raw in text.splitlines():
        line = raw.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        path = Path(line)
        paths.append(str(path if path.is_absolute() else (source.parent / path).resolve()))
    return paths


def list_playlists(folder: Path) -> list[Path]:
    """Playlist files in a folder, by name."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in {".m3u8", ".m3u"})
