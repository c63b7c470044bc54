"""Small generated sounds the default model tells apart: a drum loop and piano chords."""

from __future__ import annotations

import numpy as np

SR = 16_000


def drum_loop(seconds: float = 8.0) -> np.ndarray:
    """Kick on every beat, noisy hats on every sixteenth, 120 bpm."""
    rng = np.random.default_rng(0)
    out = np.zeros(int(seconds * SR), np.float32)
    hit = int(0.08 * SR)
    decay = np.exp(-np.arange(hit) / (0.015 * SR))
    for step in range(int(seconds * 8)):
        start = step * SR // 8
        if start + hit > out.size:
            break
        if step % 4 == 0:
            out[start : start + hit] += 0.8 * np.sin(2 * np.pi * 60 * np.arange(hit) / SR) * decay
        out[start : start + hit] += 0.3 * rng.normal(size=hit) * decay
    return out


def piano_chords(seconds: float = 8.0) -> np.ndarray:
    """A C major chord struck every second, three decaying partials per note."""
    t = np.arange(int(seconds * SR)) / SR
    envelope = np.exp(-(t % 1.0) * 3)
    notes = (261.6, 329.6, 392.0)
    tone = sum(np.sin(2 * np.pi * f * k * t) / k for f in notes for k in (1, 2, 3))
    return (0.2 * tone * envelope).astype(np.float32)
