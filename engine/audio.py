"""Audio front-end: PyAV decoding to mono float32, fixed windows, log-mel and SpecAugment.

One code path serves training and inference: files are decoded with PyAV (bundled FFmpeg,
every container the library supports), averaged to mono, resampled with soxr, and turned
into log-mel spectrograms by :class:`LogMel` in plain torch. Inference reads ``K`` evenly
spaced windows per track by seeking, so a 3-minute file costs a few short decodes, and the
same file always yields the same samples (never a random crop, unlike LAION-CLAP).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import soxr
import torch
from torch import nn

from engine.config import AudioFrontendCfg

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
    container, stream = _open(path)
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
    path = Path(path)
    k = n_windows or frontend.n_windows
    clip, sr = frontend.clip_samples, frontend.sample_rate
    container, stream = _open(path)
    with container:
        info = _info(container, stream)
        short = info.duration is None or info.duration < max(
            _WHOLE_DECODE_SECONDS, 2 * k * frontend.clip_seconds
        )
        windows = []
        if not short:
            for start in window_starts(info.duration, frontend.clip_seconds, k):
                window = _read_window(path, container, stream, info, start, frontend)
                if window is None:  # untrustworthy timestamps: fall back to a full decode
                    container.seek(0, stream=stream)
                    break
                windows.append(window)
        if len(windows) == k:
            return np.stack(windows)
        samples = _resample(_decode_all(path, container, stream), info.rate, sr)
    starts = window_starts(samples.size / sr, frontend.clip_seconds, k)
    return np.stack([_fit(samples[round(s * sr) :], clip) for s in starts])


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
    container, stream = _open(path)
    with container:
        info = _info(container, stream)
        if info.duration is not None and info.duration >= _WHOLE_DECODE_SECONDS:
            start = float(rng.uniform(0.0, info.duration - frontend.clip_seconds))
            window = _read_window(path, container, stream, info, start, frontend)
            if window is not None:
                return window
            container.seek(0, stream=stream)
        samples = _resample(_decode_all(path, container, stream), info.rate, sr)
    if samples.size <= clip:
        return _fit(samples, clip)
    offset = int(rng.integers(0, samples.size - clip + 1))
    return samples[offset : offset + clip]


# --------------------------------------------------------------------------- log-mel


def hz_to_mel(freqs: np.ndarray, scale: str = "slaney") -> np.ndarray:
    """Hertz to mels (librosa's formulas: ``slaney`` is linear below 1 kHz, log above)."""
    freqs = np.asarray(freqs, dtype=np.float64)
    if scale == "htk":
        return 2595.0 * np.log10(1.0 + freqs / 700.0)
    f_sp = 200.0 / 3
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, math.log(6.4) / 27.0
    mels = freqs / f_sp
    high = freqs >= min_log_hz
    mels[high] = min_log_mel + np.log(freqs[high] / min_log_hz) / logstep
    return mels


def mel_to_hz(mels: np.ndarray, scale: str = "slaney") -> np.ndarray:
    """Mels to Hertz, the inverse of :func:`hz_to_mel`."""
    mels = np.asarray(mels, dtype=np.float64)
    if scale == "htk":
        return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    f_sp = 200.0 / 3
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, math.log(6.4) / 27.0
    freqs = f_sp * mels
    high = mels >= min_log_mel
    freqs[high] = min_log_hz * np.exp(logstep * (mels[high] - min_log_mel))
    return freqs


def mel_filterbank(frontend: AudioFrontendCfg) -> np.ndarray:
    """Triangular mel filters ``[n_mels, n_fft // 2 + 1]`` (float64), as ``librosa.filters.mel``.

    Args:
        frontend: sample rate, FFT size, band count and edges, mel scale and normalisation.

    Returns:
        The filterbank; with ``mel_norm="slaney"`` each filter has unit area in Hz.
    """
    n_freqs = frontend.n_fft // 2 + 1
    fft_freqs = np.linspace(0.0, frontend.sample_rate / 2, n_freqs)
    f_max = frontend.f_max or frontend.sample_rate / 2
    mel_edges = np.linspace(
        hz_to_mel(np.array([frontend.f_min]), frontend.mel_scale)[0],
        hz_to_mel(np.array([f_max]), frontend.mel_scale)[0],
        frontend.n_mels + 2,
    )
    hz_edges = mel_to_hz(mel_edges, frontend.mel_scale)
    widths = np.diff(hz_edges)
    ramps = hz_edges[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    if frontend.mel_norm == "slaney":
        weights *= (2.0 / (hz_edges[2:] - hz_edges[:-2]))[:, None]
    return weights


class LogMel(nn.Module):
    """Waveform ``[B, N]`` -> log-mel ``[B, n_mels, frames]``, in torch (no torchaudio).

    STFT with a periodic Hann window, centred frames (zero padding), power or magnitude
    spectrum, the :func:`mel_filterbank`, then ``ln(x + log_offset)``,
    ``log10(1 + log_multiplier * x)`` or decibels as the configuration says.
    """

    def __init__(self, frontend: AudioFrontendCfg) -> None:
        super().__init__()
        self.cfg = frontend
        # Buffers, not parameters: they follow .to(device) but are never trained or saved.
        self.register_buffer("window", torch.hann_window(frontend.win_length), persistent=False)
        melw = torch.from_numpy(mel_filterbank(frontend)).float()
        self.register_buffer("mel_basis", melw, persistent=False)

    def n_frames(self, n_samples: int) -> int:
        """Frames produced for ``n_samples`` input samples."""
        return n_samples // self.cfg.hop_length + 1

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """Compute the log-mel spectrogram of ``waveform`` ``[B, N]`` (or ``[N]``)."""
        if waveform.dim() == 1:
            waveform = waveform[None]
        cfg = self.cfg
        spec = torch.stft(
            waveform.float(),
            n_fft=cfg.n_fft,
            hop_length=cfg.hop_length,
            win_length=cfg.win_length,
            window=self.window,
            center=True,
            pad_mode="constant",
            return_complex=True,
        )
        # |X|^2 as re^2 + im^2: several times faster on a CPU than complex abs() then pow().
        spec = torch.addcmul(spec.real.square(), spec.imag, spec.imag)
        if cfg.power == 1.0:
            spec = spec.sqrt()
        elif cfg.power != 2.0:
            spec = spec.pow(cfg.power / 2)
        mel = torch.matmul(self.mel_basis, spec)
        if cfg.log == "ln":
            return torch.log(mel + cfg.log_offset)
        if cfg.log == "db":
            return 10.0 * torch.log10(mel.clamp(min=cfg.log_offset))
        return torch.log10(1.0 + cfg.log_multiplier * mel)


class SpecAugment(nn.Module):
    """Time and frequency masking on log-mel ``[B, n_mels, T]``; identity in eval mode.

    Each example gets its own masks; masked cells take that example's mean value, which
    is neutral after the log (zero would be a loud value under ``ln``).
    """

    def __init__(
        self,
        freq_masks: int = 2,
        freq_width: int = 8,
        time_masks: int = 2,
        time_width: int = 50,
        generator: torch.Generator | None = None,
    ) -> None:
        """Create the augmenter.

        Args:
            freq_masks: number of frequency masks per example.
            freq_width: maximum mel bands per frequency mask.
            time_masks: number of time masks per example.
            time_width: maximum frames per time mask.
            generator: optional torch generator for reproducible masks.
        """
        super().__init__()
        self.freq_masks, self.freq_width = freq_masks, freq_width
        self.time_masks, self.time_width = time_masks, time_width
        self.generator = generator

    def _mask(self, size: int, width: int, count: int, batch: int, device) -> torch.Tensor:
        """Boolean ``[batch, size]``, True where masked."""
        pos = torch.arange(size, device=device)
        mask = torch.zeros(batch, size, dtype=torch.bool, device=device)
        for _ in range(count):
            w = torch.randint(0, width + 1, (batch, 1), generator=self.generator).to(device)
            start = (
                torch.rand(batch, 1, generator=self.generator).to(device) * (size - w + 1)
            ).long()
            mask |= (pos[None] >= start) & (pos[None] < start + w)
        return mask

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """Mask ``mel`` when training; return it unchanged in eval mode."""
        if not self.training:
            return mel
        batch, n_mels, frames = mel.shape
        freq = self._mask(n_mels, min(self.freq_width, n_mels), self.freq_masks, batch, mel.device)
        time = self._mask(frames, min(self.time_width, frames), self.time_masks, batch, mel.device)
        masked = freq[:, :, None] | time[:, None, :]
        fill = mel.mean(dim=(1, 2), keepdim=True).expand_as(mel)
        return torch.where(masked, fill, mel)
