"""Know when not to answer: recognise windows that hold no music (silence, noise, a test tone).

A text-audio model gives every input a vector and every vector a nearest caption, so a
silent file would be tagged "calm" and a hum "cello". These cheap features, computed on the
decoded windows before the model runs, mark such tracks instead:

- loudness: RMS of the window (its mean removed) in dBFS, where a full-scale square wave
  reads 0 dBFS and a full-scale sine -3 dBFS;
- spectral flatness: geometric over arithmetic mean of the averaged power spectrum (1.0 for
  white noise, near 0 for music, whose energy sits in harmonics);
- envelope spread: standard deviation of the short-frame levels in dB (a steady signal
  such as noise or a test tone stays within a fraction of a dB; music breathes);
- peak share: the fraction of the power within a few bins of the strongest spectral peak
  (about 1.0 for a pure tone).

A track is marked only when every window agrees, so a quiet intro or a drum break inside
a real track never marks it. The thresholds were chosen on generated material
(``tools/abstain_thresholds.py`` prints the features and margins they rest on).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# A window is silent below this level: 13 dB under the quietest generated music (mastered at
# -40 dBFS it measures -47) and over 30 dB above 16-bit dither, so -70 dBFS hiss counts.
SILENCE_DBFS = -60.0
# Noise: a flat spectrum at a steady level. White noise measures flatness 0.99 and a spread
# of 0.13-0.24 dB; the generated music at most 0.03 and at least 0.98 dB (a sustained organ),
# most of it 1.6-5 dB.
NOISE_FLATNESS = 0.5
STEADY_SPREAD_DB = 0.75
# A single tone: nearly all power around one spectral peak (a sine: 1.00; the generated music
# at most 0.85, a bass-heavy second of folk or rock), at a steady level.
TONE_PEAK_SHARE = 0.95

REASONS = ("silence", "noise", "tone")  # what the library stores as the abstain reason

_FRAME = 1024  # samples per analysis frame (64 ms at 16 kHz)
_PEAK_BINS = 2  # bins either side of the peak counted as "the tone" (the Hann main lobe)
_LOW_HZ = 40.0  # flatness ignores rumble below this ...
_HIGH_FRACTION = 0.9  # ... and the resampler's roll-off in the top tenth of the band


@dataclass(frozen=True)
class WindowFeatures:
    """The features of one window."""

    rms_dbfs: float
    flatness: float
    spread_db: float
    peak_share: float

    @property
    def kind(self) -> str | None:
        """``"silence"``, ``"noise"``, ``"tone"``, or None for anything that may be music."""
        if self.rms_dbfs < SILENCE_DBFS:
            return "silence"
        if self.spread_db < STEADY_SPREAD_DB:
            if self.peak_share >= TONE_PEAK_SHARE:
                return "tone"
            if self.flatness >= NOISE_FLATNESS:
                return "noise"
        return None


def window_features(samples: np.ndarray, sample_rate: int) -> WindowFeatures:
    """Measure one mono window (float32, full scale = 1.0)."""
    x = np.asarray(samples, dtype=np.float64)
    x = x - x.mean() if x.size else np.zeros(_FRAME)
    rms = float(np.sqrt(np.mean(x * x)))
    rms_dbfs = 20.0 * np.log10(max(rms, 1e-10))
    frames = _frames(x)
    power = np.abs(np.fft.rfft(frames * np.hanning(_FRAME), axis=1)) ** 2
    spectrum = power.mean(axis=0)
    total = float(spectrum.sum())
    if total <= 0.0:
        return WindowFeatures(rms_dbfs, 0.0, 0.0, 0.0)
    hz_per_bin = sample_rate / _FRAME
    band = spectrum[int(_LOW_HZ / hz_per_bin) + 1 : int(len(spectrum) * _HIGH_FRACTION)]
    flatness = float(np.exp(np.mean(np.log(band + 1e-20))) / max(band.mean(), 1e-20))
    peak = int(np.argmax(spectrum))
    peak_share = float(spectrum[max(0, peak - _PEAK_BINS) : peak + _PEAK_BINS + 1].sum() / total)
    levels = 10.0 * np.log10(np.maximum((frames * frames).mean(axis=1), 1e-20))
    return WindowFeatures(rms_dbfs, flatness, float(levels.std()), peak_share)


def _frames(x: np.ndarray) -> np.ndarray:
    """Half-overlapping frames of ``_FRAME`` samples (one zero-padded frame if shorter)."""
    if x.size < _FRAME:
        return np.pad(x, (0, _FRAME - x.size))[None, :]
    hop = _FRAME // 2
    count = 1 + (x.size - _FRAME) // hop
    index = np.arange(_FRAME)[None, :] + hop * np.arange(count)[:, None]
    return x[index]


def abstain_reason(windows: np.ndarray, sample_rate: int) -> str | None:
    """Why the model should not answer for a track, from its windows [K, samples].

    Returns:
        ``"silence"`` when every window is silent; ``"noise"`` or ``"tone"`` when every
        window that is not silent is that (a mix of the two: ``"noise"``); None when any
        window may hold music.
    """
    kinds = [window_features(w, sample_rate).kind for w in np.atleast_2d(windows)]
    if not kinds or None in kinds:
        return None
    sounding = [k for k in kinds if k != "silence"]
    if not sounding:
        return "silence"
    return "tone" if all(k == "tone" for k in sounding) else "noise"
