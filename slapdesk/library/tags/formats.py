"""The format registry: one record per audio container, and the one sniffer.

Everything that needs to know a format asks here: the scanner's walk (which extensions to
look at), the reader (sniffing, mutagen class, fast loader, integrity check, codec name), the
writer (which tag system and field-map column, how a verified write is done) and the demo /
test generators (how to encode a file of the format). Adding a format is one ``Format`` record
in ``REGISTRY`` plus its tests.

This module runs inside the scanner's worker processes: it imports only mutagen, the standard
library and the two tag modules below it (``integrity``, ``lean_load``), never the database.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal

from mutagen import (
    aac,
    aiff,
    asf,
    flac,
    monkeysaudio,
    mp3,
    mp4,
    musepack,
    oggflac,
    oggopus,
    oggspeex,
    oggvorbis,
    wave,
    wavpack,
)

from slapdesk.library.tags import integrity
from slapdesk.library.tags import lean_load as lean
from slapdesk.library.tags.lean_load import syncsafe

# Which column of ``fields.FIELDS`` maps the format's tags (None: no tags mutagen can read).
TagFamily = Literal["id3", "vorbis", "mp4", "ape", "asf"]
# The tag families SlapDesk writes (``containers`` knows how to set a field in each).
WRITABLE_FAMILIES = frozenset(("id3", "vorbis", "mp4"))


@dataclass(frozen=True)
class Encoding:
    """How the demo / test generator encodes one flavour of a format with FFmpeg (PyAV)."""

    name: str  # short id used in tests, e.g. "m4a-alac"
    suffix: str  # file extension including the dot
    container: str  # FFmpeg muxer name
    codec: str  # FFmpeg encoder name
    sample_format: str  # sample format the encoder accepts
    channels: int  # the native Vorbis encoder only accepts stereo
    bit_rate: int | None = None  # lossy codecs only


@dataclass(frozen=True)
class Format:
    """Everything SlapDesk knows about one container format.

    How a verified write is done is the same for every writable format (``tags.write``): the
    new tag is built against the file without touching it and checked; it goes in place only
    when it fits the old tag's room, with the overwritten bytes journaled durably first, else
    through a verified copy that replaces the original atomically. ``tags`` says whether a
    format takes part (``id3`` / ``vorbis`` / ``mp4``) and in which tag system.
    """

    key: str  # stored in tracks.format: "mp3", "flac", "m4a", ...
    name: str  # for people: "MP3", "Ogg Vorbis", ...
    extensions: tuple[str, ...]  # lower case, without the dot; the first is the usual one
    magic: Callable[[bytes], bool] | None  # does a file head carry this format's signature?
    mutagen_class: type  # parses the file (and writes its tags)
    tags: TagFamily | None  # the field-map column; writable when in WRITABLE_FAMILIES
    codec: Callable[[Any], str]  # the codec name from mutagen's stream info
    lean_loader: Callable[[BinaryIO], Any] | None = None  # loads without big pictures
    integrity_check: integrity.Check | None = None  # is the file whole? (cheap)
    encodings: tuple[Encoding, ...] = ()  # what the generator can make of this format

    @property
    def writable(self) -> bool:
        """Whether SlapDesk writes tags into files of this format."""
        return self.tags in WRITABLE_FAMILIES


def _fixed(name: str) -> Callable[[Any], str]:
    return lambda info: name


def _mp3_codec(info: Any) -> str:
    layer = getattr(info, "layer", 3)
    return "mp3" if layer == 3 else f"mp{layer}"


def _mp4_codec(info: Any) -> str:
    codec = str(getattr(info, "codec", "") or "")
    return "aac" if codec.startswith("mp4a.40") else (codec or "mp4")


def _wav_codec(info: Any) -> str:
    return {1: "pcm", 3: "pcm_float"}.get(getattr(info, "audio_format", 1), "wav")


def _mpeg_sync(head: bytes) -> bool:
    return len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0


def _ogg_packet(head: bytes) -> bytes:
    """The start of the first packet of an Ogg stream (names the codec inside)."""
    if not head.startswith(b"OggS") or len(head) < 28:
        return b""
    start = 27 + head[26]
    return head[start : start + 8]


_ASF_GUID = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")

REGISTRY: tuple[Format, ...] = (
    Format(
        "mp3", "MP3", ("mp3", "mp2"),
        # MPEG frame sync with layer bits other than 00 (those mean ADTS AAC).
        lambda h: _mpeg_sync(h) and h[1] & 0x06 != 0,
        mp3.MP3, "id3", _mp3_codec, lean.load_mp3, integrity.check_mp3,
        (Encoding("mp3", ".mp3", "mp3", "libmp3lame", "fltp", 1, 128_000),),
    ),
    Format(
        "flac", "FLAC", ("flac",), lambda h: h.startswith(b"fLaC"),
        flac.FLAC, "vorbis", _fixed("flac"), lean.load_flac, integrity.check_flac,
        (Encoding("flac", ".flac", "flac", "flac", "s16", 1),),
    ),
    Format(
        "ogg", "Ogg Vorbis", ("ogg", "oga"), lambda h: _ogg_packet(h).startswith(b"\x01vorbis"),
        oggvorbis.OggVorbis, "vorbis", _fixed("vorbis"), None, integrity.check_ogg,
        (Encoding("ogg", ".ogg", "ogg", "vorbis", "fltp", 2, 96_000),),
    ),
    Format(
        "opus", "Opus", ("opus",), lambda h: _ogg_packet(h).startswith(b"OpusHead"),
        oggopus.OggOpus, "vorbis", _fixed("opus"), None, integrity.check_ogg,
        (Encoding("opus", ".opus", "ogg", "libopus", "flt", 1, 64_000),),
    ),
    Format(
        "oggflac", "Ogg FLAC", (), lambda h: _ogg_packet(h).startswith(b"\x7fFLAC"),
        oggflac.OggFLAC, "vorbis", _fixed("flac"), None, integrity.check_ogg,
    ),
    Format(
        "speex", "Speex", ("spx",), lambda h: _ogg_packet(h).startswith(b"Speex"),
        oggspeex.OggSpeex, "vorbis", _fixed("speex"), None, integrity.check_ogg,
    ),
    Format(
        "m4a", "MP4/M4A", ("m4a", "m4b", "mp4", "alac"), lambda h: h[4:8] == b"ftyp",
        mp4.MP4, "mp4", _mp4_codec, lean.load_mp4, integrity.check_mp4,
        (
            Encoding("m4a-aac", ".m4a", "mp4", "aac", "fltp", 1, 128_000),
            Encoding("m4a-alac", ".m4a", "mp4", "alac", "s16p", 1),
        ),
    ),
    Format(
        "aac", "AAC", ("aac",), lambda h: _mpeg_sync(h) and h[1] & 0x06 == 0,
        aac.AAC, None, _fixed("aac"),
    ),
    Format(
        "wav", "WAV", ("wav",), lambda h: h[:4] in (b"RIFF", b"RF64") and h[8:12] == b"WAVE",
        wave.WAVE, "id3", _wav_codec, None, integrity.check_iff,
        (Encoding("wav", ".wav", "wav", "pcm_s16le", "s16", 1),),
    ),
    Format(
        "aiff", "AIFF", ("aif", "aiff", "aifc"),
        lambda h: h[:4] == b"FORM" and h[8:12] in (b"AIFF", b"AIFC"),
        aiff.AIFF, "id3", _fixed("pcm"), None, integrity.check_iff,
        (Encoding("aiff", ".aiff", "aiff", "pcm_s16be", "s16", 1),),
    ),
    Format(
        "wavpack", "WavPack", ("wv",), lambda h: h.startswith(b"wvpk"),
        wavpack.WavPack, "ape", _fixed("wavpack"),
    ),
    Format(
        "monkeysaudio", "Monkey's Audio", ("ape",), lambda h: h.startswith(b"MAC "),
        monkeysaudio.MonkeysAudio, "ape", _fixed("monkeysaudio"),
    ),
    Format(
        "musepack", "Musepack", ("mpc",), lambda h: h.startswith((b"MPCK", b"MP+")),
        musepack.Musepack, "ape", _fixed("musepack"),
    ),
    Format(
        "asf", "WMA", ("wma",), lambda h: h.startswith(_ASF_GUID),
        asf.ASF, "asf", _fixed("wma"),
    ),
)  # fmt: skip

BY_KEY: dict[str, Format] = {fmt.key: fmt for fmt in REGISTRY}
BY_EXTENSION: dict[str, Format] = {ext: fmt for fmt in REGISTRY for ext in fmt.extensions}
# What the scanner's walk looks at (file names as bytes, lower case, without the dot).
AUDIO_EXTENSIONS: frozenset[bytes] = frozenset(ext.encode() for ext in BY_EXTENSION)
# Formats an ID3v2 tag may stand in front of (besides MP3, whose tag it normally is).
_BEHIND_ID3 = ("flac", "aac")


def sniff(head: bytes, file: BinaryIO | None = None) -> Format | None:
    """The format a file's first bytes name, or None when no signature matches.

    An ID3v2 tag normally leads an MP3, but some FLAC and ADTS AAC files carry one too: the
    bytes behind the tag decide. Reader and writer both call this, so they always agree.

    Args:
        head: the first bytes of the file (at least 64 when the file has them).
        file: the open file, to look past an ID3 tag larger than ``head``.
    """
    if head.startswith(b"ID3") and len(head) >= 10:
        end = 10 + syncsafe(head[6:10]) + (10 if head[5] & 0x10 else 0)
        after = head[end : end + 64]
        if len(after) < 4 and file is not None:
            file.seek(end)
            after = file.read(64)
        behind = sniff(after) if after and not after.startswith(b"ID3") else None
        return behind if behind is not None and behind.key in _BEHIND_ID3 else BY_KEY["mp3"]
    for fmt in REGISTRY:
        if fmt.magic is not None and fmt.magic(head):
            return fmt
    return None


def by_extension(name: str | bytes | os.PathLike[str] | os.PathLike[bytes]) -> Format | None:
    """The format a file name's extension suggests (only a hint: content wins)."""
    extension = os.path.splitext(os.fsdecode(name))[1][1:].lower()
    return BY_EXTENSION.get(extension)


def detect(path: str | bytes | os.PathLike[str] | os.PathLike[bytes]) -> Format | None:
    """The format of a file on disk: by content, else by extension; None when neither knows.

    Raises:
        OSError: the file cannot be read.
    """
    with open(path, "rb") as file:
        head = file.read(4096)
        return sniff(head, file) or by_extension(path)


def of_audio(audio: Any) -> Format | None:
    """The record whose mutagen class loaded ``audio`` (None for other objects)."""
    for fmt in REGISTRY:
        if type(audio) is fmt.mutagen_class:
            return fmt
    for fmt in REGISTRY:
        if isinstance(audio, fmt.mutagen_class):
            return fmt
    return None


def display_name(key: str, codec: str = "") -> str:
    """What to call a file's format in a table: "FLAC", "Ogg Vorbis", "M4A ALAC".

    The codec alone ("pcm", "vorbis") means little to people; an MP4 file's codec is worth
    adding because AAC (lossy) and ALAC (lossless) share the container.
    """
    fmt = next((f for f in REGISTRY if f.key == key), None)
    if fmt is None:
        return codec.upper()
    if fmt.key == "m4a" and codec in {"aac", "alac"}:
        return f"M4A {codec.upper()}"
    return fmt.name


def encodings() -> dict[str, Encoding]:
    """Every flavour the generator can encode, by name (``mp3``, ``m4a-aac``, ...)."""
    return {enc.name: enc for fmt in REGISTRY for enc in fmt.encodings}


def format_of_encoding(name: str) -> Format:
    """The container record an encoding belongs to (``m4a-alac`` -> the ``m4a`` record)."""
    for fmt in REGISTRY:
        if any(enc.name == name for enc in fmt.encodings):
            return fmt
    raise KeyError(name)
