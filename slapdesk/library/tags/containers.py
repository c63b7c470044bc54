"""How the fields SlapDesk writes live in each tag container (ID3, Vorbis comments, MP4 atoms).

The writer (``tagwrite``) speaks logical field names: ``genre``, ``mood`` and the app's own
namespaced fields ``slapdesk_<name>`` (``slapdesk_genre``, ``slapdesk_instrument``, ...). This
module maps them to frames / keys per container (standard fields through ``tagfields.FIELDS``,
the table the scanner reads with), reads and sets
them on a loaded mutagen file, and takes a snapshot of every *other* field so the writer can prove
it left the user's fields alone.

Values are "raw": the list of strings exactly as the container holds them. Writing a raw list that
was read reproduces the field; multi-value lists become one string joined with "; " only in ID3v2.3,
which has no multi-value text frames.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

from mutagen._vorbis import VComment
from mutagen.id3 import ID3, TCON, TMOO, TXXX, Encoding
from mutagen.mp4 import AtomDataType, MP4FreeForm, MP4Tags

from slapdesk.library.tags import formats
from slapdesk.library.tags.fields import FIELD_BY_NAME

OWN_PREFIX = "slapdesk_"  # logical names of the app's own fields start with this
V23_SEPARATOR = "; "  # how ID3v2.3 joins a multi-value field (as Picard does)
_FIELD_RE = re.compile(r"^(genre|mood|slapdesk_[a-z0-9_]+)$")
_MP4_FREEFORM = "----:com.apple.iTunes:"


class UnsupportedFieldError(ValueError):
    """A logical field name the writer does not know."""


def check_field(field: str) -> str:
    """Return ``field`` if the writer supports it, else raise ``UnsupportedFieldError``."""
    if not _FIELD_RE.match(field):
        raise UnsupportedFieldError(
            f"unknown tag field {field!r}: expected genre, mood or slapdesk_<name>"
        )
    return field


def own_field(vocab: str) -> str:
    """The app's own field for a vocabulary name, e.g. ``genre`` -> ``slapdesk_genre``."""
    name = re.sub(r"[^a-z0-9_]+", "_", vocab.strip().lower()).strip("_")
    if not name:
        raise UnsupportedFieldError(f"vocabulary name {vocab!r} gives no field name")
    return OWN_PREFIX + name


def container_kind(audio: Any) -> str:
    """``"id3"``, ``"vorbis"`` or ``"mp4"`` for a loaded mutagen file: its format's tag family.

    Raises:
        UnsupportedFieldError: for formats SlapDesk does not write (APEv2, ASF, AAC, ...).
    """
    fmt = formats.of_audio(audio)
    if fmt is None or fmt.tags is None or not fmt.writable:
        name = fmt.name if fmt is not None else type(audio).__name__
        raise UnsupportedFieldError(f"{name} files are not supported for writing")
    return fmt.tags


def id3_version(audio: Any) -> int:
    """The ID3v2 minor version to save with: 3 keeps v2.3 files v2.3, everything else 4."""
    tags = audio.tags
    if isinstance(tags, ID3) and tags.version[:2] == (2, 3):
        return 3
    return 4


def container_key(kind: str, field: str, v2_version: int = 4) -> str:
    """The frame / key a logical field lives in (ID3 hash key, Vorbis key, MP4 atom)."""
    check_field(field)
    if not field.startswith(OWN_PREFIX):
        # Standard fields come from the one declarative table the scanner reads with.
        mapped = FIELD_BY_NAME[field]
        if kind == "id3":
            return mapped.id3 if v2_version == 4 else mapped.id3_v23
        return mapped.vorbis if kind == "vorbis" else mapped.mp4
    upper = field.upper()
    if kind == "id3":
        return f"TXXX:{upper}"
    return upper if kind == "vorbis" else _MP4_FREEFORM + upper


def to_container(kind: str, values: Sequence[str], v2_version: int = 4) -> list[str]:
    """The raw list a container will hold for ``values`` (ID3v2.3 joins; others keep the list)."""
    values = [str(v) for v in values]
    if kind == "id3" and v2_version == 3 and len(values) > 1:
        return [V23_SEPARATOR.join(values)]
    return values


def get_field(audio: Any, kind: str, field: str, v2_version: int = 4) -> list[str]:
    """Read one logical field as its raw list of strings (empty when absent)."""
    tags = audio.tags
    if tags is None:
        return []
    key = container_key(kind, field, v2_version)
    if kind == "id3":
        frame = tags.get(key)
        return [str(t) for t in frame.text] if frame is not None else []
    if kind == "vorbis":
        return [v for k, v in tags if k.lower() == key.lower()]
    raw = tags.get(key, [])
    return [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in raw]


def set_field(audio: Any, kind: str, field: str, values: Sequence[str], v2_version: int) -> None:
    """Set one logical field to the raw list ``values`` (empty: remove it); nothing else changes.

    The values are stored as given: a caller that wants ID3v2.3's joined form passes it
    (``to_container``), and an undo that restores a multi-value v2.3 frame gets it back exactly.
    """
    if audio.tags is None:
        audio.add_tags()
    tags = audio.tags
    key = container_key(kind, field, v2_version)
    raw = [str(v) for v in values]
    if kind == "id3":
        _set_id3(tags, key, raw)
    elif kind == "vorbis":
        _set_vorbis(tags, key, raw)
    else:
        _set_mp4(tags, key, raw)


def _set_id3(tags: ID3, key: str, raw: list[str]) -> None:
    frame = tags.get(key)
    if not raw:
        if frame is not None:
            del tags[key]
        return
    latin1 = all(_encodable_latin1(v) for v in raw)
    if frame is not None:
        # Keep the frame's own encoding where the new text fits it, so an undo is exact.
        if frame.encoding == Encoding.LATIN1 and not latin1:
            frame.encoding = Encoding.UTF8
        frame.text = raw
        return
    if key.startswith("TXXX:"):
        tags.add(TXXX(encoding=Encoding.UTF8, desc=key[5:], text=raw))
    elif key == "TCON":
        tags.add(TCON(encoding=Encoding.UTF8, text=raw))
    else:
        tags.add(TMOO(encoding=Encoding.UTF8, text=raw))


def _encodable_latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _set_vorbis(tags: VComment, key: str, raw: list[str]) -> None:
    # Replace the entries where the first one stood and keep its spelling of the key, so the
    # comment list (and an undo) keeps its order and case.
    positions = [i for i, (k, _) in enumerate(tags) if k.lower() == key.lower()]
    # VCommentDict overrides item access by key: use the plain list methods for positions.
    spelled = list.__getitem__(tags, positions[0])[0] if positions else key
    insert_at = positions[0] if positions else len(tags)
    for i in reversed(positions):
        list.__delitem__(tags, i)
    for offset, value in enumerate(raw):
        list.insert(tags, insert_at + offset, (spelled, value))


def _set_mp4(tags: MP4Tags, key: str, raw: list[str]) -> None:
    if not raw:
        tags.pop(key, None)
        return
    if key.startswith("----"):
        tags[key] = [MP4FreeForm(v.encode("utf-8"), dataformat=AtomDataType.UTF8) for v in raw]
    else:
        tags[key] = list(raw)


def snapshot(audio: Any, kind: str, exclude: Sequence[str]) -> list[tuple[str, str]]:
    """Every field except the ``exclude`` keys, as comparable (key, digest) pairs.

    Used to prove a write changed nothing but our fields: two snapshots are equal exactly when
    all the user's other frames / comments / atoms hold the same data. ID3 frames are compared
    as loaded without mutagen's version translation (the writer loads them so), by the bytes
    of their serialised data: a v2.3 frame mutagen would convert shows up as changed.
    """
    tags = audio.tags
    if tags is None:
        return []
    skip = {k.lower() for k in exclude}
    if kind == "vorbis":
        pairs = [(k, v) for k, v in tags if k.lower() not in skip]
        return [("\0vendor", tags.vendor), *pairs]
    if kind == "id3":
        frames = sorted(
            (key, _frame_digest(frame)) for key, frame in tags.items() if key.lower() not in skip
        )
        unknown = getattr(tags, "unknown_frames", [])
        if unknown:  # frames mutagen does not parse: kept as raw bytes
            frames.insert(0, ("\0unknown", hashlib.sha1(b"\0".join(unknown)).hexdigest()))
        return frames
    # (The ID3 version is checked on its own: a new tag has one, a missing tag none.)
    return sorted((k, _digest(v)) for k, v in tags.items() if k.lower() not in skip)


def _frame_digest(frame: Any) -> str:
    try:
        data = frame._writeData()  # the frame's payload as mutagen writes it
    except Exception:
        return _digest(repr(frame))
    return f"{type(frame).__name__}:{hashlib.sha1(data).hexdigest()}"


def _digest(value: Any) -> str:
    digest = hashlib.sha1()
    _feed(digest, value)
    return digest.hexdigest()


def _feed(digest: Any, value: Any) -> None:
    # Pictures run to megabytes: hash their bytes instead of building a repr of them.
    if isinstance(value, bytes | bytearray):
        extra = sorted(vars(value).items()) if hasattr(value, "__dict__") else []
        digest.update(f"{type(value).__name__}{extra!r}{len(value)}:".encode())
        digest.update(value)
    elif isinstance(value, list | tuple):
        digest.update(f"{type(value).__name__}[{len(value)}]".encode())
        for item in value:
            _feed(digest, item)
    else:
        digest.update(repr(value).encode("utf-8", "surrogatepass"))
