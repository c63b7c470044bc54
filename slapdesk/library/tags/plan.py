"""What a tagging run wants to write, and the write policies that decide which fields it touches.

A ``PlannedChange`` says "this file should carry these tags of this vocabulary, strongest first".
The policy turns it into field values, given what the file holds now. The user's own GENRE and
MOOD are theirs: by default only the app's namespaced field changes, the standard ones only
where they opted in; and a missing answer (no tags proposed) never erases a value:

- ``own-fields`` (default): only the app's own field ``SLAPDESK_<VOCAB>``; GENRE / MOOD untouched.
- ``fill-empty``: also the standard GENRE / MOOD, but only where the file has none.
- ``merge``: also the standard field: the user's values first, then ours that are new.
- ``replace``: also the standard field, replaced by ours.

A missing answer (no values) never erases anything: it plans no change at all.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from slapdesk.library.tags.containers import own_field

POLICIES: tuple[str, ...] = ("own-fields", "fill-empty", "merge", "replace")
DEFAULT_POLICY = "own-fields"
STANDARD_FIELDS: tuple[str, ...] = ("genre", "mood")  # vocabularies with a standard field too


@dataclass(frozen=True)
class PlannedChange:
    """Tags one file should carry for one vocabulary."""

    path: Path  # the audio file
    vocab: str  # vocabulary name: "genre", "mood", "instrument", or a user's own
    values: tuple[str, ...]  # the tags, strongest first (many players show only the first)
    track_id: int | None = None  # the track's id in the library, when it is indexed

    @classmethod
    def make(
        cls,
        path: str | os.PathLike[str],
        vocab: str,
        values: Sequence[str],
        track_id: int | None = None,
    ) -> PlannedChange:
        """Build one from loose arguments (any sequence of values, any path type)."""
        return cls(Path(path), vocab, tuple(values), track_id)


def check_policy(policy: str) -> str:
    """Return ``policy`` if known, else raise ``ValueError`` naming the choices."""
    if policy not in POLICIES:
        raise ValueError(f"unknown write policy {policy!r}; choose one of {', '.join(POLICIES)}")
    return policy


def fields_for(vocab: str, policy: str) -> list[str]:
    """The logical fields a change of ``vocab`` may touch under ``policy``."""
    fields = [own_field(vocab)]
    if policy != "own-fields" and vocab.strip().lower() in STANDARD_FIELDS:
        fields.append(vocab.strip().lower())
    return fields


def split_values(raw: Sequence[str]) -> list[str]:
    """The logical values in a raw field ("Rock; Jazz" is two values, as taggers pack them)."""
    parts = [p.strip() for value in raw for p in re.split(r"\s*;\s*", value)]
    return [p for p in parts if p]


def plan_fields(
    change: PlannedChange, current: Mapping[str, Sequence[str]], policy: str
) -> dict[str, list[str]]:
    """The fields to write for one change, given the file's current raw values.

    Args:
        change: what the run proposes.
        current: logical field -> raw values now in the file (for ``fields_for`` fields).
        policy: one of ``POLICIES``.

    Returns:
        Field -> new raw values, only for fields that would change. Never empties a field.
    """
    check_policy(policy)
    values = _dedupe(change.values)
    if not values:
        return {}
    planned: dict[str, list[str]] = {}
    own = own_field(change.vocab)
    planned[own] = values
    standard = change.vocab.strip().lower()
    if policy != "own-fields" and standard in STANDARD_FIELDS:
        existing = list(current.get(standard, []))
        if policy == "replace" or (policy == "fill-empty" and not split_values(existing)):
            planned[standard] = values
        elif policy == "merge":
            known = {v.casefold() for v in split_values(existing)}
            planned[standard] = existing + [v for v in values if v.casefold() not in known]
    return {f: v for f, v in planned.items() if list(current.get(f, [])) != v}


def _dedupe(values: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        text = str(value).strip()
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            out.append(text)
    return out
