"""Write small, real audio files in every supported format, with known tags.

Tests and the demo library use this instead of binary fixtures in git: PyAV (bundled
FFmpeg) encodes the audio and mutagen writes the tags, so every file is exactly what
a user's music folder holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import mutagen
import numpy as np
from mutagen.id3 import COMM, ID3, TALB, TBPM, TCON, TDRC, TIT2, TMOO, TPE1, TPE2, TRCK

from slapdesk.library.tags import formats
from slapdesk.library.tags.formats import Encoding

# The format registry says how each flavour is encoded; every one of them is generated here.
AudioFormat = Encoding
FORMATS: dict[str, AudioFormat] = formats.encodings()

# Opus only runs at 48 kHz; every other format keeps the rate asked for.
_OPUS_RATE = 48_000


def sine(freq_hz: float, seconds: float, sample_rate: int = 44_100, amp: float = 0.3) -> np.ndarray:
    """Return a mono float32 sine tone."""
    t = np.arange(round(seconds * sample_rate), dtype=np.float64) / sample_rate
    return (amp * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def _to_frame_array(samples: np.ndarray, fmt: AudioFormat) -> np.ndarray:
    """Lay mono float samples out as the encoder's sample format wants them."""
    channels = np.repeat(samples[None, :], fmt.channels, axis=0)
    planar = fmt.sample_format.endswith("p")
    if fmt.sample_format.startswith("s16"):
        channels = np.clip(np.round(channels * 32767), -32768, 32767).astype(np.int16)
    if planar:
        return np.ascontiguousarray(channels)
    # Packed formats interleave channels into one row.
    return np.ascontiguousarray(channels.T.reshape(1, -1))


def _dithered(samples: np.ndarray) -> np.ndarray:
    """Add noise at -80 dBFS, below hearing in music, before FFmpeg's Vorbis encoder.

    That encoder (experimental; the bundled FFmpeg has no libvorbis) fails an assertion in
    its floor coder on some clean synthetic signals and aborts the whole process, which no
    ``except`` can catch; with a little noise the floor it computes is never degenerate.
    The seed is fixed so the same samples always give the same file.
    """
    noise = np.random.default_rng(0).normal(0.0, 1e-4, samples.shape)
    return (samples + noise).astype(np.float32)


def encode(path: Path, samples: np.ndarray, sample_rate: int, fmt: AudioFormat) -> None:
    """Encode mono float32 ``samples`` into ``path`` with PyAV."""
    if fmt.codec == "libopus" and sample_rate != _OPUS_RATE:
        import soxr

        samples = soxr.resample(samples, sample_rate, _OPUS_RATE).astype(np.float32)
        sample_rate = _OPUS_RATE
    if fmt.codec == "vorbis":
        samples = _dithered(samples)
    layout = "mono" if fmt.channels == 1 else "stereo"
    with av.open(str(path), "w", format=fmt.container) as container:
        # An audio codec gives an audio stream (PyAV types add_stream for every kind).
        stream = cast(av.AudioStream, container.add_stream(fmt.codec, rate=sample_rate))
        stream.layout = layout
        stream.format = fmt.sample_format
        if fmt.bit_rate:
            stream.bit_rate = fmt.bit_rate
        if fmt.codec == "vorbis":
            # FFmpeg's own Vorbis encoder is marked experimental.
            stream.codec_context.options = {"strict": "experimental"}
        frame_size = stream.codec_context.frame_size or 1024
        data = _to_frame_array(samples, fmt)
        per_row = 1 if data.shape[0] == fmt.channels else fmt.channels
        for start in range(0, len(samples), frame_size):
            chunk = data[:, start * per_row : (start + frame_size) * per_row]
            frame = av.AudioFrame.from_ndarray(chunk, format=fmt.sample_format, layout=layout)
            frame.sample_rate = sample_rate
            # Explicit timestamps: without them FFmpeg's Vorbis encoder writes granule
            # positions that make the file look a fraction of its real length.
            frame.pts = start
            frame.time_base = Fraction(1, sample_rate)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def write_tags(path: Path, tags: Mapping[str, str | Sequence[str]]) -> None:
    """Write logical tags (title, artist, album, albumartist, genre, mood, year, ...)."""
    fmt = formats.detect(path)
    if fmt is None or not fmt.writable:
        raise ValueError(f"{path}: not a format whose tags can be written")
    if fmt.tags == "id3":
        _write_id3(path, tags)
        return
    audio = mutagen.File(path)
    if audio is None:
        raise ValueError(f"{path}: mutagen cannot open it")
    if audio.tags is None:
        audio.add_tags()
    keys = _MP4_KEYS if fmt.tags == "mp4" else _VORBIS_KEYS
    for name, value in tags.items():
        values = [value] if isinstance(value, str) else list(value)
        key = keys[name]
        if fmt.tags == "mp4":
            if key == "trkn":
                audio.tags[key] = [(int(values[0]), 0)]
            elif key == "tmpo":
                audio.tags[key] = [int(values[0])]
            elif key.startswith("----"):
                audio.tags[key] = [v.encode() for v in values]
            else:
                audio.tags[key] = values
        else:
            audio.tags[key] = values
    audio.save()


_VORBIS_KEYS = {
    "title": "TITLE", "artist": "ARTIST", "album": "ALBUM", "albumartist": "ALBUMARTIST",
    "genre": "GENRE", "mood": "MOOD", "year": "DATE", "track": "TRACKNUMBER",
    "comment": "COMMENT", "bpm": "BPM",
}  # fmt: skip
_MP4_KEYS = {
    "title": "\xa9nam", "artist": "\xa9ART", "album": "\xa9alb", "albumartist": "aART",
    "genre": "\xa9gen", "mood": "----:com.apple.iTunes:MOOD", "year": "\xa9day",
    "track": "trkn", "comment": "\xa9cmt", "bpm": "tmpo",
}  # fmt: skip
_ID3_FRAMES = {
    "title": TIT2, "artist": TPE1, "album": TALB, "albumartist": TPE2, "genre": TCON,
    "mood": TMOO, "year": TDRC, "track": TRCK, "bpm": TBPM,
}  # fmt: skip


def _write_id3(path: Path, tags: Mapping[str, str | Sequence[str]]) -> None:
    audio = mutagen.File(path)
    if audio is None:
        raise ValueError(f"{path}: mutagen cannot open it")
    if audio.tags is None:
        audio.add_tags()
    id3: ID3 = audio.tags
    for name, value in tags.items():
        values = [value] if isinstance(value, str) else list(value)
        if name == "comment":
            id3.add(COMM(encoding=3, lang="eng", desc="", text=values))
        else:
            id3.add(_ID3_FRAMES[name](encoding=3, text=values))
    audio.save()


def make_track(
    path: Path,
    fmt: str | AudioFormat,
    *,
    freq_hz: float = 440.0,
    seconds: float = 1.0,
    sample_rate: int = 44_100,
    samples: np.ndarray | None = None,
    tags: Mapping[str, str | Sequence[str]] | None = None,
) -> Path:
    """Write one tagged audio file and return its path.

    Args:
        path: where to write; its suffix is replaced by the format's own.
        fmt: a key of ``FORMATS`` or an ``AudioFormat``.
        freq_hz: tone frequency when ``samples`` is not given.
        seconds: tone length when ``samples`` is not given.
        sample_rate: sample rate of ``samples`` (and of the file, except Opus: 48 kHz).
        samples: mono float32 audio to encode instead of a sine.
        tags: logical tag names to values (lists for multi-value fields).

    Returns:
        The path of the written file.
    """
    audio_format = FORMATS[fmt] if isinstance(fmt, str) else fmt
    path = Path(path).with_suffix(audio_format.suffix)
    if samples is None:
        samples = sine(freq_hz, seconds, sample_rate)
    encode(path, samples, sample_rate, audio_format)
    if tags:
        write_tags(path, tags)
    return path
