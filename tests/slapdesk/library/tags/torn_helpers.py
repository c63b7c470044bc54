"""Files for the torn-write test, and a file wrapper that cuts SlapDesk's writes short.

A cut is made by byte count, not by time: the wrapper lets through exactly ``budget`` bytes of
all the writes SlapDesk makes (through ``rollback.open_for_write``), then copies the folder as
it is at that instant (what a SIGKILL inside ``write()``, or a power loss before writeback,
leaves on disk) into a crash image, and aborts the write. Recovery then runs on the image, so
nothing the aborted process did after the cut can help it.
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import mutagen
from mutagen.flac import Picture
from mutagen.id3 import APIC
from mutagen.mp4 import MP4Cover

from slapdesk.library.demo.audio_files import make_track
from slapdesk.library.tags import rollback
from tests.conftest import KNOWN_TAGS

COVER = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 1024  # a 256 KiB "JPEG" cover


class Cut(BaseException):
    """The simulated crash (not an Exception: no handler of the writer's may catch it)."""


@dataclass
class WriteLog:
    """What a run wrote: (file name, bytes) per write call, in order."""

    writes: list[tuple[str, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Bytes written in all."""
        return sum(n for _name, n in self.writes)

    def phases(self) -> list[tuple[str, int, int]]:
        """(kind of file, first byte, end byte) of each run of writes to one file."""
        spans: list[tuple[str, int, int]] = []
        offset = 0
        for name, size in self.writes:
            kind = _kind(name)
            if spans and spans[-1][0] == kind and spans[-1][2] == offset:
                spans[-1] = (kind, spans[-1][1], offset + size)
            elif size:
                spans.append((kind, offset, offset + size))
            offset += size
        return spans


def _kind(name: str) -> str:
    if name.endswith(rollback.JOURNAL_SUFFIX):
        return "journal"
    if name.endswith(rollback.TEMP_SUFFIX):
        return "copy"
    return "in place"


class _CutFile:
    def __init__(self, inner: Any, cutter: Cutter, name: str) -> None:
        self._inner, self._cutter, self._name = inner, cutter, name

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        left = self._cutter.left
        if left is not None and len(view) >= left and len(view):
            self._inner.write(bytes(view[:left]))
            self._inner.flush()
            self._cutter.crash()
        self._cutter.log.writes.append((self._name, len(view)))
        if left is not None:
            self._cutter.left = left - len(view)
        return self._inner.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __enter__(self) -> _CutFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.close()


class Cutter:
    """Replaces ``rollback.open_for_write``: logs every write, and cuts after ``budget`` bytes."""

    def __init__(self, budget: int | None, folder: Path | None = None, image: Path | None = None):
        self.left = budget
        self.log = WriteLog()
        self.folder, self.image = folder, image

    def open(self, path: str | os.PathLike[str], mode: str) -> Any:
        return _CutFile(open(path, mode), self, os.path.basename(os.fsdecode(path)))

    def crash(self) -> None:
        """Save the folder as the crash leaves it, then abort the writer."""
        assert self.folder is not None and self.image is not None
        shutil.copytree(self.folder, self.image)
        raise Cut


def logged(job: Callable[[], Any]) -> tuple[Any, WriteLog]:
    """Run ``job`` with every write logged (nothing cut); its result and the log."""
    cutter = Cutter(None)
    real_open = rollback.open_for_write
    rollback.open_for_write = cutter.open  # type: ignore[assignment]
    try:
        return job(), cutter.log
    finally:
        rollback.open_for_write = real_open  # type: ignore[assignment]


def crash_image(budget: int, folder: Path, image: Path, job: Callable[[], Any]) -> bool:
    """Run ``job`` cut after ``budget`` bytes; ``image`` gets the folder as left. True if cut."""
    shutil.rmtree(image, ignore_errors=True)
    real_open = rollback.open_for_write
    rollback.open_for_write = Cutter(budget, folder, image).open  # type: ignore[assignment]
    try:
        job()
    except Cut:
        return True
    finally:
        rollback.open_for_write = real_open  # type: ignore[assignment]
    shutil.copytree(folder, image)  # not cut: the write finished
    return False


def sample(start: int, end: int, most: int) -> list[int]:
    """Cut points on 4 KiB boundaries within [start, end], at most ``most``, first and last kept."""
    page = rollback.PAGE
    points = list(range(-(-start // page) * page, end + 1, page)) or [end]
    if end not in points:
        points.append(end)
    if len(points) <= most:
        return points
    step = (len(points) - 1) / (most - 1)
    return sorted({points[round(i * step)] for i in range(most)})


# ------------------------------------------------------------------------------------ files


def _faststart(path: Path) -> None:
    """Remux an MP4 so that its moov atom comes first (what streaming encoders write)."""
    tmp = path.with_name("faststart" + path.suffix)
    with (
        av.open(str(path)) as src,
        av.open(str(tmp), "w", format="mp4", options={"movflags": "faststart"}) as out,
    ):
        stream = out.add_stream_from_template(src.streams.audio[0])
        for packet in src.demux(src.streams.audio[0]):
            if packet.dts is None:
                continue
            packet.stream = stream
            out.mux(packet)
    os.replace(tmp, path)


def top_level_atoms(path: Path) -> list[bytes]:
    """The names of an MP4 file's top-level atoms, in order."""
    data, names, offset = path.read_bytes(), [], 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        names.append(data[offset + 4 : offset + 8])
        offset += size if size >= 8 else len(data)
    return names


def _add_cover(path: Path) -> None:
    audio = mutagen.File(path)
    tags = audio.tags
    if path.suffix == ".m4a":
        tags["covr"] = [MP4Cover(COVER, imageformat=MP4Cover.FORMAT_JPEG)]
    elif path.suffix in (".flac", ".ogg", ".opus"):
        picture = Picture()
        picture.type, picture.mime, picture.desc, picture.data = 3, "image/jpeg", "Cover", COVER
        if path.suffix == ".flac":
            audio.add_picture(picture)
        else:
            tags["METADATA_BLOCK_PICTURE"] = [base64.b64encode(picture.write()).decode("ascii")]
    else:
        tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="Cover", data=COVER))
    audio.save()


FLAVOURS = {
    # case name: (generator encoding, ID3 version to save with, moov first)
    "mp3-v2.3": ("mp3", 3, False), "mp3-v2.4": ("mp3", 4, False), "flac": ("flac", 4, False),
    "ogg-vorbis": ("ogg", 4, False), "opus": ("opus", 4, False),
    "m4a-aac-moov-first": ("m4a-aac", 4, True), "m4a-aac-moov-last": ("m4a-aac", 4, False),
    "m4a-alac": ("m4a-alac", 4, False), "wav": ("wav", 4, False), "aiff": ("aiff", 4, False),
}  # fmt: skip


def make_case(folder: Path, flavour: str, cover: bool) -> Path:
    """One tagged file of ``flavour`` (a key of FLAVOURS), with or without a large cover."""
    encoding, id3_version, moov_first = FLAVOURS[flavour]
    path = make_track(folder / flavour, encoding, seconds=0.5)
    if moov_first:
        _faststart(path)
    from slapdesk.library.demo.audio_files import write_tags

    write_tags(path, KNOWN_TAGS)
    if cover:
        _add_cover(path)
    if id3_version == 3:
        audio = mutagen.File(path)
        audio.tags.update_to_v23()
        audio.save(v2_version=3, v23_sep=None)
    return path
