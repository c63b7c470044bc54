"""Audio front-end: PyAV decoding to mono float32, fixed windows, log-mel and SpecAugment.

One code path serves training and inference: files are decoded with PyAV (bundled FFmpeg,
every container the library supports), averaged to mono, resampled with soxr, and turned
into log-mel spectrograms by :class:`LogMel` in plain torch (``engine.melspec``).
Inference reads ``K`` evenly spaced windows per track by seeking, so a 3-minute file costs
a few short decodes, and the same file always yields the same samples (never a random
crop, unlike LAION-CLAP). A file FFmpeg will not open is tried once more with libsndfile
(``engine.sndfile``): some real Ogg Vorbis releases open only there.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import soxr

from engine import sndfile
from engine.config import AudioFrontendCfg

# The log-mel front-end lives in engine.melspec (torch only, no decoder); it is part of
# this module's interface too.
from engine.melspec import LogMel, SpecAugment, hz_to_mel, mel_filterbank, mel_to_hz

__all__ = [
    "AudioDecodeError",
    "LogMel",
    "SpecAugment",
    "hz_to_mel",
    "load_audio",
    "load_random_window",
    "load_windows",
    "mel_filterbank",
    "mel_to_hz",
    "read_windows",
    "window_starts",
    "windows_of",
]

logger = logging.getLogger(__name__)

# Files whose header says they are shorter than this are decoded whole, then cut: seeking
# buys nothing there, and it sidesteps broken timestamps in short files.
_WHOLE_DECODE_SECONDS = 60.0
# Extra audio decoded on each side of a window so that the resampler's filter has settled.
_RESAMPLE_MARGIN_SECONDS = 0.05
# Integer sample formats and the scale that maps them to [-1, 1).
_INT_SCALE = {"u8": 128.0, "s16": 32768.0, "s32": 2147483648.0, "s64": 9223372036854775808.0}


class AudioDecodeError(Exception):
    """A file could not be decoded; the message names the file and the problem."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


# --------------------------------------------------------------------------- decoding


def _frame_to_mono(frame: av.AudioFrame) -> np.ndarray:
    """Return one decoded frame as mono float32 (the channel mean)."""
    data = frame.to_ndarray()
    fmt = frame.format.name
    channels = len(frame.layout.channels)
    if not frame.format.is_planar:
        # Packed formats interleave channels in one row.
        data = data.reshape(-1, channels).T
    base = fmt.rstrip("p")
    if base in _INT_SCALE:
        offset = 128.0 if base == "u8" else 0.0
        data = (data.astype(np.float64) - offset) / _INT_SCALE[base]
    # The channel mean in float64, written out for mono and stereo: the same operations as
    # numpy's mean (one row; or row 0 + row 1, halved), without its buffered casting loop
    # (a few hundred small frames per track).
    if channels == 1:
        return data[0].astype(np.float32)
    if channels == 2:
        return ((data[0].astype(np.float64) + data[1]) * 0.5).astype(np.float32)
    return data.mean(axis=0, dtype=np.float64).astype(np.float32)


@dataclass(frozen=True)
class _StreamInfo:
    rate: int  # native sample rate, Hz
    duration: float | None  # seconds, from the header (may be wrong for damaged files)
    start: float  # time of the first sample, seconds


def _open(path: Path) -> tuple[av.container.InputContainer, av.audio.stream.AudioStream]:
    if not path.exists():
        raise AudioDecodeError(path, "file not found")
    if path.is_dir():
        raise AudioDecodeError(path, "is a folder, not an audio file")
    try:
        container = av.open(str(path), mode="r")
    except (av.error.FFmpegError, OSError, ValueError, UnicodeDecodeError) as exc:
        raise AudioDecodeError(path, f"not a readable audio file ({exc})") from exc
    if not container.streams.audio:
        container.close()
        raise AudioDecodeError(path, "contains no audio stream")
    stream = container.streams.audio[0]
    if not stream.codec_context or not stream.codec_context.sample_rate:
        container.close()
        raise AudioDecodeError(path, "audio stream has no sample rate")
    return container, stream


def _info(
    container: av.container.InputContainer, stream: av.audio.stream.AudioStream
) -> _StreamInfo:
    rate = int(stream.codec_context.sample_rate)
    duration = None
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / av.time_base
    start = 0.0
    if stream.start_time is not None and stream.time_base is not None:
        start = float(stream.start_time * stream.time_base)
    return _StreamInfo(rate=rate, duration=duration, start=start)


def _decode_all(path: Path, container, stream) -> np.ndarray:
    """Decode every frame in order (no timestamps trusted); a damaged tail is dropped."""
    chunks: list[np.ndarray] = []
    try:
        for frame in container.decode(stream):
            chunks.append(_frame_to_mono(frame))
    except (av.error.FFmpegError, ValueError) as exc:
        if not chunks:
            raise AudioDecodeError(path, f"cannot decode audio ({exc})") from exc
        logger.warning("%s: decoding stopped early (%s); using the audio before it", path, exc)
    if not chunks:
        raise AudioDecodeError(path, "no audio samples decoded (empty or damaged file)")
    return np.concatenate(chunks)


def _resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    if rate_in == rate_out or samples.size == 0:
        return samples.astype(np.float32, copy=False)
    return soxr.resample(samples, rate_in, rate_out).astype(np.float32, copy=False)


def _decode_refused(path: Path, refused: AudioDecodeError, sample_rate: int) -> np.ndarray:
    """A file FFmpeg would not open, decoded by libsndfile (or ``refused`` raised again)."""
    native, rate = sndfile.decode_or_raise(path, refused)
    return _resample(native, rate, sample_rate)


def load_audio(path: str | Path, sample_rate: int) -> np.ndarray:
    """Decode a whole file to mono float32 at ``sample_rate``.

    Args:
        path: any file FFmpeg reads (mp3, flac, ogg, opus, m4a, wav, aiff, ...).
        sample_rate: output rate in Hz.

    Returns:
        Mono samples, ``np.float32 [N]``, roughly in [-1, 1].

    Raises:
        AudioDecodeError: the file is missing, not audio, empty or undecodable.
    """
    path = Path(path)
    try:
        container, stream = _open(path)
    except AudioDecodeError as refused:
        return _decode_refused(path, refused, sample_rate)
    with container:
        native = _decode_all(path, container, stream)
        rate = int(stream.codec_context.sample_rate)
    return _resample(native, rate, sample_rate)


def _fit(samples: np.ndarray, length: int) -> np.ndarray:
    """Crop to ``length``, or repeat a short clip until it fills ``length`` (repeat-pad)."""
    if samples.size >= length:
        return samples[:length]
    if samples.size == 0:
        return np.zeros(length, dtype=np.float32)
    reps = math.ceil(length / samples.size)
    return np.tile(samples, reps)[:length]


def window_starts(duration: float, clip_seconds: float, n_windows: int) -> list[float]:
    """Start times of ``n_windows`` evenly spaced windows (centred in equal slices)."""
    if duration <= clip_seconds:
        return [0.0] * n_windows
    starts = []
    for i in range(n_windows):
        centre = duration * (i + 0.5) / n_windows
        starts.append(min(max(centre - clip_seconds / 2, 0.0), duration - clip_seconds))
    return starts


def _decode_span(path: Path, container, stream, info: _StreamInfo, start: float, seconds: float):
    """Seek to ``start`` and decode ``seconds`` of native-rate mono audio.

    Returns None when the stream's timestamps cannot be trusted (the caller then decodes
    the whole file), else the samples from ``start`` (shorter at the end of the file).
    """
    target = info.start + start
    container.seek(int(target / stream.time_base), stream=stream, backward=True, any_frame=False)
    want = round(seconds * info.rate)
    out = np.zeros(want, dtype=np.float32)
    filled = 0
    first = True
    try:
        for frame in container.decode(stream):
            if frame.pts is None:
                return None
            t = float(frame.pts * frame.time_base)
            if first and (t > target + 0.5 or t < target - 30.0):
                return None  # the seek landed somewhere unexpected: timestamps are unusable
            first = False
            mono = _frame_to_mono(frame)
            offset = round((t - target) * info.rate)
            lo = max(0, -offset)
            hi = min(mono.size, want - offset)
            if hi > lo:
                out[offset + lo : offset + hi] = mono[lo:hi]
                filled = max(filled, offset + hi)
            if offset + mono.size >= want:
                break
    except (av.error.FFmpegError, ValueError) as exc:
        logger.warning("%s: decoding near %.1f s failed (%s); window padded", path, start, exc)
    return out[:filled]


def load_windows(
    path: str | Path, frontend: AudioFrontendCfg, n_windows: int | None = None
) -> np.ndarray:
    """Read ``K`` evenly spaced windows of one track, decoding only those windows.

    Deterministic: the same file gives bit-identical samples on every call. Tracks shorter
    than a window are repeated to fill it, so a 0.5 s file works.

    Args:
        path: the audio file.
        frontend: sample rate and window length (``clip_seconds``).
        n_windows: ``K``; defaults to ``frontend.n_windows``.

    Returns:
        ``np.float32 [K, frontend.clip_samples]``.

    Raises:
        AudioDecodeError: the file is missing, not audio, empty or undecodable.
    """
    return read_windows(path, frontend, n_windows)[0]


def read_windows(
    path: str | Path, frontend: AudioFrontendCfg, n_windows: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`load_windows` and where each window starts in the track.

    Returns:
        ``(windows float32 [K, clip_samples], starts float64 [K])``, starts in seconds.

    Raises:
        AudioDecodeError: the file is missing, not audio, empty or undecodable.
    """
    path = Path(path)
    k = n_windows or frontend.n_windows
    sr = frontend.sample_rate
    try:
        container, stream = _open(path)
    except AudioDecodeError as refused:
        return windows_of(_decode_refused(path, refused, sr), frontend, k)
    with container:
        info = _info(container, stream)
        short = info.duration is None or info.duration < max(
            _WHOLE_DECODE_SECONDS, 2 * k * frontend.clip_seconds
        )
        windows: list[np.ndarray] = []
        starts: list[float] = []
        if not short and info.duration is not None:  # short already holds for no duration
            starts = window_starts(info.duration, frontend.clip_seconds, k)
            for start in starts:
                window = _read_window(path, container, stream, info, start, frontend)
                if window is None:  # untrustworthy timestamps: fall back to a full decode
                    container.seek(0, stream=stream)
                    break
                windows.append(window)
        if len(windows) == k:
            return np.stack(windows), np.asarray(starts, dtype=np.float64)
        samples = _resample(_decode_all(path, container, stream), info.rate, sr)
    return windows_of(samples, frontend, k)


def windows_of(
    samples: np.ndarray, frontend: AudioFrontendCfg, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """``k`` evenly spaced windows cut from a whole decoded track, and their starts (s)."""
    sr = frontend.sample_rate
    starts = window_starts(samples.size / sr, frontend.clip_seconds, k)
    fitted = [_fit(samples[round(s * sr) :], frontend.clip_samples) for s in starts]
    return np.stack(fitted), np.asarray(starts, dtype=np.float64)


def _read_window(
    path: Path, container, stream, info: _StreamInfo, start: float, frontend: AudioFrontendCfg
):
    """One resampled window starting at ``start`` seconds, or None if seeking is unusable."""
    margin = min(_RESAMPLE_MARGIN_SECONDS, start)
    span = _decode_span(
        path,
        container,
        stream,
        info,
        start - margin,
        frontend.clip_seconds + 2 * _RESAMPLE_MARGIN_SECONDS,
    )
    if span is None:
        return None
    resampled = _resample(span, info.rate, frontend.sample_rate)
    skip = round(margin * frontend.sample_rate)
    window = resampled[skip : skip + frontend.clip_samples]
    if window.size < frontend.clip_samples:
        window = np.pad(window, (0, frontend.clip_samples - window.size))
    return window


def load_random_window(
    path: str | Path, frontend: AudioFrontendCfg, rng: np.random.Generator
) -> np.ndarray:
    """Read one window at a random position (training only; inference uses ``load_windows``).

    Args:
        path: the audio file.
        frontend: sample rate and window length.
        rng: the caller's generator, so that data loading is reproducible.

    Returns:
        ``np.float32 [frontend.clip_samples]``.

    Raises:
        AudioDecodeError: the file is missing, not audio, empty or undecodable.
    """
    path = Path(path)
    clip, sr = frontend.clip_samples, frontend.sample_rate
    try:
        container, stream = _open(path)
    except AudioDecodeError as refused:
        return _random_crop(_decode_refused(path, refused, sr), clip, rng)
    with container:
        info = _info(container, stream)
        if info.duration is not None and info.duration >= _WHOLE_DECODE_SECONDS:
            start = float(rng.uniform(0.0, info.duration - frontend.clip_seconds))
            window = _read_window(path, container, stream, info, start, frontend)
            if window is not None:
                return window
            container.seek(0, stream=stream)
        samples = _resample(_decode_all(path, container, stream), info.rate, sr)
    return _random_crop(samples, clip, rng)


def _random_crop(samples: np.ndarray, clip: int, rng: np.random.Generator) -> np.ndarray:
    """``clip`` samples from a random offset (the whole track repeat-padded when shorter)."""
    if samples.size <= clip:
        return _fit(samples, clip)
    offset = int(rng.integers(0, samples.size - clip + 1))
    return samples[offset : offset + clip]
