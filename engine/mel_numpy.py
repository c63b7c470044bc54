"""The log-mel front-end in numpy: what the ONNX Runtime audio path runs, without torch.

The mel filterbank is built here for both front-ends (``engine.melspec.LogMel`` is the torch
one, used for training and by the torch runtime). :class:`NumpyLogMel` computes the same
log-mel as ``LogMel`` (periodic Hann window, centred frames with zero padding, the same
filterbank and log compression) with ``numpy.fft``: within 3e-5 of torch's float32 values on
real music (both within 3e-5 of a float64 reference), and the window vectors the audio
graph makes of them within 5e-7 (tests/engine/test_audio_only.py compares them).
"""

from __future__ import annotations

import math

import numpy as np

from engine.config import AudioFrontendCfg


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


class NumpyLogMel:
    """Waveform windows ``[B, N]`` float32 -> log-mel ``[B, n_mels, frames]`` float32."""

    def __init__(self, frontend: AudioFrontendCfg) -> None:
        self.cfg = frontend
        n = frontend.win_length
        window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)  # periodic Hann
        # torch.stft centres a shorter window inside the FFT frame.
        left = (frontend.n_fft - n) // 2
        padded = np.zeros(frontend.n_fft)
        padded[left : left + n] = window
        self._window = padded.astype(np.float32)
        # Transposed once: the spectrum's frames are rows, [T, F] @ [F, n_mels].
        self._basis_t = np.ascontiguousarray(mel_filterbank(frontend).T.astype(np.float32))

    def __call__(self, waveform: np.ndarray) -> np.ndarray:
        """The log-mel spectrogram of ``waveform`` ``[B, N]`` (or ``[N]``)."""
        cfg = self.cfg
        x = np.asarray(waveform, dtype=np.float32)
        if x.ndim == 1:
            x = x[None]
        pad = cfg.n_fft // 2
        x = np.pad(x, ((0, 0), (pad, pad)))
        frames = np.lib.stride_tricks.sliding_window_view(x, cfg.n_fft, axis=-1)
        spectrum = np.fft.rfft(frames[:, :: cfg.hop_length] * self._window, axis=-1)
        power = np.square(spectrum.real) + np.square(spectrum.imag)
        if cfg.power == 1.0:
            power = np.sqrt(power)
        elif cfg.power != 2.0:
            power = power ** np.float32(cfg.power / 2)
        mel = np.matmul(power, self._basis_t).transpose(0, 2, 1)
        if cfg.log == "ln":
            out = np.log(mel + np.float32(cfg.log_offset))
        elif cfg.log == "db":
            out = 10.0 * np.log10(np.maximum(mel, np.float32(cfg.log_offset)))
        else:
            out = np.log10(1.0 + np.float32(cfg.log_multiplier) * mel)
        return np.ascontiguousarray(out, dtype=np.float32)
