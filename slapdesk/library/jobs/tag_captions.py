"""Compose training captions from a track's own tags (genre, mood, artist, album, year, BPM).

A personal library has no written descriptions, but its tags say a lot: "a melancholic jazz
track by Chet Baker from the 1950s, slow at 70 BPM". Several templates per track give the
text tower varied phrasings of the same facts; the trainer picks one per epoch.

Only genre, mood and a descriptive comment describe the *sound*; a track with none of them
has no usable caption (artist, album, year and BPM only add context to those).

Takes plain values (strings, lists of strings, numbers): the store decodes its JSON columns
before anything here sees them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# A comment is junk when it is a URL, an encoder/ripper stamp, a store id or a hex blob.
_JUNK_COMMENT = re.compile(
    r"https?://|www\.|\.com\b|ripped|exact audio copy|encoded|itunnorm|itunsmpb|song id|"
    r"^[0-9a-f\s]{16,}$|^\W*\d[\d\s/.:-]*$",
    re.IGNORECASE,
)
_MAX_COMMENT_CHARS = 200
_MAX_CAPTIONS = 8
_ARTICLE = re.compile(r"\b([Aa]) ([aeiouAEIOU])")  # "a ambient" -> "an ambient"


@dataclass(frozen=True)
class TrackTags:
    """The tag values a caption may use, cleaned; empty strings and lists mean "absent"."""

    genres: tuple[str, ...] = ()
    moods: tuple[str, ...] = ()
    artist: str = ""
    album: str = ""
    year: str = ""  # four digits
    bpm: int = 0  # 0 = unknown
    comment: str = ""  # only a descriptive one survives cleaning

    @property
    def usable(self) -> bool:
        """True when at least one tag describes the sound itself."""
        return bool(self.genres or self.moods or self.comment)


def _as_list(value: object) -> list[str]:
    """A tag value as a list of strings: a list, or one string (``;`` or NUL separate values)."""
    if value is None:
        return []
    if isinstance(value, str):
        value = re.split(r"\s*[;\x00]\s*", value.strip())
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    return [str(value).strip()]


def _dedupe(values: list[str]) -> tuple[str, ...]:
    """Keep the first spelling of each value, compared case-insensitively."""
    seen: dict[str, str] = {}
    for v in values:
        seen.setdefault(v.casefold(), v)
    return tuple(seen.values())


def _clean_comment(value: object) -> str:
    """The comment if it reads like a description, else ''."""
    text = " ".join(_as_list(value)).strip() if not isinstance(value, str) else value.strip()
    if not text or len(text) > _MAX_COMMENT_CHARS or _JUNK_COMMENT.search(text):
        return ""
    return text if re.search(r"[^\W\d_]{3}", text) else ""


def _clean_bpm(value: object) -> int:
    try:
        bpm = round(float(str(value).strip()))
    except (TypeError, ValueError):
        return 0
    return bpm if 30 <= bpm <= 300 else 0


def clean_tags(tags: Mapping[str, object]) -> TrackTags:
    """Normalise a track's tag values into :class:`TrackTags`.

    Args:
        tags: keys ``genre``, ``mood`` (a list or a string), ``artist``,
            ``albumartist``, ``album``, ``year``, ``bpm``, ``comment``; any may be missing.

    Returns:
        The cleaned tags.
    """
    year_match = re.search(r"\b(1[89]\d\d|20\d\d)\b", str(tags.get("year") or ""))
    artist = str(tags.get("artist") or tags.get("albumartist") or "").strip()
    return TrackTags(
        genres=_dedupe(_as_list(tags.get("genre"))),
        moods=_dedupe([m.lower() for m in _as_list(tags.get("mood"))]),
        artist=artist,
        album=str(tags.get("album") or "").strip(),
        year=year_match.group(1) if year_match else "",
        bpm=_clean_bpm(tags.get("bpm")),
        comment=_clean_comment(tags.get("comment")),
    )


def _join(words: Sequence[str]) -> str:
    """Join words as prose: a; a and b; a, b and c."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _tempo_word(bpm: int) -> str:
    return "slow" if bpm < 90 else ("fast" if bpm >= 130 else "mid-tempo")


# Each template names the fields it needs; a template is used when all of them are present.
_TEMPLATES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("genre",), "{genre} music"),
    (("genre",), "a {genre} track"),
    (("mood",), "{mood} music"),
    (("genre", "mood"), "a {mood} {genre} song"),
    (("genre", "mood"), "{genre}, {mood}"),
    (("genre", "artist"), "{genre} by {artist}"),
    (("mood", "artist"), "a {mood} track by {artist}"),
    (("genre", "decade"), "{decade} {genre}"),
    (("genre", "year"), "a {genre} recording from {year}"),
    (("genre", "bpm"), "{tempo} {genre} at {bpm} BPM"),
    (("mood", "bpm"), "{mood} and {tempo}, {bpm} BPM"),
    (("genre", "album", "artist"), "{genre} from the album {album} by {artist}"),
    (("genre", "mood", "artist", "decade"), "a {mood} {genre} track by {artist} from the {decade}"),
    (("comment",), "{comment}"),
    (("comment", "genre"), "{genre}: {comment}"),
)


def compose_captions(tags: TrackTags, key: str = "", limit: int = _MAX_CAPTIONS) -> list[str]:
    """Captions for one track: every template its tags fill, at most ``limit``.

    Args:
        tags: cleaned tags (see :func:`clean_tags`).
        key: a stable per-track string (its path); it picks which templates a track keeps when
            more than ``limit`` apply, so that the library as a whole uses all of them.
        limit: the most captions to return.

    Returns:
        Distinct captions, or ``[]`` when the track has no usable tags.
    """
    if not tags.usable:
        return []
    values = {
        "genre": _join([g.lower() for g in tags.genres[:3]]),
        "mood": _join(list(tags.moods[:3])),
        "artist": tags.artist,
        "album": tags.album,
        "year": tags.year,
        "decade": f"{tags.year[:3]}0s" if tags.year else "",
        "bpm": str(tags.bpm) if tags.bpm else "",
        "tempo": _tempo_word(tags.bpm) if tags.bpm else "",
        "comment": tags.comment,
    }
    filled = [
        template.format(**values)
        for needs, template in _TEMPLATES
        if all(values[field] for field in needs)
    ]
    captions = list(dict.fromkeys(_ARTICLE.sub(r"\1n \2", c) for c in filled))
    if len(captions) > limit:
        # Rotate by a hash of the key: deterministic, yet different tracks keep different ones.
        offset = int(hashlib.sha1(key.encode("utf-8", "surrogateescape")).hexdigest()[:8], 16)
        start = offset % len(captions)
        captions = (captions[start:] + captions[:start])[:limit]
    return captions
