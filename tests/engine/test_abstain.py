"""Knowing when not to answer: silence, near-silence, noise and test tones are recognised."""

from __future__ import annotations

import numpy as np
import pytest

from engine.abstain import (
    SILENCE_DBFS,
    STEADY_SPREAD_DB,
    TONE_PEAK_SHARE,
    abstain_reason,
    window_features,
)
from slapdesk.library.demo.synth import STYLES, render

SR = 16_000
SECONDS = 3.0


def _windows(signal: np.ndarray, k: int = 3) -> np.ndarray:
    size = len(signal) // k
    return np.stack([signal[i * size : (i + 1) * size] for i in range(k)]).astype(np.float32)


def _noise(level_dbfs: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 10 ** (level_dbfs / 20) * rng.standard_normal(int(3 * SECONDS * SR))


def _tone(freq: float, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(3 * SECONDS * SR)) / SR
    return amplitude * np.sin(2 * np.pi * freq * t)


def _music(style: str, seed: int = 0) -> np.ndarray:
    spec = STYLES[style]
    return render(spec, spec.tempo[0], 3 * SECONDS, np.random.default_rng(seed), SR)


def test_features_of_plain_signals_have_their_textbook_values() -> None:
    full_sine = window_features(_tone(1000.0, amplitude=1.0)[:48_000], SR)
    assert full_sine.rms_dbfs == pytest.approx(-3.01, abs=0.01)
    assert full_sine.peak_share > 0.99 and full_sine.spread_db < 0.01
    white = window_features(_noise(-20.0)[:48_000], SR)
    assert white.rms_dbfs == pytest.approx(-20.0, abs=0.1)
    assert white.flatness > 0.95 and white.spread_db < 0.3
    silent = window_features(np.zeros(48_000, np.float32), SR)
    assert silent.rms_dbfs < SILENCE_DBFS and silent.kind == "silence"


@pytest.mark.parametrize(
    ("signal", "reason"),
    [
        (np.zeros(int(3 * SECONDS * SR)), "silence"),
        (_noise(-70.0), "silence"),  # near-silence: hiss far below any music
        (_noise(-90.0) + 0.25, "silence"),  # a DC offset is no sound either
        (_tone(1000.0), "tone"),
        (_tone(1000.0, amplitude=0.004), "tone"),  # a quiet test tone (-51 dBFS)
        (_tone(60.0), "tone"),  # mains hum
        (_noise(-3.0), "noise"),
        (_noise(-30.0), "noise"),
    ],
    ids=["digital silence", "-70 dBFS noise", "DC", "1 kHz", "quiet 1 kHz", "hum", "white",
         "quiet white"],
)  # fmt: skip
def test_what_holds_nothing_to_describe_is_marked(signal: np.ndarray, reason: str) -> None:
    assert abstain_reason(_windows(signal), SR) == reason


@pytest.mark.parametrize("style", sorted(STYLES))
def test_generated_music_is_never_marked(style: str) -> None:
    music = _music(style)
    assert abstain_reason(_windows(music), SR) is None
    # Mastered very quietly (-45 dBFS RMS) it is still music.
    assert abstain_reason(_windows(music * 10 ** (-28 / 20)), SR) is None
    features = [window_features(w, SR) for w in _windows(music)]
    assert all(f.peak_share < TONE_PEAK_SHARE or f.spread_db > STEADY_SPREAD_DB
               for f in features)  # fmt: skip


def test_a_track_is_marked_only_when_every_window_agrees() -> None:
    music = _music("jazz")
    silent_intro = np.concatenate([np.zeros(len(music) // 3), music[len(music) // 3 :]])
    assert abstain_reason(_windows(silent_intro), SR) is None
    # Tone, then silence, then noise (a test-signal file): nothing to describe.
    signal = np.concatenate([_tone(1000.0)[:48_000], np.zeros(48_000), _noise(-20.0)[:48_000]])
    assert abstain_reason(_windows(signal), SR) == "noise"
    tone_then_silence = np.concatenate([_tone(440.0)[:48_000], np.zeros(96_000)])
    assert abstain_reason(_windows(tone_then_silence), SR) == "tone"
    # A very short window (less than one analysis frame) still gets measured.
    assert abstain_reason(np.zeros((2, 100), np.float32), SR) == "silence"
