"""Log-mel spectrograms and SpecAugment in plain torch (no torchaudio, no decoder needed).

``LogMel`` is the one front-end for training and inference: STFT, a mel filterbank that
matches ``librosa.filters.mel`` (Slaney or HTK scale, Slaney area normalisation), then a
log compression chosen by the configuration. Importable without PyAV, so that feature
code runs where no decoder is installed.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

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


class LogMel(nn.Module):
    """Waveform ``[B, N]`` -> log-mel ``[B, n_mels, frames]``, in torch (no torchaudio).

    STFT with a periodic Hann window, centred frames (zero padding), power or magnitude
    spectrum, the :func:`mel_filterbank`, then ``ln(x + log_offset)``,
    ``log10(1 + log_multiplier * x)`` or decibels as the configuration says.
    """

    window: torch.Tensor  # buffers, declared so that type checkers see tensors
    mel_basis: torch.Tensor

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
