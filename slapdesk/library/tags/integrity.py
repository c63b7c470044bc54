"""Cheap checks that a file is whole, from its container structure, without decoding.

mutagen loads a truncated file as if it were whole and reports the full duration: loading is
not validation. These checks read a few bytes the scanner already has (the
file's last 64 KiB) or a handful of headers, so they cost microseconds per file:

- WAV / AIFF: the RIFF / FORM size must fit in the file.
- MP4: every top-level atom must fit in the file.
- Ogg (Vorbis, Opus, FLAC, Speex): the last page must be complete and end the stream.
- MP3 with a Xing/Info header: the audio must be as long as the header says.
- FLAC: the last frame's header must reach the sample count that STREAMINFO promises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, BinaryIO, Literal

# A check: (mutagen stream info, the open file, its size, its last 64 KiB) -> damage or None.
Check = Callable[[Any, BinaryIO, int, bytes], str | None]

# Damage below this many bytes or this fraction is ignored (padding, rounding, ID3v1 tags).
_MP3_SLACK_BYTES = 1024
_MP3_SLACK_FRACTION = 0.005


def find_damage(
    check: Check | None, info: Any, source: BinaryIO, size: int, tail: bytes
) -> str | None:
    """Describe how a file is broken in one line, or return None when it looks whole.

    Args:
        check: the format's check (``formats.Format.integrity_check``); None: no check.
        info: mutagen's stream info for the file.
        source: the open file (or an in-memory copy of a small one).
        size: the file size in bytes.
        tail: the last (up to) 64 KiB of the file.

    Returns:
        ``"truncated: ..."`` style text, or None.
    """
    if check is None:
        return None
    try:
        return check(info, source, size, tail)
    except (OSError, ValueError, IndexError, AttributeError, TypeError, ZeroDivisionError):
        return None  # the check is a bonus; mutagen already read the file


def check_iff(info: Any, source: BinaryIO, size: int, tail: bytes) -> str | None:
    """WAV / AIFF: the RIFF / FORM size must fit in the file."""
    source.seek(0)
    header = source.read(12)
    byteorder: Literal["little", "big"] = "little" if header[:4] == b"RIFF" else "big"
    declared = int.from_bytes(header[4:8], byteorder)
    # Streaming writers leave 0 or 0xFFFFFFFF: the size is unknown, not wrong.
    if declared in (0, 0xFFFFFFFF) or header[:4] == b"RF64":
        return None
    if declared + 8 > size:
        return f"truncated: the file has {size:,} of {declared + 8:,} bytes"
    return None


def check_mp4(info: Any, source: BinaryIO, size: int, tail: bytes) -> str | None:
    """MP4: every top-level atom must fit in the file."""
    offset = 0
    while offset + 8 <= size:
        source.seek(offset)
        header = source.read(16)
        atom_size = int.from_bytes(header[:4], "big")
        if atom_size == 1 and len(header) >= 16:
            atom_size = int.from_bytes(header[8:16], "big")
        elif atom_size == 0:  # runs to the end of the file
            return None
        if atom_size < 8:
            return f"damaged: invalid atom size at byte {offset:,}"
        if offset + atom_size > size:
            name = header[4:8].decode("latin-1")
            return f"truncated: the '{name}' atom needs {offset + atom_size:,} bytes, has {size:,}"
        offset += atom_size
    return None


def check_ogg(info: Any, source: BinaryIO, size: int, tail: bytes) -> str | None:
    """Ogg: the last page must be complete and end the stream."""
    start = tail.rfind(b"OggS")
    if start < 0 or len(tail) - start < 27:
        return "truncated: no complete Ogg page at the end of the file"
    segments = tail[start + 26]
    table = tail[start + 27 : start + 27 + segments]
    page_end = start + 27 + segments + sum(table)
    if len(table) < segments or page_end > len(tail):
        return "truncated: the file ends inside its last Ogg page"
    if not tail[start + 5] & 0x04:
        return "truncated: the Ogg stream has no end-of-stream page"
    return None


def check_mp3(info: Any, source: BinaryIO, size: int, tail: bytes) -> str | None:
    """MP3 with a Xing/Info header: the audio must be as long as the header says."""
    # Without a Xing/Info/VBRI header mutagen derives the length from the file size, so a
    # truncated CBR file simply reports its shorter, true length.
    if getattr(info, "bitrate_mode", None) is None or getattr(info, "sketchy", False):
        return None
    expected = info.bitrate * info.length / 8
    actual = size - info.frame_offset
    if not expected or actual >= expected * (1 - _MP3_SLACK_FRACTION) - _MP3_SLACK_BYTES:
        return None
    if not _has_frame_count(source, info.frame_offset):
        return None
    return f"truncated: {actual / expected:.0%} of the audio its header announces is present"


def _has_frame_count(source: BinaryIO, frame_offset: int) -> bool:
    """True when the first frame holds a Xing/Info/VBRI header (so the length is declared)."""
    source.seek(frame_offset)
    frame = source.read(200)
    return any(marker in frame for marker in (b"Xing", b"Info", b"VBRI"))


# FLAC block sizes by the 4-bit code of the frame header (6 and 7: stored after the number).
_FLAC_BLOCK_SIZES = {1: 192, 2: 576, 3: 1152, 4: 2304, 5: 4608} | {
    code: 256 << (code - 8) for code in range(8, 16)
}


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _flac_frame_end(header: bytes, info: Any) -> int | None:
    """The sample number where the frame starting with ``header`` ends, or None if invalid."""
    if len(header) < 6 or header[3] & 0x01:
        return None
    block_code = header[2] >> 4
    rate_code = header[2] & 0x0F
    if block_code == 0 or rate_code == 15:
        return None
    # The frame or sample number, UTF-8 style coded (1 to 7 bytes).
    first = header[4]
    extra = 0
    while extra < 7 and first & (0x80 >> extra):
        extra += 1
    if extra == 1 or extra > 6:
        return None
    count = max(extra - 1, 0)
    number = first & (0x7F >> extra) if extra else first
    position = 5
    for byte in header[position : position + count]:
        if byte & 0xC0 != 0x80:
            return None
        number = (number << 6) | (byte & 0x3F)
    position += count
    block_size = _FLAC_BLOCK_SIZES.get(block_code)
    if block_code in (6, 7):
        width = 1 if block_code == 6 else 2
        block_size = int.from_bytes(header[position : position + width], "big") + 1
        position += width
    position += {12: 1, 13: 2, 14: 2}.get(rate_code, 0)
    if len(header) <= position or _crc8(header[:position]) != header[position]:
        return None
    variable = header[1] & 0x01
    start = number if variable else number * info.max_blocksize
    return start + (block_size or 0)


def check_flac(info: Any, source: BinaryIO, size: int, tail: bytes) -> str | None:
    """FLAC: the last frame must reach the sample count STREAMINFO promises."""
    total = getattr(info, "total_samples", 0)
    if not total:
        return None
    position = len(tail)
    while True:
        position = max(tail.rfind(b"\xff\xf8", 0, position), tail.rfind(b"\xff\xf9", 0, position))
        if position < 0:
            if len(tail) >= size - getattr(info, "audio_offset", size):
                return "truncated: no audio frames after the metadata"
            return None  # no frame header in the tail: a huge last frame, nothing to say
        end = _flac_frame_end(tail[position : position + 16], info)
        if end is not None and end <= total:
            break
    if end < total:
        rate = info.sample_rate or 1
        return f"truncated: audio ends at {end / rate:.1f} s of {total / rate:.1f} s"
    return None
