r"""M3U8 playlists: write a result list for any player, read one back as paths.

Extended M3U in UTF-8 (``#EXTM3U`` / ``#EXTINF:seconds,Artist - Title``). Paths are written
relative to the playlist's folder when they lie below it (the playlist then survives moving the
whole tree), absolute otherwise. Names that are not valid UTF-8 are written with
``surrogateescape`` so the bytes on disk are the file's real name.

A playlist is a list of lines, and players split lines on more than ``\n``: ``\r``, NEL
(``\x85``), U+2028 and U+2029, vertical tab, form feed, the file separators. A title or a file
name holding one of those would add entries nobody chose (a title ``x\r/etc/passwd`` is one),
so titles lose every line-breaking or control character, and a file whose *name* holds one is
left out and reported: it cannot be written so that every player reads it back as itself.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from engine.atomic_files import atomic_output

log = logging.getLogger(__name__)

PLAYLIST_SUFFIX = ".m3u8"


@dataclass(frozen=True)
class PlaylistEntry:
    """One line of a playlist."""

    path: str  # absolute file path
    duration: float | None = None  # seconds; -1 is written when unknown
    title: str = ""  # "Artist - Title" as players show it


# What some player treats as the end of a line (str.splitlines' set), plus the other controls.
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
_CONTROLS = frozenset(chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0)))
# Bytes 0x80-0x9F of a non-UTF-8 name reach the file raw: a Latin-1 reader sees C1 controls.
_RAW_C1 = frozenset(chr(0xDC00 + c) for c in range(0x80, 0xA0))
_UNSAFE = _LINE_BREAKS | _CONTROLS | _RAW_C1 | {"\ufeff"}


@dataclass
class PlaylistReport:
    """What ``export_m3u8`` wrote, and what it left out."""

    written: int  # entries in the playlist
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (path, why)


def _relative(path: str, folder: Path) -> str:
    try:
        relative = os.path.relpath(path, folder)
    except ValueError:  # another drive on Windows
        return path
    if relative.startswith(os.pardir):
        return path
    # A line starting with "#" is a comment, and readers strip leading blanks.
    return f".{os.sep}{relative}" if relative[:1] in ("#", " ", "\t") else relative


def clean_title(title: str) -> str:
    """A title on one line: every line-breaking or control character becomes a space."""
    return " ".join("".join(" " if c in _UNSAFE else c for c in title).split())


def name_problem(path: str) -> str | None:
    """Why ``path`` cannot be a playlist line that reads back as itself, or None."""
    bad = sorted({c for c in path if c in _UNSAFE})
    if bad:
        shown = ", ".join(f"U+{ord(c) if ord(c) < 0xDC00 else ord(c) - 0xDC00:04X}" for c in bad)
        return f"its name holds a line break or control character ({shown})"
    if path != path.rstrip():
        return "its name ends with a blank, which players strip"
    return None


def export_m3u8(target: Path, entries: Iterable[PlaylistEntry]) -> PlaylistReport:
    """Write a playlist (atomically); files whose names cannot be written safely are left out."""
    target = Path(target)
    folder = target.parent.resolve()
    lines = ["#EXTM3U"]
    report = PlaylistReport(0)
    for entry in entries:
        why = name_problem(entry.path)
        if why is not None:
            report.left_out.append((entry.path, why))
            log.warning("%r left out of %s: %s", entry.path, target, why)
            continue
        seconds = -1 if entry.duration is None else round(entry.duration)
        title = clean_title(entry.title) or clean_title(Path(entry.path).stem)
        lines.append(f"#EXTINF:{seconds},{title}")
        lines.append(_relative(entry.path, folder))
        report.written += 1
    text_args = {"encoding": "utf-8", "errors": "surrogateescape", "newline": "\n"}
    with atomic_output(target, "w", **text_args) as out:
        out.write("\n".join(lines) + "\n")
    return report


def write_m3u8(target: Path, entries: Iterable[PlaylistEntry]) -> int:
    """``export_m3u8``, returning only the number of entries written."""
    return export_m3u8(target, entries).written


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
