"""A learnable toy task for tests and smoke runs: tones whose captions describe them.

Each clip is a tone with a register (low … very high), a timbre (sine, square, sawtooth,
bell) and a rhythm (steady, pulsing); its captions say exactly that in varied words. A model
that learns to hear register, timbre and rhythm can match clips to captions, so the loss of
a working trainer goes down within a few dozen steps. No file is read or written.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from engine.config import AudioFrontendCfg
from engine.data import sample_rng

REGISTERS = {"low": 130.8, "middle": 261.6, "high": 523.3, "very high": 1046.5}
TIMBRES = ("sine", "square", "sawtooth", "bell")
RHYTHMS = ("steady", "pulsing")
TEMPLATES = (
    "a {register} {timbre} tone",
    "{rhythm} {timbre} wave, {register} pitch",
    "a {rhythm} {register}-pitched {timbre} sound",
)
N_CLASSES = len(REGISTERS) * len(TIMBRES) * len(RHYTHMS)
_FIXED_EPOCH = 2**31  # generator stream of the deterministic evaluation windows


def attributes(index: int) -> tuple[str, str, str]:
    """(register, timbre, rhythm) of clip ``index``: every combination in turn."""
    cls = index % N_CLASSES
    registers = list(REGISTERS)
    register = registers[cls % len(registers)]
    timbre = TIMBRES[(cls // len(registers)) % len(TIMBRES)]
    rhythm = RHYTHMS[cls // (len(registers) * len(TIMBRES))]
    return register, timbre, rhythm


def render(
    register: str, timbre: str, rhythm: str, frontend: AudioFrontendCfg, rng: np.random.Generator
) -> np.ndarray:
    """One window of the described tone with random detune, phase, level and a little noise."""
    sr, n = frontend.sample_rate, frontend.clip_samples
    t = np.arange(n, dtype=np.float64) / sr
    f0 = REGISTERS[register] * float(rng.uniform(0.97, 1.03))
    phase = float(rng.uniform(0, 2 * np.pi))
    if timbre == "sine":
        partials = [(1.0, 1.0)]
    elif timbre == "square":
        partials = [(k, 1.0 / k) for k in range(1, 16, 2)]
    elif timbre == "sawtooth":
        partials = [(k, 1.0 / k) for k in range(1, 12)]
    else:  # bell: inharmonic partials with fast decay
        partials = [(1.0, 1.0), (2.76, 0.6), (5.40, 0.4), (8.93, 0.25)]
    wave = np.zeros(n)
    for ratio, amp in partials:
        if ratio * f0 < sr / 2:
            wave += amp * np.sin(2 * np.pi * ratio * f0 * t + phase * ratio)
    if timbre == "bell":
        wave *= np.exp(-3.0 * (t % 1.0))
    if rhythm == "pulsing":
        rate = float(rng.uniform(3.0, 5.0))
        wave *= (np.sin(2 * np.pi * rate * t + phase) > 0).astype(np.float64)
    wave /= max(np.abs(wave).max(), 1e-9)
    wave = wave * float(rng.uniform(0.2, 0.5)) + rng.normal(0, 0.005, n)
    return wave.astype(np.float32)


class SyntheticDataset(torch.utils.data.Dataset):
    """``n`` toy clips with the same interface as :class:`engine.data.ClipDataset`."""

    def __init__(self, n: int, frontend: AudioFrontendCfg, seed: int = 0) -> None:
        """Create ``n`` clips; ``seed`` varies detune, phase and level per epoch."""
        self.n = n
        self.frontend = frontend
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose random windows ``__getitem__`` returns."""
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n

    def captions(self, index: int) -> tuple[str, ...]:
        """The clip's captions, one per template."""
        register, timbre, rhythm = attributes(index)
        return tuple(
            template.format(register=register, timbre=timbre, rhythm=rhythm)
            for template in TEMPLATES
        )

    def fixed_windows(self, index: int, n_windows: int | None = None) -> np.ndarray:
        """Deterministic evaluation windows ``[K, clip_samples]``."""
        k = n_windows or self.frontend.n_windows
        rngs = [sample_rng(self.seed, _FIXED_EPOCH + w, index) for w in range(k)]
        return np.stack([render(*attributes(index), self.frontend, rng) for rng in rngs])

    def __getitem__(self, index: int) -> dict[str, Any]:
        rng = sample_rng(self.seed, self.epoch, index)
        captions = self.captions(index)
        return {
            "index": index,
            "waveform": render(*attributes(index), self.frontend, rng),
            "caption": captions[int(rng.integers(len(captions)))],
            "failures": [],
        }
