"""Draw an arrangement from a seed: style, key, metre, tempo, instruments and notes.

``generate(seed)`` is a pure function of its arguments, so a corpus can be rebuilt
exactly from its seed, and captions can be written before anything is rendered.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np

from tools.corpus import patterns as pt
from tools.corpus.instruments import DRUM_KITS, INSTRUMENTS, Instrument
from tools.corpus.styles import STYLES, Style

TICKS_PER_BEAT = 480  # per quarter note
TICKS_PER_STEP = TICKS_PER_BEAT // 4
NOTE_NAMES = ("C", "D♭", "D", "E♭", "E", "F", "F♯", "G", "A♭", "A", "B♭", "B")
NOTE_NAMES_ASCII = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

PROGRESSIONS: dict[str, dict[str, list[list[int]]]] = {
    "pop": {
        "major": [[0, 4, 5, 3], [0, 5, 3, 4], [0, 3, 4, 3], [5, 3, 0, 4], [0, 3, 0, 4]],
        "minor": [[0, 5, 2, 6], [0, 3, 4, 0], [0, 6, 5, 6], [0, 3, 6, 2], [0, 5, 6, 0]],
    },
    "jazz": {"major": [[1, 4, 0, 0], [0, 5, 1, 4], [2, 5, 1, 4]],
             "minor": [[1, 4, 0, 0], [0, 3, 1, 4]]},
    "blues": {"major": [[0, 0, 0, 0, 3, 3, 0, 0, 4, 3, 0, 4], [0, 3, 0, 0, 3, 3, 0, 0]],
              "minor": [[0, 0, 0, 0, 3, 3, 0, 0, 4, 3, 0, 4]]},
    "classical": {"major": [[0, 3, 4, 0], [0, 1, 4, 0], [0, 5, 3, 4], [0, 4, 5, 2, 3, 0, 3, 4]],
                  "minor": [[0, 3, 4, 0], [0, 5, 1, 4], [0, 6, 5, 4]]},
    "modal": {"major": [[0, 6, 0, 6], [0, 3, 0, 3], [0, 0, 6, 3]],
              "minor": [[0, 6, 0, 6], [0, 5, 0, 5], [0, 3, 0, 3], [0, 0, 5, 6]]},
}

POLYPHONIC = ("grand_piano", "bright_piano", "electric_piano", "harpsichord", "nylon_guitar",
              "steel_guitar", "clean_guitar", "jazz_guitar", "harp", "drawbar_organ",
              "church_organ", "accordion", "vibraphone", "marimba", "polysynth", "strings",
              "clavinet")
DYNAMICS_VELOCITY = {"soft": 52, "medium": 80, "loud": 108}
ROLE_CHANNEL = {"lead": 0, "harmony": 1, "bass": 2, "pad": 3, "drums": 9}
ROLE_VOLUME = {"lead": 112, "harmony": 84, "bass": 100, "pad": 68, "drums": 96}


@dataclass(frozen=True)
class Part:
    """One instrument's notes; times in MIDI ticks."""

    role: str  # lead | harmony | bass | pad | drums
    instrument: str  # INSTRUMENTS key, or DRUM_KITS key for drums
    program: int
    channel: int
    notes: tuple[tuple[int, int, int, int], ...]  # (start tick, length ticks, pitch, velocity)
    volume: int  # CC 7
    pan: int  # CC 10
    reverb: int  # CC 91


@dataclass(frozen=True)
class Arrangement:
    """Everything a clip is made of; captions and labels are derived from these fields."""

    seed: tuple[int, ...]
    style: str
    metre: str
    tempo: int  # felt beats per minute (dotted quarters in 6/8)
    quarter_bpm: float  # MIDI tempo
    tonic: int  # pitch class 0-11
    mode: str  # major | minor
    dynamics: str  # soft | medium | loud
    density: str  # sparse | medium | dense
    register: str  # low | mid | high (of the lead)
    ensemble: str  # solo | duo | band | drums
    bars: int
    parts: tuple[Part, ...]

    @property
    def key_name(self) -> str:
        """Key as written in captions, e.g. "E minor"."""
        return f"{NOTE_NAMES_ASCII[self.tonic]} {self.mode}"

    def part(self, role: str) -> Part | None:
        """The part playing ``role``, if any."""
        return next((p for p in self.parts if p.role == role), None)


@dataclass(frozen=True)
class _Draw:
    style: Style
    metre: str
    tempo: int
    tonic: int
    mode: str
    dynamics: str
    density: str
    register: str
    ensemble: str


def _draw_params(rng: np.random.Generator, style: Style) -> _Draw:
    metre = str(rng.choice(style.metres))
    tempo = int(rng.integers(style.tempo[0], style.tempo[1] + 1))
    mode = "minor" if rng.random() < style.minor_p else "major"
    loud_styles = {"metal", "punk", "rock", "march", "techno"}
    soft_styles = {"ambient", "lullaby", "ballad", "choral"}
    weights = [0.15, 0.45, 0.4] if style.key in loud_styles else (
        [0.6, 0.35, 0.05] if style.key in soft_styles else [0.3, 0.45, 0.25])
    dynamics = str(rng.choice(["soft", "medium", "loud"], p=weights))
    density = str(rng.choice(style.density))
    register = str(rng.choice(["low", "mid", "high"], p=[0.25, 0.5, 0.25]))
    ens_p = [0.12, 0.13, 0.72, 0.03] if style.drums else [0.25, 0.3, 0.45, 0.0]
    ensemble = str(rng.choice(["solo", "duo", "band", "drums"], p=ens_p))
    return _Draw(style, metre, tempo, int(rng.integers(12)), mode, dynamics, density, register,
                 ensemble)


def _pick(rng: np.random.Generator, preferred: Sequence[str], fallback: Sequence[str],
          allowed: Collection[int] | None, exclude: Collection[str], p_any: float) -> str:
    """Pick an instrument: usually from the style's pool, sometimes from any that fits."""
    def ok(key: str) -> bool:
        return key not in exclude and (allowed is None or INSTRUMENTS[key].program in allowed)

    pool = [k for k in preferred if ok(k)]
    if not pool or rng.random() < p_any:
        pool = [k for k in fallback if ok(k)] or pool
    if not pool:
        raise ValueError("no instrument left to pick (soundfont lacks them?)")
    return str(rng.choice(pool))


def _choose_instruments(rng: np.random.Generator, d: _Draw,
                        allowed: Collection[int] | None) -> dict[str, str]:
    style = d.style
    every = tuple(INSTRUMENTS)
    chosen: dict[str, str] = {}
    if d.ensemble == "drums":
        return chosen
    if d.ensemble == "solo":
        chosen["lead"] = _pick(rng, style.lead + style.harmony, every, allowed, (), 0.3)
        if chosen["lead"] in POLYPHONIC:
            chosen["harmony"] = chosen["lead"]  # one player: melody plus its own chords
        return chosen
    melodic = [k for k in every if INSTRUMENTS[k].family not in ("bass",)]
    chosen["lead"] = _pick(rng, style.lead, melodic, allowed, (), 0.2)
    chosen["harmony"] = _pick(rng, style.harmony, POLYPHONIC, allowed, (chosen["lead"],), 0.2)
    if d.ensemble == "band":
        basses = [k for k in every if INSTRUMENTS[k].family == "bass"]
        chosen["bass"] = _pick(rng, style.basses, basses, allowed, (chosen["lead"],), 0.15)
        if style.pads and rng.random() < 0.4:
            pads = [k for k in every if INSTRUMENTS[k].sustained]
            chosen["pad"] = _pick(rng, style.pads, pads, allowed, tuple(chosen.values()), 0.2)
    return chosen


def _register_range(inst: Instrument, register: str) -> tuple[int, int]:
    span = inst.high - inst.low
    if span < 20:
        return inst.low, inst.high
    lo_frac, hi_frac = {"low": (0.0, 0.6), "mid": (0.2, 0.8), "high": (0.4, 1.0)}[register]
    return inst.low + round(span * lo_frac), inst.low + round(span * hi_frac)


def _to_ticks(specs: list[tuple[float, float, int, float]], base_velocity: int, swing: float,
              jitter: int, rng: np.random.Generator, end_tick: int) -> tuple:
    notes = []
    for step, length, pitch, vel in specs:
        tick = step * TICKS_PER_STEP
        if swing and (round(step) % 4 == 2):
            tick += swing * TICKS_PER_STEP
        tick += rng.integers(-jitter, jitter + 1) if jitter else 0
        tick = max(0, round(tick))
        if tick >= end_tick:
            continue
        v = int(np.clip(base_velocity * vel + rng.integers(-6, 7), 1, 127))
        notes.append((tick, max(30, int(length * TICKS_PER_STEP)), int(pitch), v))
    notes.sort()
    return tuple(notes)


def _chord_pitch_classes(rng: np.random.Generator, st: Style, d: _Draw, bars: int,
                         bar_seconds: float) -> list[list[int]]:
    """The pitch classes of each bar's chord (one more bar than written, for bass leads)."""
    progs = PROGRESSIONS[st.progressions][d.mode]
    prog = progs[int(rng.integers(len(progs)))]
    bars_per_chord = 2 if (bar_seconds < 1.2 and st.progressions != "blues") else 1
    degrees = [prog[(b // bars_per_chord) % len(prog)] for b in range(bars + 1)]
    seventh = st.progressions in ("jazz", "blues")
    raise_v = st.progressions in ("classical", "jazz")
    pcs = [pt.chord_pcs(d.tonic, d.mode, g, seventh, raise_v) for g in degrees]
    if st.progressions == "blues":  # dominant sevenths throughout
        pcs = [[c[0], c[1] if d.mode == "minor" else (c[0] + 4) % 12, c[2], (c[0] + 10) % 12]
               for c in pcs]
    return pcs


def _write_parts(add: Callable[[str, str, int, list, int], None], rng: np.random.Generator,
                 st: Style, d: _Draw, chosen: dict[str, str], pcs: list[list[int]], bars: int,
                 allowed_kits: Collection[int] | None) -> None:
    """Write each chosen role's notes (harmony, lead, bass, pad, drums, in that order)."""
    n_steps = pt.STEPS_PER_BAR[d.metre]
    voiced: list[list[int]] = []
    if "harmony" in chosen:
        h = INSTRUMENTS[chosen["harmony"]]
        lo, hi = max(h.low, 45), min(h.high, 79)
        center = (lo + hi) // 2
        voiced = [pt.voicing(c, lo, hi, center) for c in pcs]
        comp = str(rng.choice(st.comp))
        if chosen.get("lead") == chosen["harmony"]:
            voiced = [pt.voicing(c, h.low, max(h.low + 14, 60), h.low + 10) for c in pcs]
            comp = "arpeggio" if comp in ("power", "stabs", "offbeat") else comp
        specs = [(b * n_steps + s, ln, p, v) for b in range(bars)
                 for s, ln, p, v in pt.comp_bar(comp, d.metre, voiced[b], rng, h.sustained)]
        add("harmony", h.key, h.program, specs, 6)
    if "lead" in chosen:
        lead = INSTRUMENTS[chosen["lead"]]
        lo, hi = _register_range(lead, d.register)
        chords = voiced or [[pt.place(pc, 48, 72, 60) for pc in c] for c in pcs]
        specs = pt.melody(bars, d.metre, d.density, chords, d.mode, d.tonic, lo, hi, rng)
        add("lead", lead.key, lead.program, specs, 8)
    if "bass" in chosen:
        b_inst = INSTRUMENTS[chosen["bass"]]
        bpat = str(rng.choice(st.bass))
        specs = []
        for b in range(bars):
            nxt = pt.place(pcs[b + 1][0], b_inst.low, b_inst.low + 11, b_inst.low + 6)
            specs += [(b * n_steps + s, ln, p, v)
                      for s, ln, p, v in pt.bass_bar(bpat, d.metre, pcs[b], b_inst.low, rng, nxt)]
        add("bass", b_inst.key, b_inst.program, specs, 6)
    if "pad" in chosen:
        p_inst = INSTRUMENTS[chosen["pad"]]
        specs = [(b * n_steps, n_steps, p, 0.7) for b in range(bars)
                 for p in pt.voicing(pcs[b], max(p_inst.low, 48), min(p_inst.high, 76), 62)]
        add("pad", p_inst.key, p_inst.program, specs, 0)
    if st.drums and d.ensemble in ("band", "drums"):
        kits = [k for k in st.kits if allowed_kits is None or DRUM_KITS[k].program in allowed_kits]
        kit = DRUM_KITS[str(rng.choice(kits))] if kits else DRUM_KITS["standard"]
        specs = [(b * n_steps + s, ln, p, v) for b in range(bars)
                 for s, ln, p, v in pt.drum_bar(st.drums, d.metre, b, rng)]
        add("drums", kit.key, kit.program, specs, 4)


def generate(seed: int | Sequence[int], *, style: str | None = None, seconds: float = 10.0,
             allowed_programs: Collection[int] | None = None,
             allowed_kits: Collection[int] | None = None) -> Arrangement:
    """Draw one arrangement.

    Args:
        seed: integer or integer sequence; the same seed always gives the same arrangement.
        style: force a style key of ``STYLES`` (default: draw one uniformly).
        seconds: length of music to write (a little more is written so renders end full).
        allowed_programs: GM programs the target soundfont has (None: all).
        allowed_kits: drum-kit programs the soundfont has in bank 128 (None: all).

    Returns:
        The arrangement, with notes for every part.
    """
    seed_t = tuple(int(s) for s in (seed if isinstance(seed, Sequence) else (seed,)))
    rng = np.random.default_rng(list(seed_t))
    st = STYLES[style] if style else STYLES[str(rng.choice(sorted(STYLES)))]
    d = _draw_params(rng, st)
    chosen = _choose_instruments(rng, d, allowed_programs)
    quarter_bpm = d.tempo * (1.5 if d.metre == "6/8" else 1.0)
    n_steps = pt.STEPS_PER_BAR[d.metre]
    bar_seconds = n_steps / 4 * 60.0 / quarter_bpm
    bars = max(2, math.ceil((seconds + 0.5) / bar_seconds))
    end_tick = bars * n_steps * TICKS_PER_STEP
    pcs = _chord_pitch_classes(rng, st, d, bars, bar_seconds)
    base_vel = DYNAMICS_VELOCITY[d.dynamics]
    swing = (1.3 if st.key == "hiphop" else 2 / 3) if st.swing else 0.0
    reverb = int(rng.integers(70, 120) if st.key in ("ambient", "choral", "cinematic")
                 else rng.integers(15, 80))
    parts: list[Part] = []

    def add(role: str, key: str, program: int, specs: list, jitter: int) -> None:
        pan = 64 if role in ("bass", "drums") else int(rng.integers(34, 95))
        vol = int(np.clip(ROLE_VOLUME[role] + rng.integers(-10, 11), 40, 127))
        channel = ROLE_CHANNEL[role]
        notes = _to_ticks(specs, base_vel, swing, jitter, rng, end_tick)
        parts.append(Part(role, key, program, channel, notes, vol, pan, reverb))

    _write_parts(add, rng, st, d, chosen, pcs, bars, allowed_kits)
    parts.sort(key=lambda p: p.channel)
    return Arrangement(seed_t, st.key, d.metre, d.tempo, quarter_bpm, d.tonic, d.mode,
                       d.dynamics, d.density, d.register, d.ensemble, bars, tuple(parts))
