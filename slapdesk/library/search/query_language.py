"""The search box's query language, parsed into a plain value.

One box takes everything a user types:

- free text: ``mellow acoustic guitar`` (embedded and matched against the audio),
- ``-term`` / ``-"two words"``: push results away from that description,
- field filters: ``artist:miles``, ``genre:"hip hop"``, ``year>1990``, ``bpm<=100``,
  ``duration<5m`` (units s, m, h; ``3:30`` also works),
- ``like:PATH`` or ``like:#ID``: more like this track, combinable with text
  (``like:song.mp3 more acoustic``),
- ``is:STATE``: the tracks with a problem: ``is:unreadable`` (the file, or its audio when
  embedded, could not be read), ``is:damaged``, ``is:broken`` (either), ``is:silent``
  (silence, noise or a test tone) or ``is:problem`` (any of them).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Literal, cast

TEXT_FIELDS = ("artist", "album", "albumartist", "title", "genre", "mood", "comment", "path")
NUMERIC_FIELDS = ("year", "bpm", "duration", "track")
# What ``is:`` can ask for; each names a problem a user may want to list in full.
TRACK_STATES = ("unreadable", "damaged", "broken", "silent", "problem")
Comparison = Literal["<", "<=", ">", ">=", "="]

_NUMERIC_RE = re.compile(r"^(?P<field>[a-z]+)(?P<op><=|>=|<|>|=|:)(?P<value>.+)$")
_DURATION_RE = re.compile(
    r"^(?:(?P<min>\d+):(?P<sec>\d{1,2})|(?P<num>\d+(?:\.\d+)?)(?P<unit>[smh]?))$"
)
_UNIT_SECONDS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}


class QueryError(ValueError):
    """The query cannot be understood; the message says which part and why."""


@dataclass(frozen=True)
class TextFilter:
    """``field:value``: the field contains ``value`` (case-insensitive)."""

    field: str
    value: str


@dataclass(frozen=True)
class NumericFilter:
    """``field OP number``, e.g. ``year>1990`` or ``duration<300`` (seconds)."""

    field: str
    op: Comparison
    value: float

    def accepts(self, number: float | None) -> bool:
        """Whether a track's value passes; a missing value never does."""
        if number is None:
            return False
        return {
            "<": number < self.value,
            "<=": number <= self.value,
            ">": number > self.value,
            ">=": number >= self.value,
            "=": number == self.value,
        }[self.op]


@dataclass(frozen=True)
class ParsedQuery:
    """A query split into what is embedded, what is pushed away and what filters."""

    text: str = ""  # free text to embed ("" when none)
    negatives: tuple[str, ...] = ()  # descriptions to push away
    text_filters: tuple[TextFilter, ...] = ()
    numeric_filters: tuple[NumericFilter, ...] = ()
    like: tuple[str, ...] = ()  # paths or "#id" references for query-by-example
    states: tuple[str, ...] = ()  # ``is:`` filters, each one of TRACK_STATES
    words: tuple[str, ...] = field(default=())  # free-text words, for metadata full-text rank

    @property
    def has_similarity(self) -> bool:
        """True when there is something to rank by sound (text, negatives or like:).

        ``-drums`` alone ranks by sound too: the tracks least like drums come first.
        """
        return bool(self.text or self.like or self.negatives)

    @property
    def is_empty(self) -> bool:
        """True when nothing at all was asked."""
        return not (self.has_similarity or self.negatives or self.text_filters
                    or self.numeric_filters or self.states)


def parse_duration(text: str) -> float:
    """Parse ``90``, ``90s``, ``5m``, ``1.5h`` or ``3:30`` into seconds."""
    match = _DURATION_RE.match(text.strip().lower())
    if not match:
        raise QueryError(f"cannot read duration {text!r}: use e.g. 90s, 5m or 3:30")
    if match["min"] is not None:
        return int(match["min"]) * 60.0 + int(match["sec"])
    return float(match["num"]) * _UNIT_SECONDS[match["unit"]]


def _parse_number(field_name: str, text: str) -> float:
    if field_name == "duration":
        return parse_duration(text)
    try:
        return float(text)
    except ValueError:
        raise QueryError(f"{field_name} needs a number, not {text!r}") from None


def _parse_state(text: str) -> str:
    state = text.lower()
    if state not in TRACK_STATES:
        raise QueryError(f"is:{text} is not a track state: use is:" + ", is:".join(TRACK_STATES))
    return state


def _split(query: str) -> list[str]:
    try:
        return shlex.split(query, posix=True)
    except ValueError:
        # An unbalanced quote: treat quotes as ordinary characters rather than fail.
        return query.replace('"', "").split()


def parse_query(query: str) -> ParsedQuery:
    """Parse the search box's text.

    Raises:
        QueryError: for a numeric filter without a number or an unknown comparison.
    """
    words: list[str] = []
    negatives: list[str] = []
    text_filters: list[TextFilter] = []
    numeric_filters: list[NumericFilter] = []
    like: list[str] = []
    states: list[str] = []
    for token in _split(query):
        lowered = token.lower()
        if lowered.startswith("like:") and len(token) > 5:
            like.append(token[5:])
            continue
        if token.startswith("-") and len(token) > 1:
            negatives.append(token[1:])
            continue
        match = _NUMERIC_RE.match(lowered)
        if match and match["field"] in NUMERIC_FIELDS:
            op = cast(Comparison, "=" if match["op"] == ":" else match["op"])
            value = _parse_number(match["field"], token[match.start("value"):])
            numeric_filters.append(NumericFilter(match["field"], op, value))
            continue
        name, sep, text = token.partition(":")
        if sep and name.lower() == "is":
            states.append(_parse_state(text))
            continue
        if sep and name.lower() in TEXT_FIELDS and text:
            text_filters.append(TextFilter(name.lower(), text))
            continue
        words.append(token)
    return ParsedQuery(
        text=" ".join(words),
        negatives=tuple(negatives),
        text_filters=tuple(text_filters),
        numeric_filters=tuple(numeric_filters),
        like=tuple(like),
        states=tuple(states),
        words=tuple(words),
    )
