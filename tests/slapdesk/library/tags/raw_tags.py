"""Tags as the file's bytes hold them, parsed without mutagen: ID3 frames, MP4 items, Vorbis.

The exactness tests compare these before and after a write: a field SlapDesk did not mean to
change must come back byte for byte, which mutagen's own (translated) view cannot show.
"""

from __future__ import annotations

from pathlib import Path

import mutagen

from slapdesk.library.tags.lean_load import syncsafe

Frame = tuple[str, bytes, bytes]  # frame id, flags, payload


def _id3_block(data: bytes) -> bytes:
    """The ID3v2 tag of an MP3, WAV or AIFF file (from its header to its end)."""
    if data.startswith(b"ID3"):
        return data[: 10 + syncsafe(data[6:10])]
    little = data.startswith(b"RIFF")
    offset = 12
    while offset + 8 <= len(data):
        name, size = data[offset : offset + 4], data[offset + 4 : offset + 8]
        length = int.from_bytes(size, "little" if little else "big")
        if name.lower() == b"id3 ":
            return data[offset + 8 : offset + 8 + length]
        offset += 8 + length + (length & 1)
    raise AssertionError("no ID3 tag")


def id3_frames(path: Path) -> tuple[int, list[Frame]]:
    """(minor version, frames in file order) of the file's ID3v2.3 / v2.4 tag."""
    block = _id3_block(path.read_bytes())
    version, flags = block[3], block[5]
    assert version in (3, 4) and not flags & 0xC0, "unsynchronised or extended: not handled"
    frames, offset = [], 10
    while offset + 10 <= len(block) and block[offset : offset + 1] != b"\0":
        raw = block[offset + 4 : offset + 8]
        size = syncsafe(raw) if version == 4 else int.from_bytes(raw, "big")
        frame_id = block[offset : offset + 4].decode("ascii")
        frames.append(
            (frame_id, block[offset + 8 : offset + 10], block[offset + 10 : offset + 10 + size])
        )
        offset += 10 + size
    return version, frames


def txxx_desc(payload: bytes) -> str:
    """The description of a TXXX frame's payload."""
    encoding, body = payload[0], payload[1:]
    if encoding in (0, 3):
        return body.split(b"\0")[0].decode("latin-1" if encoding == 0 else "utf-8")
    end = next(i for i in range(0, len(body) - 1, 2) if body[i : i + 2] == b"\0\0")
    return body[:end].decode("utf-16" if encoding == 1 else "utf-16-be")


def frame_key(frame: Frame) -> str:
    """``TXXX:DESC`` for user text frames, else the frame id."""
    return f"TXXX:{txxx_desc(frame[2])}" if frame[0] == "TXXX" else frame[0]


def mp4_items(path: Path) -> list[tuple[bytes, bytes]]:
    """(name, raw bytes) of every item atom under moov.udta.meta.ilst, in file order."""
    data = path.read_bytes()

    def children(start: int, end: int) -> list[tuple[bytes, int, int]]:
        out, offset = [], start
        while offset + 8 <= end:
            size = int.from_bytes(data[offset : offset + 4], "big")
            out.append((data[offset + 4 : offset + 8], offset, offset + size))
            offset += size
        return out

    level = children(0, len(data))
    for name, skip in ((b"moov", 8), (b"udta", 8), (b"meta", 12), (b"ilst", 8)):
        atom = next(a for a in level if a[0] == name)
        level = children(atom[1] + skip, atom[2])
    return [(name, data[start:end]) for name, start, end in level]


def vorbis_comments(path: Path) -> list[tuple[str, str]]:
    """The Vorbis comment list (vendor first) and, for FLAC, every picture's bytes."""
    audio = mutagen.File(path)
    pairs = [("\0vendor", audio.tags.vendor), *audio.tags]
    pictures = [("\0picture", p.data.hex()) for p in getattr(audio, "pictures", [])]
    return pairs + pictures
