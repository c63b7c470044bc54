"""Load FLAC, MP3 and MP4 files for the scanner without holding big pictures in memory.

mutagen reads a file's whole tag and then copies each frame out of it: a 48 MiB cover costs
about 190 MiB to read an MP3's title, 140 MiB for an M4A. The scanner needs no pictures, so
these loaders seek past them and hand mutagen only the rest:

- FLAC: read STREAMINFO and the Vorbis comment block, seek past every other block.
- MP3 with an ID3v2 tag over 1 MiB: copy the frames except pictures and other binary frames
  into a small in-memory tag, then parse that with mutagen.
- MP4: drop ``covr`` (and any item over 1 MiB) from the parsed atom tree before mutagen reads
  the metadata items.

Each loader returns an object with mutagen's ``info`` and ``tags``; the format registry
(``formats.Format.lean_loader``) says which format uses which.
"""

from __future__ import annotations

import contextlib
import io
import os
from typing import Any, BinaryIO

from mutagen import flac, mp3, mp4
from mutagen.id3 import ID3

# Items larger than this are never read into memory (tags are small; pictures are not).
BIG_ITEM = 1024 * 1024
# ID3 frames that hold binary payloads the scanner never uses.
_BINARY_FRAMES = frozenset(
    (b"APIC", b"GEOB", b"PRIV", b"MCDI", b"SYLT", b"AENC", b"ENCR", b"SIGN", b"RVA2", b"EQU2")
)


class LoadedFile:
    """The two things the scanner takes from a mutagen file."""

    def __init__(self, info: Any, tags: Any) -> None:
        self.info = info
        self.tags = tags


def syncsafe(data: bytes) -> int:
    """Decode a 4-byte ID3 "syncsafe" integer (7 bits per byte)."""
    return (data[0] & 0x7F) << 21 | (data[1] & 0x7F) << 14 | (data[2] & 0x7F) << 7 | data[3] & 0x7F


def _to_syncsafe(value: int) -> bytes:
    return bytes((value >> shift) & 0x7F for shift in (21, 14, 7, 0))


def _read_exact(source: BinaryIO, length: int, what: str) -> bytes:
    data = source.read(length)
    if len(data) < length:
        raise flac.error(f"file ends inside {what}")
    return data


# -- FLAC ----------------------------------------------------------------------------------------


def load_flac(source: BinaryIO) -> LoadedFile:
    """Read STREAMINFO and the Vorbis comment; seek past pictures instead of reading them."""
    start = source.read(4)
    if start.startswith(b"ID3"):
        header = start + source.read(6)
        source.seek(10 + syncsafe(header[6:10]))
        start = source.read(4)
    if start != b"fLaC":
        raise flac.FLACNoHeaderError("no FLAC header")
    info: flac.StreamInfo | None = None
    tags: flac.VCFLACDict | None = None
    while True:
        header = source.read(4)
        if len(header) < 4:
            raise flac.error("file ends inside the metadata blocks")
        code, length = header[0] & 0x7F, int.from_bytes(header[1:4], "big")
        if code == 0 and info is None:
            info = flac.StreamInfo(_read_exact(source, length, "STREAMINFO"))
        elif code == 4 and tags is None:
            tags = flac.VCFLACDict(_read_exact(source, length, "the Vorbis comment"))
        else:
            source.seek(length, os.SEEK_CUR)
        if header[0] & 0x80:
            break
    if info is None:
        raise flac.error("no STREAMINFO block")
    audio_start = source.tell()
    end = source.seek(0, os.SEEK_END)
    # Our own mark on mutagen's StreamInfo: the integrity check starts reading here.
    info.audio_offset = audio_start  # type: ignore[attr-defined]
    info.bitrate = int((end - audio_start) * 8 / info.length) if info.length else 0
    return LoadedFile(info, tags)


# -- MP3 -----------------------------------------------------------------------------------------


def load_mp3(source: BinaryIO) -> Any:
    """Mutagen's MP3, except that a large ID3v2 tag is slimmed before parsing."""
    header = source.read(10)
    source.seek(0)
    if not header.startswith(b"ID3") or len(header) < 10 or syncsafe(header[6:10]) <= BIG_ITEM:
        return mp3.MP3(source)
    slim = _slim_id3(source, header)
    if slim is None:
        return mp3.MP3(source)  # an ID3 layout this reader leaves to mutagen
    tag_end = 10 + syncsafe(header[6:10]) + (10 if header[5] & 0x10 else 0)
    tags = ID3(io.BytesIO(slim))
    info = mp3.MPEGInfo(source, tag_end)
    return LoadedFile(info, tags)


def _slim_id3(source: BinaryIO, header: bytes) -> bytes | None:
    major, flags = header[3], header[5]
    if major not in (3, 4) or flags & 0x80:  # v2.2 or whole-tag unsynchronisation
        return None
    end = 10 + syncsafe(header[6:10])
    position = 10
    if flags & 0x40:  # extended header: v2.4 counts its own size, v2.3 does not
        source.seek(10)
        raw = source.read(4)
        position += syncsafe(raw) if major == 4 else int.from_bytes(raw, "big") + 4
    kept: list[bytes] = []
    while position + 10 <= end:
        source.seek(position)
        frame_header = source.read(10)
        frame_id = frame_header[:4]
        if len(frame_header) < 10 or not frame_id.isalnum() or not frame_id.isupper():
            break  # padding, or the end of the readable frames
        raw_size = frame_header[4:8]
        size = syncsafe(raw_size) if major == 4 else int.from_bytes(raw_size, "big")
        if frame_id not in _BINARY_FRAMES and size <= BIG_ITEM:
            kept.append(frame_header + source.read(size))
        position += 10 + size
    body = b"".join(kept)
    return b"ID3" + bytes((major, 0, 0)) + _to_syncsafe(len(body)) + body


# -- MP4 -----------------------------------------------------------------------------------------


def load_mp4(source: BinaryIO) -> LoadedFile:
    """Mutagen's MP4 parsing, minus cover art and other oversized items."""
    try:
        atoms = mp4.Atoms(source)
    except mp4.AtomError as error:
        raise mp4.MP4StreamInfoError(str(error)) from error
    info = mp4.MP4Info()
    with contextlib.suppress(mp4.MP4NoTrackError):
        info.load(atoms, source)
    tags = None
    if mp4.MP4Tags._can_load(atoms):
        ilst = atoms.path(b"moov", b"udta", b"meta", b"ilst")[-1]
        ilst.children = [
            atom for atom in ilst.children if atom.name != b"covr" and atom.length <= BIG_ITEM
        ]
        tags = mp4.MP4Tags(atoms, source)
    return LoadedFile(info, tags)
