"""One declarative table: logical tag field -> ID3 frame, Vorbis key, MP4 atom, APEv2 key.

Reading (the scanner) and writing (tagwrite) both use :data:`FIELDS`, so a field is mapped in
exactly one place. Conventions follow what players read: genre is TCON / repeated GENRE / ©gen;
mood is TMOO in ID3v2.4 and ``TXXX:MOOD`` in v2.3 (v2.3 has no TMOO), Vorbis MOOD, MP4
``----:com.apple.iTunes:MOOD``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, cast

Kind = Literal["text", "list", "int", "float"]


@dataclass(frozen=True)
class TagField:
    """Where one logical field lives in each tag container."""

    name: str  # logical name; also the tracks column
    kind: Kind  # text: one string; list: many strings; int/float: a number parsed from text
    id3: str  # ID3v2.4 frame id; "TXXX:DESC" for user text frames, "COMM" for comments
    id3_v23: str  # the frame to use in ID3v2.3 (differs for mood and year)
    vorbis: str  # Vorbis comment key (FLAC, Ogg Vorbis, Opus); upper case by convention
    mp4: str  # MP4 atom; "----:com.apple.iTunes:NAME" for freeform atoms
    ape: str  # APEv2 key (WavPack, Monkey's Audio, Musepack)
    asf: str  # ASF attribute (WMA)
    # (container, key) pairs read when the main key is empty (other taggers' conventions).
    fallbacks: tuple[tuple[str, str], ...] = ()


FIELDS: tuple[TagField, ...] = (
    # name          kind     ID3v2.4  ID3v2.3      Vorbis          MP4       APEv2          ASF
    TagField("title", "text", "TIT2", "TIT2", "TITLE", "\xa9nam", "Title", "Title"),
    TagField("artist", "text", "TPE1", "TPE1", "ARTIST", "\xa9ART", "Artist", "Author"),
    TagField("album", "text", "TALB", "TALB", "ALBUM", "\xa9alb", "Album", "WM/AlbumTitle"),
    TagField("albumartist", "text", "TPE2", "TPE2", "ALBUMARTIST", "aART", "Album Artist",
             "WM/AlbumArtist", fallbacks=(("vorbis", "ALBUM ARTIST"),)),
    TagField("genre", "list", "TCON", "TCON", "GENRE", "\xa9gen", "Genre", "WM/Genre",
             fallbacks=(("mp4", "gnre"),)),
    TagField("mood", "list", "TMOO", "TXXX:MOOD", "MOOD", "----:com.apple.iTunes:MOOD", "Mood",
             "WM/Mood", fallbacks=(("id3", "TXXX:MOOD"),)),
    TagField("year", "int", "TDRC", "TYER", "DATE", "\xa9day", "Year", "WM/Year",
             fallbacks=(("id3", "TYER"), ("vorbis", "YEAR"))),
    TagField("track_number", "int", "TRCK", "TRCK", "TRACKNUMBER", "trkn", "Track",
             "WM/TrackNumber"),
    TagField("comment", "text", "COMM", "COMM", "COMMENT", "\xa9cmt", "Comment", "Description",
             fallbacks=(("vorbis", "DESCRIPTION"),)),
    TagField("bpm", "float", "TBPM", "TBPM", "BPM", "tmpo", "BPM", "WM/BeatsPerMinute"),
)  # fmt: skip

FIELD_BY_NAME: dict[str, TagField] = {field.name: field for field in FIELDS}

# Binary payloads never copied into the tags JSON (pictures, private blobs, lyrics sync).
_BINARY_KEYS = re.compile(
    r"^(APIC|PIC|GEOB|PRIV|UFID|MCDI|SYLT|RVA2|POPM|PCNT|ETCO|AENC|ENCR|SIGN|SEEK|ASPI|RVRB|EQU2"
    r"|covr|METADATA_BLOCK_PICTURE|COVERART|COVERARTMIME|Cover Art.*)(:|$)",
    re.IGNORECASE,
)
# Limits for the tags JSON, so one odd file cannot bloat the library.
_MAX_KEYS = 64
_MAX_VALUE_CHARS = 2_000

_NUMBER = re.compile(r"\s*(-?\d+(?:[.,]\d+)?)")


def _clean(values: list[str]) -> list[str]:
    out = []
    for value in values:
        text = value.replace("\x00", "").strip()
        if text:
            out.append(text)
    return out


def _to_int(values: list[str]) -> int | None:
    for value in values:
        match = _NUMBER.match(value)
        if match:
            return int(float(match.group(1).replace(",", ".")))
    return None


def _to_float(values: list[str]) -> float | None:
    for value in values:
        match = _NUMBER.match(value)
        if match:
            return float(match.group(1).replace(",", "."))
    return None


def convert(field: TagField, values: list[str]) -> Any:
    """Turn the raw strings of one field into its column value (None when empty)."""
    values = _clean(values)
    if not values:
        return None
    if field.kind == "list":
        # Some taggers pack several genres into one "Rock; Jazz" string (ID3v2.3 habit).
        split = [part.strip() for value in values for part in re.split(r"\s*;\s*", value)]
        return list(dict.fromkeys(part for part in split if part))
    if field.kind == "int":
        return _to_int(values)
    if field.kind == "float":
        return _to_float(values)
    return values[0] if len(values) == 1 else "; ".join(values)


# -- ID3 ---------------------------------------------------------------------------------------


def _id3_values(tags: Any, key: str) -> list[str]:
    if key == "COMM":
        # Comments are keyed by description and language: take those without a description.
        frames = [frame for frame in tags.getall("COMM") if not frame.desc]
        return [str(text) for frame in frames for text in frame.text]
    frames = tags.getall(key)
    values: list[str] = []
    for frame in frames:
        if key == "TCON":
            values.extend(frame.genres)  # resolves "(17)" style ID3v1 genre references
        else:
            values.extend(str(text) for text in getattr(frame, "text", ()))
    return values


def _id3_raw(tags: Any) -> dict[str, list[str]]:
    raw: dict[str, list[str]] = {}
    for key, frame in tags.items():
        if _BINARY_KEYS.match(key) or not hasattr(frame, "text"):
            continue
        raw[key] = [str(text) for text in frame.text]
    return raw


# -- Vorbis / APE / MP4 / ASF -------------------------------------------------------------------


def _as_text(item: Any) -> str | None:
    if isinstance(item, str):
        return item
    if isinstance(item, bytes):  # MP4 freeform atoms hold bytes
        return item.decode("utf-8", "replace")
    if isinstance(item, tuple):  # MP4 trkn/disk: (number, total)
        return str(item[0])
    if isinstance(item, (int, float)):  # MP4 tmpo, flags
        return str(item)
    kind = getattr(item, "kind", None)  # APEv2 values: text 0, binary 1, external 2
    if kind is not None:
        return str(item) if kind == 0 else None
    value = getattr(item, "value", None)  # ASF attributes
    if isinstance(value, (str, int)):
        return str(value)
    return None


def _mapping_raw(tags: Any, container: Container) -> dict[str, list[str]]:
    """Every text tag as KEY -> values, read in one pass (lookups by key rescan Vorbis lists).

    Vorbis and APE keys are case-insensitive: they are upper-cased here.
    """
    raw: dict[str, list[str]] = {}
    if container == "vorbis":
        for key, value in tags:  # a Vorbis comment is a list of (key, value) pairs
            upper = key.upper()
            if not _BINARY_KEYS.match(upper):
                raw.setdefault(upper, []).append(value)
        return raw
    for key, value in tags.items():
        name = str(key).upper() if container == "ape" else str(key)
        if _BINARY_KEYS.match(name):
            continue
        items = value if isinstance(value, list) else [value]
        texts = [text for text in map(_as_text, items) if text is not None]
        if container == "ape":
            texts = [part for text in texts for part in text.split("\0")]
        if texts:
            raw[name] = texts
    return raw


def _mp4_genre_fallback(tags: Any) -> list[str]:
    from mutagen.id3 import TCON

    names = []
    for number in tags.get("gnre") or []:
        if 0 < int(number) <= len(TCON.GENRES):
            names.append(TCON.GENRES[int(number) - 1])
    return names


# -- public --------------------------------------------------------------------------------------

Container = Literal["id3", "vorbis", "mp4", "ape", "asf", "other"]
_FAMILIES = frozenset(("id3", "vorbis", "mp4", "ape", "asf"))


def container_of(tags: Any) -> Container:
    """Which tag family a mutagen tags object belongs to."""
    module = type(tags).__module__
    if hasattr(tags, "getall"):
        return "id3"
    if "mp4" in module:
        return "mp4"
    if "apev2" in module:
        return "ape"
    if "asf" in module:
        return "asf"
    if "_vorbis" in module or "flac" in module or "ogg" in module:
        return "vorbis"
    return "other"


def read_fields(
    tags: Any, family: str | None = None
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Read every logical field and every text tag from a mutagen tags object.

    Args:
        tags: ``mutagen.FileType.tags`` (ID3, Vorbis comment, MP4, APEv2, ASF); may be None.
        family: the file format's tag family (``formats.Format.tags``: the column of
            ``FIELDS`` to read with); None: told from the tags object's type.

    Returns:
        ``(fields, raw)``: logical name -> column value (None when absent), and the file's
        text tags as key -> list of strings (binary frames such as pictures left out, bounded).
    """
    fields: dict[str, Any] = dict.fromkeys(FIELD_BY_NAME)
    if tags is None:
        return fields, {}
    container = cast(Container, family) if family in _FAMILIES else container_of(tags)
    if container == "id3":
        for field in FIELDS:
            fields[field.name] = convert(field, _id3_field(tags, field))
        return fields, _bounded(_id3_raw(tags))
    raw = _mapping_raw(tags, container)
    for field in FIELDS:
        fields[field.name] = convert(field, _mapping_field(tags, raw, container, field))
    return fields, _bounded(raw)


def _id3_field(tags: Any, field: TagField) -> list[str]:
    for key in (field.id3, *(key for where, key in field.fallbacks if where == "id3")):
        values = _id3_values(tags, key)
        if _clean(values):
            return values
    return []


def _mapping_field(
    tags: Any, raw: dict[str, list[str]], container: Container, field: TagField
) -> list[str]:
    primary = getattr(field, container, field.vorbis)
    fallbacks = [key for where, key in field.fallbacks if where == container]
    for key in (primary, *fallbacks):
        if container == "mp4" and key == "gnre":
            values = _mp4_genre_fallback(tags)
        else:
            values = raw.get(key.upper() if container in ("vorbis", "ape", "other") else key, [])
        if _clean(values):
            return values
    return []


def _bounded(raw: dict[str, list[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key in list(raw)[:_MAX_KEYS]:
        out[key] = [value[:_MAX_VALUE_CHARS] for value in raw[key][:32]]
    return out
