"""Captions and labels from an arrangement's own parameters, in varied natural wording.

Every caption names every instrument that plays (so a caption never claims or omits an
instrument), and everything else it says (style, key, metre, tempo, mood) follows from
the generating parameters. Mood words come from a fixed map of tempo, mode and dynamics.
"""

from __future__ import annotations

import numpy as np

from tools.corpus.arrange import Arrangement
from tools.corpus.instruments import DRUM_KITS, INSTRUMENTS
from tools.corpus.styles import STYLES


def moods(arr: Arrangement) -> list[str]:
    """Mood words implied by tempo, mode, dynamics and style (a fixed, documented map)."""
    fast = arr.tempo >= 118
    slow = arr.tempo <= 80
    out: list[str] = []
    if arr.mode == "major":
        if fast:
            out += ["upbeat", "happy", "energetic"]
        elif slow:
            out += ["calm", "gentle", "relaxing"]
        else:
            out += ["cheerful", "warm"]
    else:
        if fast:
            out += ["tense", "driving", "dark"]
        elif slow:
            out += ["sad", "melancholic", "wistful"]
        else:
            out += ["moody", "brooding"]
    if arr.dynamics == "loud" and arr.style in ("metal", "punk"):
        out.insert(0, "aggressive")
    if arr.dynamics == "soft" and slow:
        out.append("dreamy")
    if arr.style in ("march", "cinematic") and arr.mode == "major":
        out.insert(0, "triumphant")
    if arr.style == "cinematic" and arr.mode == "minor":
        out.insert(0, "epic")
    return out


def tempo_word(tempo: int) -> str:
    """A tempo word for a felt bpm."""
    if tempo < 72:
        return "slow"
    if tempo < 100:
        return "relaxed" if tempo < 88 else "mid-tempo"
    if tempo < 135:
        return "lively"
    return "fast"


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def instrument_names(arr: Arrangement, rng: np.random.Generator) -> list[str]:
    """One wording per distinct instrument, lead first (drums last)."""
    names: list[str] = []
    seen: set[str] = set()
    for role in ("lead", "harmony", "pad", "bass", "drums"):
        part = arr.part(role)
        if part is None or part.instrument in seen:
            continue
        seen.add(part.instrument)
        pool = DRUM_KITS[part.instrument].names if role == "drums" else \
            INSTRUMENTS[part.instrument].names
        names.append(str(rng.choice(pool)))
    return names


def labels(arr: Arrangement) -> dict:
    """Structured labels for evaluation (families, lead, style, tempo, key, ...)."""
    melodic = [p for p in arr.parts if p.role != "drums"]
    families = sorted({INSTRUMENTS[p.instrument].family for p in melodic}
                      | ({"drums"} if arr.part("drums") else set()))
    lead = arr.part("lead")
    return {
        "style": arr.style, "tempo_bpm": arr.tempo, "key": arr.key_name, "mode": arr.mode,
        "metre": arr.metre, "dynamics": arr.dynamics, "density": arr.density,
        "register": arr.register, "ensemble": arr.ensemble,
        "instruments": sorted({p.instrument for p in melodic}),
        "instrument_families": families,
        "lead": lead.instrument if lead else None,
        "lead_family": INSTRUMENTS[lead.instrument].family if lead else "drums",
        "drum_kit": arr.part("drums").instrument if arr.part("drums") else None,
        "moods": moods(arr),
    }  # fmt: skip


def _templates(arr: Arrangement, rng: np.random.Generator) -> list[str]:
    st = STYLES[arr.style]
    style = str(rng.choice(st.words))
    noun = str(rng.choice(st.nouns))
    mood_list = moods(arr)
    mood = str(rng.choice(mood_list))
    names = instrument_names(arr, rng)
    lead, rest = names[0], names[1:]
    all_names = _join(names)
    bpm = f"{arr.tempo} bpm" if rng.random() < 0.5 else f"{arr.tempo} BPM"
    key = arr.key_name
    metre = {"4/4": "4/4", "3/4": "3/4 time", "6/8": "6/8 time"}[arr.metre]
    tw = tempo_word(arr.tempo)
    if arr.ensemble == "drums":
        return [
            f"{_article(mood)} {mood} {style} drum groove on {lead} at {bpm}",
            f"{lead} alone playing a {tw} {style} beat",
            f"a {style} rhythm played on {lead}, no other instruments, {bpm}",
            f"{style}, {lead}, {mood}, {bpm}",
            f"solo {lead}: a {tw} {style} pattern in {metre}",
        ]
    solo = arr.ensemble == "solo"
    with_rest = f", backed by {_join(rest)}" if rest else ""
    out = [
        f"{_article(mood)} {mood} {style} {noun} in {key} with {all_names} at {bpm}",
        f"{lead} leads {_article(tw)} {tw} {style} {noun}{with_rest}",
        f"{style}, {mood}, {', '.join(names)}, {key}, {bpm}",
        f"{all_names} playing {_article(mood)} {mood} {style} {noun} in {metre}",
        f"{_article(arr.dynamics)} {arr.dynamics}, {arr.density} {style} {noun} featuring "
        f"{all_names}",
        f"{_article(tw)} {tw} {arr.mode}-key {style} {noun} for {all_names}",
        f"{style} {noun} in {metre} at {bpm}: {all_names}; the mood is {mood}",
        f"instrumental {style} with {all_names}, {_article(mood)} {mood} feel, in {key}",
    ]
    if solo:
        out += [f"solo {lead} playing {_article(mood)} {mood} {style} {noun} in {key}",
                f"{_article(lead)} {lead} on its own, {tw} {style} at {bpm}"]
    return out


def captions(arr: Arrangement, seed: int | list[int], n: int = 5) -> tuple[str, list[str]]:
    """Return (caption, alternatives): ``n`` distinct wordings, the first is the caption.

    Args:
        arr: the arrangement described.
        seed: seeds the choice of wordings (use the clip's seed: captions are reproducible).
        n: how many wordings.
    """
    rng = np.random.default_rng(seed)
    pool = _templates(arr, rng)
    order = rng.permutation(len(pool))[:n]
    texts = [pool[i][0].upper() + pool[i][1:] if rng.random() < 0.5 else pool[i] for i in order]
    return texts[0], texts
