"""Training captions from the teachers' confident tags merged with the grounded labels.

Rules (why each one):
- a teacher tag counts when its probability reaches that teacher's threshold (chosen on
  validation data by ``choose_threshold``), strongest first, at most ``MAX_CONCEPTS``;
- grounded labels win: where a row lists its instrument families (generated arrangements,
  samples) a teacher instrument that is not among them is dropped, and so are vocals on
  rows known to have none; on generated rows the grounded style stays the only genre,
  since the teachers never heard General MIDI renders, and "slow" / "fast" must agree with
  a stated tempo;
- each caption draws its own wordings ("sad" / "melancholic"), seeded by the clip, so a
  rebuild gives the same manifest.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

from tools.distill.wording import FAMILY_OF, concept, kind, wordings

MAX_CONCEPTS = 5
GROUNDED_KEEP = 2  # grounded captions of a recording kept beside the teacher captions


Limits = dict[str, float | dict[str, float]]  # teacher -> one threshold, or one per tag


def limit(thresholds: Limits, teacher: str, tag: str) -> float:
    """A tag's threshold: its own where it has one, else its teacher's."""
    chosen = thresholds[teacher]
    return chosen.get(tag, chosen.get("*", 1.01)) if isinstance(chosen, dict) else chosen


def confident(probs: dict[str, np.ndarray], names: dict[str, list[str]],
              thresholds: Limits) -> list[str]:
    """Concepts of one clip's confident tags, strongest first, without repeats.

    Strength is the probability over the tag's threshold, so tags with different
    thresholds compare fairly.
    """
    scored = []
    for teacher, row in probs.items():
        for tag, p in zip(names[teacher], row, strict=True):
            t = limit(thresholds, teacher, tag)
            if p >= t:
                scored.append((float(p) / t, concept(tag)))
    out: list[str] = []
    for _, name in sorted(scored, reverse=True):
        if name not in out:
            out.append(name)
    return out


def consistent(concepts: list[str], labels: dict) -> list[str]:
    """Drop teacher concepts the grounded labels contradict (see the module's rules)."""
    families = set(labels.get("instrument_families", ()))
    if labels.get("instrument_family"):
        families.add(labels["instrument_family"])
    generated = "style" in labels  # tools.corpus synth rows carry their style
    kept = []
    for name in concepts:
        k = kind(name)
        if families and k == "instrument" and not FAMILY_OF.get(name, set()) & families:
            continue
        if families and k == "vocals" and name != "instrumental" and "choir" not in families:
            continue
        if generated and k in ("genre", "era"):
            continue
        if not _tempo_fits(name, labels.get("tempo_bpm")):
            continue
        kept.append(name)
    return kept[:MAX_CONCEPTS]


def _tempo_fits(name: str, bpm: float | None) -> bool:
    """A teacher's "slow" / "fast" must agree with a known tempo (rows that state one)."""
    if bpm is None:
        return True
    return not ((name == "slow" and bpm >= 100) or (name == "fast" and bpm <= 110))


def _say(names: list[str], rng: np.random.Generator) -> dict[str, list[str]]:
    """Wordings per kind; "instrumental" goes under its own key (it reads as an ending)."""
    said: dict[str, list[str]] = {}
    for name in names:
        options = wordings(name)
        key = "bare" if name == "instrumental" else kind(name)
        said.setdefault(key, []).append(options[int(rng.integers(len(options)))])
    return said


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def teacher_captions(names: list[str], seed_text: str, grounded: str,
                     noun: str = "music") -> list[str]:
    """Three captions saying ``names`` in varied wordings (none when nothing is confident).

    ``noun`` ends the first caption's genre words ("electronic ambient game soundtrack").
    """
    if not names:
        return []
    rng = np.random.default_rng(zlib.crc32(seed_text.encode()))
    out = []
    for template in range(3):
        s = _say(names, rng)
        words = [w for ws in s.values() for w in ws]
        if template == 0:
            adjectives = [*s.get("tempo", ()), *s.get("mood", ()), *s.get("era", ())]
            genre = " ".join(s.get("genre", ()))
            if noun != "music":  # "classical" + "classical music": say each word once
                genre = " ".join(w for w in genre.split() if w not in {*noun.split(), "music"})
            said = f"{genre} {noun}" if genre and noun != "music" else genre or noun
            text = " ".join([*adjectives, said])
            extras = [*s.get("instrument", ()), *s.get("vocals", ())]
            text += f" with {_join(extras)}" if extras else ""
            text += f", {s['bare'][0]}" if "bare" in s else ""
        elif template == 1:
            text = ", ".join(words)
        else:
            text = f"{grounded}: {', '.join(words)}"
        out.append(text)
    return list(dict.fromkeys(out))


# A recording's own genre tag that says it is classical or orchestral music.
CLASSICAL_TAG = re.compile(r"classical|orchestra|symphon|baroque|romantic|concerto", re.I)
GAME_WORDS = re.compile(r"soundtrack|\bgames?\b", re.I)
# What orchestral game music is called instead of "game soundtrack" (one per clip, by seed).
ORCHESTRAL_NOUNS = ("orchestral music", "classical music", "orchestral score",
                    "symphonic orchestral music")


def is_classical(row: dict, concepts: list[str]) -> bool:
    """Recording (not generated) the teachers call classical, or whose genre tag says so."""
    labels = row.get("labels", {})
    if "style" in labels:  # generated rows say their own style
        return False
    return "classical" in concepts or bool(CLASSICAL_TAG.search(str(labels.get("genre", ""))))


def _noun(row: dict, classical: bool) -> str:
    """The word the first teacher caption ends its genre with.

    Game music is what the app calls "soundtrack"; but orchestral game music captioned
    "classical ... game soundtrack" pulled "soundtrack" toward orchestral music and
    "classical" away from it (docs/validation.md, third attempt): there it is "orchestral
    music" or "classical music", in a wording drawn per clip.
    """
    if classical:
        return ORCHESTRAL_NOUNS[zlib.crc32(row["audio"].encode()) % len(ORCHESTRAL_NOUNS)]
    return "game soundtrack" if row.get("labels", {}).get("kind") == "game soundtrack" else "music"


def compose_row(row: dict, names: list[str], classical_without_game: bool = False) -> dict:
    """The manifest row with grounded captions first, then the teachers' captions.

    Classical recordings (:func:`is_classical`) always say "classical" among their concepts,
    their teacher captions never say "soundtrack", and of their grounded captions those
    without "soundtrack" come first; with ``classical_without_game`` no caption of theirs
    names the game or its music at all ("video game music" reads close to "soundtrack").
    """
    grounded = list(dict.fromkeys([row["caption"], *row.get("captions", ())]))
    kept = consistent(names, row.get("labels", {}))
    classical = is_classical(row, kept)
    if classical:
        kept = ["classical", *(n for n in kept if n != "classical")][:MAX_CONCEPTS]
        grounded.sort(key=lambda caption: "soundtrack" in caption.lower())
        if classical_without_game:
            grounded = [c for c in grounded if not GAME_WORDS.search(c)] or [_noun(row, True)]
    extra = teacher_captions(kept, row["audio"], grounded[0], _noun(row, classical))
    out = dict(row)
    if "style" in row.get("labels", {}):
        # A generated row's own captions already say its instruments, style and tempo:
        # keep them all, and only the teacher caption that extends them with two or more
        # concepts (a bare "instrumental" would teach every clip the same words).
        extra = extra[-1:] if len(kept) >= 2 else []
        out["captions"] = grounded + extra
    else:
        out["captions"] = grounded[:GROUNDED_KEEP] + extra
    out["teacher_concepts"] = kept
    return out


GRID = tuple(float(t) for t in np.round(np.arange(0.05, 0.951, 0.05), 2))


def choose_threshold(probs: np.ndarray, truth: np.ndarray, target: float = 0.7,
                     grid: tuple[float, ...] = GRID, min_on: int = 20) -> dict:
    """The lowest threshold whose checkable tags reach ``target`` precision.

    Args:
        probs: [N, T] teacher probabilities of the checkable tags.
        truth: [N, T] bool, whether the grounded labels make each tag true.
        target: precision wanted for a tag to be written into a caption.
        grid: thresholds tried.
        min_on: tags a threshold must turn on to count.

    Returns:
        ``threshold`` and, per threshold tried, precision, tags on and their share; when no
        threshold reaches ``target``, the most precise one (with at least ``min_on`` tags).
    """
    curve = []
    for t in grid:
        on = probs >= t
        n = int(on.sum())
        curve.append({"threshold": float(t), "tags": n,
                      "precision": float(truth[on].mean()) if n else float("nan"),
                      "share_on": n / max(1, probs.size)})
    good = [c for c in curve if c["tags"] >= min_on and c["precision"] >= target]
    if good:
        chosen = good[0]["threshold"]
    else:
        ok = [c for c in curve if c["tags"] >= min_on]
        chosen = max(ok, key=lambda c: c["precision"])["threshold"] if ok else grid[-1]
    return {"threshold": chosen, "curve": curve}


def per_tag_thresholds(probs: np.ndarray, truth: np.ndarray, tags: np.ndarray,
                       names: list[str], target: float, min_positive: int = 10) -> dict:
    """One threshold per tag the grounded labels can check often enough.

    Args:
        probs: the teacher's probability of each checkable (clip, tag) pair.
        truth: whether the grounded labels make that pair's tag true.
        tags: the pair's tag index into ``names``.
        names: the teacher's tag names (``tags`` indexes them).
        target: precision a tag needs to be written into captions.
        min_positive: true pairs a tag needs before its own threshold is trusted.

    Returns:
        tag -> {threshold, precision, tags on, pairs}; a tag that never reaches ``target``
        gets threshold 1.01 (never said). Tags left out fall back to the teacher's one.
    """
    out = {}
    for index, name in enumerate(names):
        mine = tags == index
        if int(truth[mine].sum()) < min_positive:
            continue
        chosen = choose_threshold(probs[mine][:, None], truth[mine][:, None], target, min_on=5)
        at = next(c for c in chosen["curve"] if c["threshold"] == chosen["threshold"])
        reached = at["tags"] >= 5 and at["precision"] >= target
        out[name] = {"threshold": chosen["threshold"] if reached else 1.01,
                     "precision": at["precision"], "on": at["tags"], "pairs": int(mine.sum())}
    return out
