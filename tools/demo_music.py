"""A small demo library of generated music-like tracks with believable tags (for screenshots).

Each genre has its own sound (instrument, tempo, register), so a model trained on the
library's own tags (``slapdesk-train --library``) learns to tell them apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from slapdesk.library.demo.audio_files import make_track

SR = 22_050


@dataclass(frozen=True)
class Style:
    """How one genre sounds and is tagged."""

    genre: str
    moods: tuple[str, ...]
    artists: tuple[str, ...]
    bpm: tuple[int, int]


STYLES = (
    Style("ambient", ("calm", "dreamy"), ("Slow Tides", "Northern Drift"), (60, 75)),
    Style("chiptune", ("happy", "energetic"), ("Pixel Pulse", "8-Bit Harbor"), (140, 160)),
    Style("techno", ("energetic", "dark"), ("Concrete Loop", "Night Shift"), (125, 132)),
    Style("classical", ("calm", "sad"), ("Quartet Nova", "Elm Street Ensemble"), (70, 90)),
    Style("rock", ("energetic", "angry"), ("The Loud Fences", "Gravel Kings"), (110, 140)),
    Style("jazz", ("relaxed", "happy"), ("Blue Room Trio", "Smoky Keys"), (90, 120)),
)
WORDS = ("Morning", "River", "Neon", "Glass", "Paper", "Winter", "Golden", "Hollow", "Electric",
         "Quiet", "Velvet", "Broken", "Summer", "Midnight", "Silver", "Rainy")
NOUNS = ("Lights", "Garden", "Signal", "Hearts", "Road", "Echo", "Window", "Machine", "Waltz",
         "Storm", "Harbor", "Letters", "Circuit", "Evening", "Dance", "Sky")
FORMATS = ("mp3", "flac", "ogg", "m4a-aac", "opus", "wav")


def _tone(freq: float, t: np.ndarray, kind: str) -> np.ndarray:
    phase = 2 * np.pi * freq * t
    if kind == "square":
        return np.sign(np.sin(phase)) * 0.5
    if kind == "saw":
        return 2 * ((freq * t) % 1.0) - 1
    if kind == "bell":
        return sum(a * np.sin(r * phase) for r, a in ((1, 1), (2.76, 0.5), (5.4, 0.25)))
    return np.sin(phase)


def _notes(style: Style, rng: np.random.Generator, beat: float, seconds: float):
    root = {"ambient": 220, "chiptune": 523, "techno": 110, "classical": 330, "rock": 165,
            "jazz": 196}[style.genre] * 2 ** (rng.integers(-3, 4) / 12)
    scale = (0, 2, 4, 7, 9, 12) if style.genre != "jazz" else (0, 3, 5, 6, 7, 10, 12)
    step = beat / (4 if style.genre == "chiptune" else 2 if style.genre != "ambient" else 0.25)
    start = 0.0
    while start < seconds:
        yield start, step, root * 2 ** (rng.choice(scale) / 12)
        start += step


def render(style: Style, rng: np.random.Generator, seconds: float = 8.0) -> np.ndarray:
    """A few seconds of audio in ``style``."""
    n = int(seconds * SR)
    t = np.arange(n) / SR
    out = np.zeros(n)
    bpm = rng.uniform(*style.bpm)
    beat = 60.0 / bpm
    kind = {"ambient": "sine", "chiptune": "square", "techno": "saw", "classical": "bell",
            "rock": "saw", "jazz": "sine"}[style.genre]
    for start, length, freq in _notes(style, rng, beat, seconds):
        a, b = int(start * SR), min(n, int((start + length) * SR))
        local = t[: b - a]
        env = np.exp(-local * (1.5 if style.genre in ("ambient",) else 6.0))
        out[a:b] += 0.4 * env * _tone(freq, local, kind)
    if style.genre in ("techno", "rock", "jazz"):
        for k in np.arange(0, seconds, beat):
            a = int(k * SR)
            b = min(n, a + int(0.12 * SR))
            local = t[: b - a]
            out[a:b] += 0.8 * np.exp(-local * 30) * np.sin(2 * np.pi * 55 * local)  # kick
            if style.genre != "techno":
                hat = a + int(beat / 2 * SR)
                if hat + 800 < n:
                    out[hat : hat + 800] += 0.15 * rng.normal(size=800) * np.linspace(1, 0, 800)
    if style.genre == "rock":
        out = np.tanh(3 * out)  # distortion
    if style.genre == "ambient":
        out += 0.3 * np.sin(2 * np.pi * 110 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 0.1 * t))
    out /= max(np.abs(out).max(), 1e-9)
    return (0.5 * out).astype(np.float32)


def build(root: Path, per_style: int = 8, seconds: float = 8.0, seed: int = 7) -> list[Path]:
    """Write ``per_style`` tracks of every style under ``root``; returns their paths."""
    rng = np.random.default_rng(seed)
    written = []
    for s_index, style in enumerate(STYLES):
        for i in range(per_style):
            artist = style.artists[i % len(style.artists)]
            album = f"{rng.choice(WORDS)} {rng.choice(NOUNS)}"
            title = f"{rng.choice(WORDS)} {rng.choice(NOUNS)}"
            folder = root / artist / album
            folder.mkdir(parents=True, exist_ok=True)
            tags = {
                "title": title, "artist": artist, "album": album,
                "genre": [style.genre.title()], "mood": style.moods[i % len(style.moods)],
                "year": str(1975 + (s_index * 7 + i * 3) % 48), "track": str(i + 1),
            }
            fmt = FORMATS[(s_index + i) % len(FORMATS)]
            path = folder / f"{i + 1:02d} {title}"
            written.append(make_track(path, fmt, samples=render(style, rng, seconds),
                                      sample_rate=SR, tags=tags))
    return written
