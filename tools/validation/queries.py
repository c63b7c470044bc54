"""The fixed descriptive queries and the grounded labels that make a clip answer one.

A query's ``match`` lists conditions that must all hold; each condition accepts any of its
values. Keys: ``kind``, ``family`` (instrument family), ``play`` (loop / hits / note),
``style`` (a style word the name states), ``sample`` (words in the sample's description),
``title`` (words in a game track's title), ``control``. Changing this list changes the
figures: add queries, never edit one that reports have quoted.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Query:
    """A descriptive search and the conditions a relevant clip meets."""

    text: str
    match: dict[str, tuple[str, ...]]


def _q(text: str, **match: str | tuple[str, ...]) -> Query:
    return Query(text, {k: (v,) if isinstance(v, str) else v for k, v in match.items()})


QUERIES: tuple[Query, ...] = (
    _q("music from a video game", kind="game music"),
    _q("a video game soundtrack", kind="game music"),
    _q("background music for a computer game level", kind="game music"),
    _q("a drum loop", family="drums", play="loop"),
    _q("a breakbeat drum loop", sample="breakbeat"),
    _q("a house music drum loop", style="house"),
    _q("electronic dance beat", style="electronic", family="drums"),
    _q("rave drum loop", style="rave"),
    _q("snare drum hits", sample="snare"),
    _q("a hip hop snare drum", sample="hip hop"),
    _q("kick drum", sample=("kick", "bass drum")),
    _q("closed hi-hat", sample="hi-hat"),
    _q("hand claps", sample="clap"),
    _q("tom drums", sample="tom"),
    _q("single drum hits", family="drums", play="hits"),
    _q("percussion", family="drums"),
    _q("bass", family="bass"),
    _q("a synth bass sound", sample="synth bass"),
    _q("acid synth bass", sample="acid"),
    _q("slap bass", sample="slap"),
    _q("church organ", sample="organ"),
    _q("organ chord", family="organ"),
    _q("piano", family="piano"),
    _q("a single piano note", family="piano", play="note"),
    _q("guitar", family="guitar"),
    _q("acoustic steel-string guitar", sample=("steel-string", "latin guitar")),
    _q("distorted electric guitar", sample="distorted"),
    _q("latin guitar loop", style="latin"),
    _q("violin", family="strings"),
    _q("a synthesizer pad", family="synth pad"),
    _q("keyboard instrument", family=("piano", "organ")),
    _q("a blues song", style="blues"),
    _q("silence", control=("silence", "near_silence")),
    _q("white noise", control="white_noise"),
    _q("a sine wave test tone", control="test_tone"),
    _q("jungle level music", title="jungle"),
    _q("desert music", title="desert"),
    _q("underwater level music", title="underwater"),
)


def is_relevant(query: Query, labels: dict) -> bool:
    """Whether a clip with ``labels`` answers ``query``."""
    facts = {
        "kind": {labels.get("kind", "")},
        "family": {labels.get("instrument_family", "")},
        "play": {labels.get("play", "")},
        "style": set(labels.get("styles", ())),
        "control": {labels.get("control", "")},
    }
    for key, wanted in query.match.items():
        if key in ("sample", "title"):
            text = str(labels.get(key, "")).lower()
            if not any(w in text for w in wanted):
                return False
        elif not facts[key] & set(wanted):
            return False
    return True
