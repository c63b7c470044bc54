"""Broken and odd files for scanner tests, made from real fixtures."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import mutagen
from mutagen.flac import Picture
from mutagen.id3 import APIC
from mutagen.mp4 import MP4Cover

from slapdesk.library.demo.audio_files import make_track


def truncate(path: Path, fraction: float = 0.5) -> Path:
    """Cut a file to ``fraction`` of its size, in place."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def with_huge_picture(path: Path, megabytes: int) -> Path:
    """Embed a front cover of ``megabytes`` MiB (FLAC picture, MP4 covr or ID3 APIC)."""
    payload = b"\xff\xd8\xff\xe0" + os.urandom(1024) * (megabytes * 1024)
    audio = mutagen.File(path)
    if path.suffix == ".m4a":
        audio.tags["covr"] = [MP4Cover(payload)]
    elif path.suffix == ".flac":
        picture = Picture()
        picture.type, picture.mime, picture.data = 3, "image/jpeg", payload
        audio.add_picture(picture)
    else:
        audio.tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="", data=payload))
    audio.save()
    return path


def flac_named_mp3(folder: Path) -> Path:
    """A tagged FLAC file whose name says MP3."""
    flac = make_track(folder / "liar", "flac", tags={"title": "Really FLAC", "artist": "X"})
    target = flac.with_suffix(".mp3")
    flac.rename(target)
    return target


def unprivileged() -> list[str] | None:
    """A command prefix under which file permissions apply, or None when there is none.

    root reads and lists anything (CAP_DAC_OVERRIDE), so a permission test run as root (CI
    is) proves nothing; ``setpriv`` (util-linux) drops those capabilities for one command.
    """
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}"]
