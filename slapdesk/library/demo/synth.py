"""A small pure-numpy synthesizer for the demo library: a few timbres, drums, arrangements.

No soundfont, no native library: additive piano, drawbar organ, detuned-saw pad, plucked
string (Karplus-Strong), square lead, electric piano (two-operator FM), bass, and noise drums.
Each style (``STYLES``) fixes its instruments, tempo range, mode and groove, so tracks of one
style sound alike and styles sound different: search and the embedding map show structure.
Everything is a pure function of its arguments and a ``numpy.random.Generator``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

SAMPLE_RATE = 22_050
MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
# Chord progressions as scale degrees (0 = tonic), four bars each.
PROGRESSIONS = ((0, 4, 5, 3), (0, 5, 3, 4), (0, 3, 4, 0), (5, 3, 0, 4), (0, 6, 5, 4))


@dataclass(frozen=True)
class Style:
    """How one demo genre sounds."""

    genre: str  # written into the GENRE tag; a term of resources/vocab/genre.toml
    tempo: tuple[int, int]  # beats per minute, inclusive range
    mode: str  # "major", "minor" or "either"
    chords: str  # instrument playing the harmony (a key of VOICES)
    comp: str  # "block" (one chord a bar), "beats", "arpeggio", "offbeat"
    bass: str | None  # bass instrument, or None
    lead: str | None  # melody instrument, or None
    drums: str | None  # groove name (see _GROOVES), or None
    instruments: tuple[str, ...]  # human words for the instruments, for the comment tag


def _env(n: int, attack: float, decay: float, sr: int) -> np.ndarray:
    t = np.arange(n) / sr
    env = np.exp(-t / decay) if decay > 0 else np.ones(n)
    a = max(1, int(attack * sr))
    env[:a] *= np.linspace(0.0, 1.0, a)
    release = min(n, int(0.03 * sr))
    env[n - release :] *= np.linspace(1.0, 0.0, release)
    return env


def _partials(freq: float, seconds: float, sr: int, amps: list[float], ratios: list[float],
              attack: float, decay: float, vibrato: float = 0.0) -> np.ndarray:
    n = max(1, int(seconds * sr))
    t = np.arange(n) / sr
    phase = 2 * np.pi * freq * t
    if vibrato:
        phase += vibrato * np.sin(2 * np.pi * 5.5 * t)
    out = np.zeros(n)
    for amp, ratio in zip(amps, ratios, strict=True):
        if freq * ratio < sr / 2:
            out += amp * np.sin(ratio * phase)
    return out * _env(n, attack, decay, sr)


def piano(freq: float, seconds: float, sr: int) -> np.ndarray:
    """Slightly inharmonic partials, higher ones decaying faster."""
    n = max(1, int(seconds * sr))
    t = np.arange(n) / sr
    out = np.zeros(n)
    for k in range(1, 9):
        ratio = k * np.sqrt(1 + 0.0004 * k * k)
        if freq * ratio < sr / 2:
            out += np.sin(2 * np.pi * freq * ratio * t) * np.exp(-t * (1.2 + 0.9 * k)) / k**1.1
    return out * _env(n, 0.004, 0, sr)


def organ(freq: float, seconds: float, sr: int) -> np.ndarray:
    """Drawbar organ: steady harmonics with a slow rotary wobble."""
    return _partials(freq, seconds, sr, [1, 0.8, 0.6, 0.5, 0.3, 0.25], [0.5, 1, 2, 3, 4, 6],
                     attack=0.01, decay=0, vibrato=0.15)


def pad(freq: float, seconds: float, sr: int) -> np.ndarray:
    """Three detuned band-limited saws with a slow attack."""
    out: Any = 0.0  # an array from the first saw on
    for detune in (0.996, 1.0, 1.004):
        ks = list(range(1, 12))
        out = out + _partials(freq * detune, seconds, sr, [1 / k for k in ks],
                              [float(k) for k in ks], attack=min(0.6, seconds / 3), decay=0)
    return out / 3


def pluck(freq: float, seconds: float, sr: int, rng: np.random.Generator | None = None
          ) -> np.ndarray:
    """Karplus-Strong plucked string, computed one period at a time."""
    n = max(1, int(seconds * sr))
    period = max(2, round(sr / freq))
    noise_rng = rng or np.random.default_rng(int(freq * 1000))
    buf = noise_rng.uniform(-1, 1, period)
    out = np.empty(n)
    for start in range(0, n, period):
        chunk = buf[: min(period, n - start)]
        out[start : start + len(chunk)] = chunk
        buf = 0.497 * (buf + np.roll(buf, -1))
    return out * _env(n, 0.001, 0, sr)


def square(freq: float, seconds: float, sr: int) -> np.ndarray:
    """Band-limited square lead with vibrato."""
    ks = [1, 3, 5, 7, 9, 11]
    return _partials(freq, seconds, sr, [1 / k for k in ks], [float(k) for k in ks],
                     attack=0.01, decay=1.5, vibrato=0.3)


def epiano(freq: float, seconds: float, sr: int) -> np.ndarray:
    """Two-operator FM electric piano (bell-like attack, mellow sustain)."""
    n = max(1, int(seconds * sr))
    t = np.arange(n) / sr
    index = 1.8 * np.exp(-t * 4)
    out = np.sin(2 * np.pi * freq * t + index * np.sin(2 * np.pi * freq * t))
    return out * _env(n, 0.003, 1.2, sr)


def bass(freq: float, seconds: float, sr: int) -> np.ndarray:
    """Round electric bass: fundamental plus a little second and third harmonic."""
    return _partials(freq, seconds, sr, [1, 0.35, 0.12], [1, 2, 3], attack=0.005, decay=0.9)


def synth_bass(freq: float, seconds: float, sr: int) -> np.ndarray:
    """Bright saw bass for electronic styles."""
    ks = list(range(1, 9))
    return _partials(freq, seconds, sr, [1 / k for k in ks], [float(k) for k in ks],
                     attack=0.003, decay=0.35)


def guitar(freq: float, seconds: float, sr: int) -> np.ndarray:
    """Overdriven guitar: a plucked string through a soft clipper."""
    return np.tanh(4 * pluck(freq, seconds, sr)) * 0.6


VOICES: dict[str, Callable[[float, float, int], np.ndarray]] = {
    "piano": piano, "organ": organ, "pad": pad, "pluck": pluck, "square": square,
    "epiano": epiano, "bass": bass, "synth_bass": synth_bass, "guitar": guitar,
}  # fmt: skip
LEVELS = {"piano": 0.5, "organ": 0.22, "pad": 0.3, "pluck": 0.45, "square": 0.25,
          "epiano": 0.35, "bass": 0.6, "synth_bass": 0.35, "guitar": 0.3}  # fmt: skip


@lru_cache(maxsize=512)
def _tone(voice: str, note: int, steps: int, step: int, sr: int) -> np.ndarray:
    """One note of ``voice``, ``steps`` sixteenths long; cached: arrangements repeat notes."""
    return VOICES[voice](_midi_hz(note), steps * step / sr, sr) * LEVELS[voice]


def kick(sr: int) -> np.ndarray:
    """Sine with a falling pitch."""
    t = np.arange(int(0.3 * sr)) / sr
    freq = 50 + 100 * np.exp(-t * 30)
    return np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t * 12)


def snare(sr: int, rng: np.random.Generator) -> np.ndarray:
    """Noise burst plus a short body tone."""
    t = np.arange(int(0.2 * sr)) / sr
    noise = rng.uniform(-1, 1, len(t))
    noise = noise - np.concatenate(([0.0], noise[:-1])) * 0.5
    return (0.6 * noise + 0.5 * np.sin(2 * np.pi * 185 * t)) * np.exp(-t * 22)


def hat(sr: int, rng: np.random.Generator, seconds: float = 0.06) -> np.ndarray:
    """High-passed noise (first difference), short decay; longer for a ride."""
    t = np.arange(int(seconds * sr)) / sr
    noise = np.diff(rng.uniform(-1, 1, len(t) + 1))
    return noise * np.exp(-t * (60 if seconds < 0.1 else 9)) * 0.5


# Grooves: per drum, the sixteenth-note steps of one 4/4 bar on which it hits.
_GROOVES: dict[str, dict[str, tuple[int, ...]]] = {
    "four": {"kick": (0, 4, 8, 12), "snare": (4, 12), "hat": (2, 6, 10, 14)},
    "rock": {"kick": (0, 6, 8), "snare": (4, 12), "hat": (0, 2, 4, 6, 8, 10, 12, 14)},
    "boom": {"kick": (0, 7, 10), "snare": (4, 12), "hat": (0, 2, 4, 6, 8, 10, 12, 14)},
    "swing": {"kick": (0, 8), "snare": (), "ride": (0, 4, 7, 8, 12, 15)},
    "shuffle": {"kick": (0, 8), "snare": (4, 12), "hat": (0, 3, 4, 7, 8, 11, 12, 15)},
}


def _add(buf: np.ndarray, sound: np.ndarray, start: int, gain: float) -> None:
    if start >= len(buf):
        return
    end = min(len(buf), start + len(sound))
    buf[start:end] += gain * sound[: end - start]


def _midi_hz(note: int) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def _chord(tonic: int, scale: tuple[int, ...], degree: int) -> list[int]:
    """Triad on ``degree`` of the scale, as MIDI notes above ``tonic``."""
    return [tonic + scale[(degree + step) % 7] + 12 * ((degree + step) // 7) for step in (0, 2, 4)]


def _drums(buf: np.ndarray, groove: str, bars: int, step: int, rng: np.random.Generator,
           sr: int) -> None:
    sounds = {"kick": (kick(sr), 0.8), "snare": (snare(sr, rng), 0.45),
              "hat": (hat(sr, rng), 0.35), "ride": (hat(sr, rng, 0.4), 0.25)}
    for bar in range(bars):
        for drum, steps in _GROOVES[groove].items():
            sound, gain = sounds[drum]
            for s in steps:
                jitter = int(rng.integers(0, max(1, sr // 400)))
                _add(buf, sound, (bar * 16 + s) * step + jitter, gain * rng.uniform(0.85, 1.0))


def _harmony(buf: np.ndarray, style: Style, chords: list[list[int]], step: int, sr: int,
             rng: np.random.Generator) -> None:
    voice = style.chords
    for bar, chord in enumerate(chords):
        start = bar * 16 * step
        if style.comp == "block":
            for note in chord:
                _add(buf, _tone(voice, note, 16, step, sr), start, 1.0)
        elif style.comp == "arpeggio":
            pattern = [*chord, chord[0] + 12, *chord[::-1]][:8]
            for i, note in enumerate(pattern):
                _add(buf, _tone(voice, note, 4, step, sr), start + 2 * i * step, 1.0)
        else:  # "beats" on every beat, "offbeat" between them (reggae / ska skank)
            offset = 2 if style.comp == "offbeat" else 0
            for beat in range(4):
                for note in chord:
                    _add(buf, _tone(voice, note, 2, step, sr),
                         start + (beat * 4 + offset) * step, rng.uniform(0.8, 1.0))


def _bassline(buf: np.ndarray, style: Style, chords: list[list[int]], step: int, sr: int) -> None:
    assert style.bass is not None
    for bar, chord in enumerate(chords):
        root = chord[0] - 24
        notes = [root, root, root + 7, root + 12] if style.drums == "swing" else [root, root + 7]
        length = 16 // len(notes)
        for i, note in enumerate(notes):
            _add(buf, _tone(style.bass, note, length, step, sr), (bar * 16 + i * length) * step,
                 1.0)


def _melody(buf: np.ndarray, style: Style, tonic: int, scale: tuple[int, ...], bars: int,
            step: int, sr: int, rng: np.random.Generator) -> None:
    assert style.lead is not None
    degree, position, end = 7, 0, bars * 16
    while position < end:
        length = int(rng.choice([2, 2, 4, 4, 4, 6, 8]))
        if rng.random() > 0.15:  # some rests
            note = tonic + 12 + scale[degree % 7] + 12 * (degree // 7)
            _add(buf, _tone(style.lead, note, length, step, sr), position * step, 1.0)
        degree = int(np.clip(degree + rng.choice([-2, -1, -1, 0, 1, 1, 2]), 3, 12))
        position += length


def render(style: Style, tempo: int, seconds: float, rng: np.random.Generator,
           sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Render ``seconds`` of one arrangement in ``style`` at ``tempo`` BPM.

    Args:
        style: the genre's instruments and groove.
        tempo: beats per minute.
        seconds: length of the result.
        rng: every random choice (key, progression, melody, drum feel) comes from it.
        sample_rate: output rate in Hz.

    Returns:
        Mono float32 samples, peak 0.8, with short fades at both ends.
    """
    step = round(sample_rate * 60 / tempo / 4)  # one sixteenth note
    bars = int(np.ceil(seconds * sample_rate / (16 * step))) + 1
    minor = style.mode == "minor" or (style.mode == "either" and rng.random() < 0.5)
    scale = MINOR if minor else MAJOR
    tonic = 48 + int(rng.integers(0, 12))
    progression = PROGRESSIONS[int(rng.integers(0, len(PROGRESSIONS)))]
    chords = [_chord(tonic, scale, progression[bar % 4]) for bar in range(bars)]
    buf = np.zeros(bars * 16 * step + sample_rate)
    _harmony(buf, style, chords, step, sample_rate, rng)
    if style.bass:
        _bassline(buf, style, chords, step, sample_rate)
    if style.lead:
        _melody(buf, style, tonic, scale, bars, step, sample_rate, rng)
    if style.drums:
        _drums(buf, style.drums, bars, step, rng, sample_rate)
    out = buf[: int(seconds * sample_rate)]
    fade = min(len(out) // 4, int(0.05 * sample_rate))
    if fade:
        out[:fade] *= np.linspace(0, 1, fade)
        out[-fade:] *= np.linspace(1, 0, fade)
    peak = float(np.max(np.abs(out))) or 1.0
    return (0.8 * out / peak).astype(np.float32)


STYLES: dict[str, Style] = {
    style.genre: style
    for style in (
        Style("classical", (66, 84), "either", "piano", "arpeggio", None, "piano", None,
              ("piano",)),
        Style("jazz", (104, 136), "major", "epiano", "beats", "bass", "square", "swing",
              ("electric piano", "upright bass", "ride cymbal")),
        Style("electronic", (120, 130), "minor", "pad", "block", "synth_bass", "square", "four",
              ("synthesizer", "synth bass", "drum machine")),
        Style("ambient", (60, 72), "either", "pad", "block", None, "epiano", None,
              ("synth pad", "bells")),
        Style("rock", (124, 150), "either", "guitar", "beats", "bass", None, "rock",
              ("electric guitar", "bass guitar", "drums")),
        Style("hip hop", (84, 96), "minor", "epiano", "block", "bass", None, "boom",
              ("electric piano", "bass", "drums")),
        Style("folk", (92, 112), "major", "pluck", "arpeggio", "bass", None, None,
              ("acoustic guitar", "bass")),
        Style("soul", (76, 98), "either", "organ", "block", "bass", "piano", "shuffle",
              ("organ", "piano", "bass", "drums")),
    )
}


def render_part(voice: str, tempo: int, seconds: float, rng: np.random.Generator,
                sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """One instrument alone: a key of ``VOICES`` arpeggiating chords, or ``drums`` (a rock beat).

    Labelled single-instrument clips, for tests and benchmarks that need to know exactly
    what sounds when.
    """
    if voice == "drums":
        step = round(sample_rate * 60 / tempo / 4)
        bars = int(np.ceil(seconds * sample_rate / (16 * step))) + 1
        buf = np.zeros(bars * 16 * step + sample_rate)
        _drums(buf, "rock", bars, step, rng, sample_rate)
        out = buf[: int(seconds * sample_rate)]
        peak = float(np.max(np.abs(out))) or 1.0
        return (0.8 * out / peak).astype(np.float32)
    style = Style(voice, (tempo, tempo), "either", voice, "arpeggio", None, None, None, (voice,))
    return render(style, tempo, seconds, rng, sample_rate)
