"""Rhythm and voicing patterns: drums, bass lines, comping and melodies on a step grid.

Time is counted in sixteenth-note steps (a 4/4 bar has 16, 3/4 and 6/8 bars have 12).
Every function returns notes as ``(step, length_steps, pitch, velocity_factor)`` tuples
relative to the bar or clip start; ``arrange`` turns them into MIDI ticks.
"""

from __future__ import annotations

import numpy as np

NoteSpec = tuple[float, float, int, float]  # step, length in steps, MIDI pitch, velocity factor

STEPS_PER_BAR = {"4/4": 16, "3/4": 12, "6/8": 12}
BEATS = {"4/4": (0, 4, 8, 12), "3/4": (0, 4, 8), "6/8": (0, 6)}
EIGHTHS = {m: tuple(range(0, n, 2)) for m, n in STEPS_PER_BAR.items()}

SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}

# Drum patterns: metre -> list of (GM drum note, steps, velocity factor).
_E = tuple(range(0, 16, 2))
_S16 = tuple(range(16))
DRUMS: dict[str, dict[str, list[tuple[int, tuple[int, ...], float]]]] = {
    "rock": {"4/4": [(36, (0, 8, 10), 1.0), (38, (4, 12), 1.0), (42, _E, 0.7)]},
    "metal": {"4/4": [(36, _S16, 0.85), (38, (4, 12), 1.0), (42, _E, 0.7)]},
    "punk": {"4/4": [(36, (0, 2, 8, 10), 1.0), (38, (4, 12), 1.0), (42, _E, 0.8)]},
    "pop": {"4/4": [(36, (0, 6, 8), 1.0), (38, (4, 12), 0.95), (42, _E, 0.6), (54, (4, 12), 0.5)]},
    "ballad": {
        "4/4": [(36, (0, 10), 0.8), (37, (8,), 0.7), (42, _E, 0.45)],
        "3/4": [(36, (0,), 0.8), (37, (8,), 0.6), (42, (0, 4, 8), 0.45)],
        "6/8": [(36, (0,), 0.8), (37, (6,), 0.6), (42, (0, 2, 4, 6, 8, 10), 0.45)],
    },
    "swing": {
        "4/4": [(51, (0, 4, 6, 8, 12, 14), 0.7), (44, (4, 12), 0.6), (36, (0,), 0.4)],
        "3/4": [(51, (0, 4, 6, 8), 0.7), (44, (4, 8), 0.55), (36, (0,), 0.4)],
    },
    "shuffle": {"4/4": [(36, (0, 8), 0.9), (38, (4, 12), 0.9), (42, _E, 0.6)]},
    "funk": {
        "4/4": [(36, (0, 3, 10), 1.0), (38, (4, 12), 1.0), (38, (7, 9, 14), 0.35),
                (42, _S16, 0.5)],
    },
    "four_floor": {
        "4/4": [(36, (0, 4, 8, 12), 1.0), (39, (4, 12), 0.9), (46, (2, 6, 10, 14), 0.6),
                (42, (1, 3, 5, 7, 9, 11, 13, 15), 0.35)],
    },
    "techno": {
        "4/4": [(36, (0, 4, 8, 12), 1.0), (42, _S16, 0.4), (46, (2, 6, 10, 14), 0.65),
                (39, (12,), 0.7)],
    },
    "hiphop": {"4/4": [(36, (0, 7, 10), 1.0), (38, (4, 12), 1.0), (42, _E, 0.55)]},
    "reggae": {"4/4": [(36, (8,), 1.0), (37, (8,), 0.9), (42, (2, 6, 10, 14), 0.6)]},
    "bossa": {
        "4/4": [(36, (0, 3, 4, 7, 8, 11, 12, 15), 0.6), (37, (0, 3, 6, 10, 13), 0.7),
                (42, _E, 0.45)],
    },
    "country": {
        "4/4": [(36, (0, 8), 0.9), (38, (4, 12), 0.8), (42, _E, 0.55)],
        "3/4": [(36, (0,), 0.9), (38, (4, 8), 0.6)],
    },
    "waltz": {"3/4": [(36, (0,), 0.8), (42, (4, 8), 0.5), (38, (4, 8), 0.35)]},
    "march": {"4/4": [(36, (0, 8), 0.9), (38, (4, 12, 14, 15), 0.8), (49, (0,), 0.5)]},
    "cinematic": {
        "4/4": [(36, (0,), 0.9), (38, (12, 13, 14, 15), 0.5)],
        "3/4": [(36, (0,), 0.9), (38, (9, 10, 11), 0.5)],
    },
    "chiptune": {"4/4": [(36, (0, 8), 1.0), (38, (4, 12), 0.9), (42, _E, 0.5)]},
    "world": {
        "4/4": [(62, (0, 6, 8, 14), 0.8), (63, (3, 11), 0.7), (64, (4, 12), 0.8),
                (70, _E, 0.45)],
        "6/8": [(62, (0, 6), 0.8), (63, (3, 9), 0.7), (70, (0, 2, 4, 6, 8, 10), 0.45)],
    },
}
_FALLBACK = {
    "4/4": [(36, (0, 8), 0.9), (38, (4, 12), 0.9), (42, _E, 0.5)],
    "3/4": [(36, (0,), 0.8), (38, (4, 8), 0.5), (42, (0, 4, 8), 0.4)],
    "6/8": [(36, (0,), 0.8), (38, (6,), 0.7), (42, (0, 2, 4, 6, 8, 10), 0.45)],
}
CRASH_STYLES = {"rock", "metal", "punk", "pop", "country", "shuffle", "funk", "four_floor"}


def drum_bar(pattern: str, metre: str, bar: int, rng: np.random.Generator) -> list[NoteSpec]:
    """Return one bar of drum hits for a pattern (falls back to a plain beat for the metre)."""
    hits = DRUMS.get(pattern, {}).get(metre) or _FALLBACK[metre]
    notes: list[NoteSpec] = []
    for pitch, steps, vel in hits:
        for step in steps:
            # Small random drop-outs and accents so bars are not identical copies.
            if vel < 0.5 and rng.random() < 0.15:
                continue
            accent = 1.1 if step in BEATS[metre] else 1.0
            notes.append((step, 1, pitch, min(1.0, vel * accent)))
    if bar == 0 and pattern in CRASH_STYLES:
        notes.append((0, 4, 49, 0.9))
    return notes


def chord_pcs(tonic: int, mode: str, degree: int, seventh: bool, raise_v: bool) -> list[int]:
    """Pitch classes of the triad (or seventh chord) built on a scale degree."""
    scale = SCALES[mode]
    pcs = [(tonic + scale[(degree + k) % 7]) % 12 for k in (0, 2, 4, 6)[: 4 if seventh else 3]]
    if raise_v and mode == "minor" and degree == 4:
        pcs[1] = (pcs[1] + 1) % 12  # harmonic-minor major V
    return pcs


def place(pc: int, low: int, high: int, center: int) -> int:
    """The MIDI pitch of a pitch class nearest ``center`` inside ``[low, high]``."""
    candidates = [p for p in range(low, high + 1) if p % 12 == pc]
    if not candidates:
        return max(low, min(high, center))
    return min(candidates, key=lambda p: abs(p - center))


def voicing(pcs: list[int], low: int, high: int, center: int) -> list[int]:
    """A close voicing of the chord around ``center``, root placed first."""
    root = place(pcs[0], low, high, center - 4)
    out = [root]
    for pc in pcs[1:]:
        p = root + ((pc - root) % 12)
        out.append(p if p <= high else p - 12)
    return sorted(set(out))


def bass_bar(pattern: str, metre: str, pcs: list[int], low: int, rng: np.random.Generator,
             next_root: int) -> list[NoteSpec]:
    """One bar of a bass line over a chord (``pcs``) with its root in the lowest octave."""
    n = STEPS_PER_BAR[metre]
    root = place(pcs[0], low, low + 11, low + 6)
    fifth = root + ((pcs[2] - pcs[0]) % 12)
    beats = BEATS[metre]
    if pattern == "root_whole" or pattern == "drone":
        return [(0, n, root, 0.9)]
    if pattern == "root_quarters":
        return [(b, 3.5, root, 0.9) for b in beats]
    if pattern == "eighths":
        return [(s, 1.8, root, 0.95 if s in beats else 0.8) for s in EIGHTHS[metre]]
    if pattern == "octaves":
        return [(s, 1.6, root + (12 if (s // 2) % 2 else 0), 0.9) for s in EIGHTHS[metre]]
    if pattern == "root_fifth":
        return [(b, (beats[1] - beats[0]) * 0.9, root if i % 2 == 0 else fifth, 0.9)
                for i, b in enumerate(beats)]
    if pattern == "walking":
        third = root + ((pcs[1] - pcs[0]) % 12)
        line = [root, rng.choice([third, fifth]), fifth, next_root + rng.choice([-1, 1])]
        return [(b, 3.6, int(line[i % 4]), 0.85) for i, b in enumerate(beats)]
    if pattern == "funk":
        steps = (0, 3, 6, 7, 10, 12, 14) if n == 16 else (0, 3, 6, 9)
        return [(s, 1, root + (12 if s in (7, 14) else 0), 0.95 if s == 0 else 0.75)
                for s in steps if s == 0 or rng.random() < 0.8]
    if pattern == "reggae":
        return [(0, 3, root, 0.9), (3, 1, root, 0.7), (6, 2, fifth, 0.8), (10, 2, root, 0.8)]
    if pattern == "bossa":
        return [(0, 5, root, 0.9), (6, 2, fifth, 0.75), (8, 5, fifth, 0.85), (14, 2, root, 0.7)]
    return [(0, n, root, 0.9)]


def comp_bar(pattern: str, metre: str, chord: list[int], rng: np.random.Generator,
             sustained: bool) -> list[NoteSpec]:
    """One bar of accompaniment playing the voiced ``chord`` (MIDI pitches, low to high)."""
    n = STEPS_PER_BAR[metre]
    beats = BEATS[metre]
    out: list[NoteSpec] = []
    if pattern in ("block", "pad") or (sustained and pattern in ("strum", "arpeggio", "alberti")):
        return [(0, n, p, 0.8) for p in chord]
    if pattern == "beats":
        return [(b, 1.5, p, 0.85) for b in beats for p in chord]
    if pattern == "strum":
        strum = [s for s in EIGHTHS[metre] if s in beats or rng.random() < 0.6]
        for s in strum:
            down = s in beats
            order = chord if down else chord[::-1]
            out += [(s + 0.08 * k, 1.8, p, 0.9 if down else 0.7) for k, p in enumerate(order)]
        return out
    if pattern == "power":
        root = chord[0]
        return [(s, 1.7, p, 0.95 if s in beats else 0.8)
                for s in EIGHTHS[metre] for p in (root, root + 7, root + 12)]
    if pattern in ("arpeggio", "alberti"):
        tones = [chord[0], chord[-1], chord[len(chord) // 2], chord[-1]] if pattern == "alberti" \
            else chord + chord[1:-1][::-1]
        step = 1 if (pattern == "arpeggio" and rng.random() < 0.3) else 2
        return [(s, step * 1.5, tones[i % len(tones)], 0.8)
                for i, s in enumerate(range(0, n, step))]
    if pattern == "offbeat":
        steps = (4, 12) if (n == 16 and rng.random() < 0.5) else tuple(s + 2 for s in beats)
        return [(s, 1.2, p, 0.8) for s in steps for p in chord]
    if pattern == "waltz":
        return [(b, 2.5, p, 0.7) for b in beats[1:] for p in chord]
    if pattern == "stabs":
        steps = [s for s in (0, 3, 6, 10, 12, 14) if s < n and rng.random() < 0.6] or [0]
        return [(s, 0.8, p, 0.85) for s in steps for p in chord]
    if pattern == "jazz_comp":
        steps = sorted(rng.choice(np.arange(0, n, 2), size=2, replace=False).tolist())
        return [(s + (1 if rng.random() < 0.4 else 0), 3, p, 0.7) for s in steps for p in chord]
    return [(0, n, p, 0.8) for p in chord]


_RHYTHMS = {"sparse": (8, 6, 4, 12), "medium": (4, 2, 4, 6, 2, 3), "dense": (2, 1, 1, 2, 2, 3)}


def melody(n_bars: int, metre: str, density: str, chords: list[list[int]], mode: str,
           tonic: int, low: int, high: int, rng: np.random.Generator) -> list[NoteSpec]:
    """A melody over ``n_bars``: a two-bar motif, repeated with new pitches on each chord."""
    n = STEPS_PER_BAR[metre]
    motif: list[tuple[int, int]] = []  # (step within two bars, length)
    step = 0
    while step < 2 * n:
        length = int(rng.choice(_RHYTHMS[density]))
        length = min(length, 2 * n - step)
        if rng.random() > (0.12 if density != "sparse" else 0.2):
            motif.append((step, length))
        step += length
    scale = [pc for pc in range(12) if (pc - tonic) % 12 in SCALES[mode]]
    pool = [p for p in range(low, high + 1) if p % 12 in scale]
    if not pool:
        return []
    idx = len(pool) // 2
    notes: list[NoteSpec] = []
    for start_bar in range(0, n_bars, 2):
        for s, length in motif:
            bar = start_bar + s // n
            if bar >= n_bars:
                break
            chord_pcs_ = {p % 12 for p in chords[bar]}
            idx = int(np.clip(idx + rng.choice([-2, -1, -1, 0, 1, 1, 2, 3, -3]), 0, len(pool) - 1))
            if (s % n) in BEATS[metre]:
                # Strong beats land on a chord tone: search outwards from the current pitch.
                for d in (0, 1, -1, 2, -2, 3, -3):
                    j = idx + d
                    if 0 <= j < len(pool) and pool[j] % 12 in chord_pcs_:
                        idx = j
                        break
            accent = 1.0 if (s % n) in BEATS[metre] else 0.85
            notes.append((bar * n + s % n, length * 0.95, pool[idx], accent))
    return notes
