"""What the auto-tag review shows: per track, its file, its proposals and the fields they change.

The review lists tracks, not loose proposals: a person decides per file, sees the file's name,
format and folder, and sees, Picard-style, the current value of each field a write would touch
(``SLAPDESK_<VOCAB>`` always, the standard GENRE / MOOD only under the policies that touch it)
next to the value it would get. Tracks the model must not describe (silent, noise, a test tone)
and files that cannot be read are listed with their reason and never carry a proposal.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from slapdesk.library.store.schema import CURRENT_AUDIO_FAILURES
from slapdesk.library.tags.containers import own_field
from slapdesk.library.tags.plan import PlannedChange, fields_for, plan_fields, split_values
from slapdesk.library.tags.reasons import plain_reason

_CHUNK = 900  # ids per IN list, well below SQLite's host parameter limit
OWN_KEY = "SLAPDESK_"  # how the app's own fields are spelled inside every container
_ABSTAIN_SENTENCES = {
    "silence": "silent: nothing to tag",
    "noise": "only noise: nothing to tag",
    "tone": "a test tone: nothing to tag",
}


@dataclass(frozen=True)
class ReviewTerm:
    """One proposed term for one track."""

    tag: str
    score: float  # calibrated, in [0, 1]
    model_id: str


@dataclass(frozen=True)
class AcceptedTag:
    """A term the user accepted for one file."""

    track_id: int
    path: str
    tag: str
    score: float
    model_id: str


@dataclass(frozen=True)
class ReviewTrack:
    """One track of the review: its file, what its fields hold now, its proposals."""

    track_id: int
    path: str
    label: str  # "Artist – Title", else the file name
    format: str  # "FLAC", "MP3", ... ("" when unknown)
    fields: Mapping[str, tuple[str, ...]]  # logical field -> current raw values in the file
    terms: tuple[ReviewTerm, ...]  # strongest first; empty for a problem track
    problem: str = ""  # why the track gets no proposals, as a sentence ("" when none)

    @property
    def name(self) -> str:
        """The file's name."""
        return os.path.basename(self.path)

    @property
    def folder(self) -> str:
        """The folder holding the file."""
        return os.path.dirname(self.path)


def own_fields(tags: Mapping[str, object]) -> dict[str, tuple[str, ...]]:
    """The app's own fields in a track's stored tags: ``SLAPDESK_GENRE`` -> values.

    The scanner keeps each container's own key (``TXXX:SLAPDESK_GENRE`` in ID3,
    ``SLAPDESK_GENRE`` in Vorbis comments, ``----:com.apple.iTunes:SLAPDESK_GENRE`` in MP4).
    """
    found: dict[str, tuple[str, ...]] = {}
    for key, value in tags.items():
        name = str(key).rsplit(":", 1)[-1].upper()
        if not name.startswith(OWN_KEY) or len(name) == len(OWN_KEY):
            continue
        values = value if isinstance(value, list | tuple) else [value]
        found[name] = found.get(name, ()) + tuple(str(v) for v in values if str(v))
    return found


def _values(text: str | None) -> tuple[str, ...]:
    """A stored JSON list of values (the scanner's genre / mood columns)."""
    if not text:
        return ()
    try:
        parsed = json.loads(text)
    except (TypeError, ValueError):
        return (str(text),)
    return tuple(str(v) for v in parsed) if isinstance(parsed, list) else (str(parsed),)


def _own_values(tags: str | None, own: str) -> tuple[str, ...]:
    # Most files hold no field of ours: skip parsing their tags JSON at all.
    if not tags or OWN_KEY not in tags.upper():
        return ()
    try:
        parsed = json.loads(tags)
    except (TypeError, ValueError):
        return ()
    return own_fields(parsed).get(own.upper(), ()) if isinstance(parsed, dict) else ()


def track_problems(
    conn: sqlite3.Connection, track_ids: Iterable[int] | None = None
) -> dict[int, str]:
    """Tracks not to tag nor play as music, with why: unreadable, undecodable, damaged, silent.

    Args:
        conn: the library (a read-only connection is enough).
        track_ids: only these tracks (None: the whole library).
    """
    wanted = None if track_ids is None else sorted(set(track_ids))
    problems: dict[int, str] = {}
    for where, params in _id_clauses(wanted):
        try:
            marks = conn.execute(
                "SELECT track_id, abstain FROM embeddings WHERE abstain IS NOT NULL" + where,
                params).fetchall()
        except sqlite3.OperationalError:  # a library from before the abstain column
            marks = []
        for track_id, reason in marks:
            problems[int(track_id)] = _ABSTAIN_SENTENCES.get(str(reason), "nothing to tag")
        for track_id, status, error in conn.execute(
            "SELECT id, status, error FROM tracks WHERE status IN ('error', 'damaged')"
            + where.replace("track_id", "id"), params
        ):
            sentence = plain_reason(error) or "the file could not be read"
            problems[int(track_id)] = (f"damaged: {sentence}" if status == "damaged"
                                       else sentence)
        for track_id, error in _audio_failures(conn, where, params):
            problems[int(track_id)] = f"the audio could not be decoded: {plain_reason(error)}"
    return problems


def _audio_failures(
    conn: sqlite3.Connection, where: str, params: tuple[int, ...]
) -> list[tuple[int, str]]:
    """(track id, error) of the tracks whose audio failed to decode and are unchanged since."""
    try:
        return conn.execute(
            f"SELECT f.track_id, f.error FROM {CURRENT_AUDIO_FAILURES}" + where.replace(
                "track_id", "f.track_id"), params).fetchall()
    except sqlite3.OperationalError:  # a library from before the failures table
        return []


def _id_clauses(wanted: list[int] | None) -> Iterator[tuple[str, tuple[int, ...]]]:
    """`` AND track_id IN (...)`` clauses in chunks (one empty clause for the whole library)."""
    if wanted is None:
        yield "", ()
        return
    for start in range(0, len(wanted), _CHUNK):
        chunk = tuple(wanted[start : start + _CHUNK])
        yield f" AND track_id IN ({','.join('?' * len(chunk))})", chunk


def read_review(
    conn: sqlite3.Connection, vocab: str, track_ids: Sequence[int] | None = None
) -> list[ReviewTrack]:
    """The review of one vocabulary: every track with proposals or a problem, by track id.

    Args:
        conn: the library (read-only is enough).
        vocab: the vocabulary's name (its field is ``SLAPDESK_<VOCAB>``).
        track_ids: only these tracks (None: the whole library).
    """
    wanted = None if track_ids is None else set(track_ids)
    terms: dict[int, dict[str, ReviewTerm]] = {}
    for track_id, tag, score, model_id in conn.execute(
        "SELECT track_id, tag, score, model_id FROM tag_proposals WHERE vocab = ? "
        "ORDER BY track_id, score DESC",
        (vocab,),
    ):
        if wanted is None or track_id in wanted:
            # Several models may have proposed the same term: the strongest stands.
            terms.setdefault(int(track_id), {}).setdefault(
                str(tag), ReviewTerm(str(tag), float(score), str(model_id)))
    problems = track_problems(conn, wanted)
    ids = sorted(set(terms) | set(problems))
    return [
        _review_track(values, vocab, () if values[0] in problems else tuple(
            terms.get(values[0], {}).values()), problems.get(values[0], ""))
        for values in _lean_rows(conn, ids)
    ]


def _lean_rows(conn: sqlite3.Connection, ids: list[int]) -> Iterator[tuple]:
    """Only the columns the review shows, in id order (10,000 full rows cost seconds)."""
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        yield from conn.execute(
            "SELECT id, path, title, artist, genre, mood, tags, format FROM tracks "
            f"WHERE id IN ({','.join('?' * len(chunk))}) ORDER BY id", chunk)


def _review_track(values: tuple, vocab: str, terms: tuple[ReviewTerm, ...],
                  problem: str) -> ReviewTrack:
    track_id, raw_path, title, artist, genre, mood, tags, fmt = values
    path = os.fsdecode(raw_path) if isinstance(raw_path, bytes) else str(raw_path)
    own = own_field(vocab)
    fields = {own: _own_values(tags, own)}
    standard = vocab.strip().lower()
    if standard in ("genre", "mood"):
        fields[standard] = _values(genre if standard == "genre" else mood)
    label = " – ".join(str(x) for x in (artist, title or os.path.basename(path)) if x)
    return ReviewTrack(int(track_id), path, label, str(fmt or "").upper(), fields, terms, problem)


def preview(track: ReviewTrack, vocab: str, tags: Sequence[str],
            policy: str) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """What writing ``tags`` would do: (field, old values, new values) for each field it changes.

    The field names are those a tag editor shows (``SLAPDESK_GENRE``, ``GENRE``).
    """
    change = PlannedChange.make(track.path, vocab, tags, track.track_id)
    planned = plan_fields(change, {k: list(v) for k, v in track.fields.items()}, policy)
    return [
        (field.upper(), track.fields.get(field, ()), tuple(planned[field]))
        for field in fields_for(vocab, policy)
        if field in planned
    ]


def already_has(track: ReviewTrack, vocab: str, tag: str, policy: str) -> bool:
    """Whether the file already holds ``tag`` everywhere a write of it would put it."""
    own = {v.casefold() for v in split_values(track.fields.get(own_field(vocab), ()))}
    if tag.casefold() not in own:
        return False
    standard = vocab.strip().lower()
    if standard not in track.fields or policy == "own-fields":
        return True
    current = split_values(track.fields[standard])
    if policy == "fill-empty" and current:
        return True  # fill-empty leaves a filled standard field alone
    return tag.casefold() in {v.casefold() for v in current}
