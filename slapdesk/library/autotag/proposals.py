"""The auto-tag job: score embedded tracks against a vocabulary and keep the proposals.

Proposals are stored in ``tag_proposals`` (with score and model id) for review; nothing is
written into a file here. Accepted proposals become ``PlannedChange`` rows for
``journal.apply_changes``, which writes them safely and undoably.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from slapdesk.library.autotag.review import track_problems
from slapdesk.library.autotag.scoring import Proposal, TextEmbedder, build_classifier, propose
from slapdesk.library.search.vectors import load_vectors
from slapdesk.library.tags.plan import PlannedChange

if TYPE_CHECKING:
    from slapdesk.library.autotag.vocabulary import Vocabulary
    from slapdesk.library.store.database import Database


class NotEmbeddedError(Exception):
    """No track has a vector for the model yet."""


@dataclass(frozen=True)
class TrackProposals:
    """The proposals for one track, strongest first."""

    track_id: int
    path: Path
    current: tuple[str, ...]  # the field's values in the library now
    proposals: tuple[Proposal, ...]

    @property
    def values(self) -> tuple[str, ...]:
        """The proposed terms, strongest first."""
        return tuple(p.term for p in self.proposals)


def propose_for_library(
    db: Database,
    model_id: str,
    embed_text: TextEmbedder,
    vocabulary: Vocabulary,
    *,
    top_k: int = 3,
    threshold: float = 0.15,
    track_ids: Sequence[int] | None = None,
) -> list[TrackProposals]:
    """Score tracks (all embedded ones, or ``track_ids``) and store their proposals.

    Calibration statistics always come from the whole embedded library, so a track's score
    does not depend on which other tracks were selected. Tracks marked as holding nothing to
    describe (silence, noise, a test tone) and damaged files get no proposals and stay out of
    the statistics.

    Raises:
        NotEmbeddedError: when the library has no vectors for ``model_id``.
    """
    ids, vectors = load_vectors(db.conn, model_id)
    if not len(ids):
        raise NotEmbeddedError(
            "No track has a vector for this model yet: run slapdesk embed first."
        )
    quiet = track_problems(db.conn)
    heard = np.array([int(i) not in quiet for i in ids], dtype=bool)
    proposed: dict[int, list[Proposal]] = {int(i): [] for i in ids}
    if heard.any():
        classifier = build_classifier(vocabulary, embed_text)
        found = propose(classifier, vectors[heard], top_k=top_k, threshold=threshold)
        proposed.update(zip(map(int, ids[heard]), found, strict=True))
    wanted = None if track_ids is None else set(track_ids)
    chosen = [
        (track_id, proposals)
        for track_id, proposals in proposed.items()
        if wanted is None or track_id in wanted
    ]
    _store(db, model_id, vocabulary.name, chosen, replace_all=wanted is None)
    return _describe(db, vocabulary.field, chosen)


def _store(
    db: Database,
    model_id: str,
    vocab: str,
    chosen: list[tuple[int, list[Proposal]]],
    *,
    replace_all: bool,
) -> None:
    """Replace the stored proposals: of every track (a whole-library run) or of ``chosen``."""
    now = time.time()
    with db.transaction() as conn:
        if replace_all:
            conn.execute(
                "DELETE FROM tag_proposals WHERE model_id = ? AND vocab = ?", (model_id, vocab)
            )
        else:
            conn.executemany(
                "DELETE FROM tag_proposals WHERE track_id = ? AND model_id = ? AND vocab = ?",
                [(track_id, model_id, vocab) for track_id, _ in chosen],
            )
        conn.executemany(
            "INSERT INTO tag_proposals (track_id, model_id, vocab, tag, score, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (track_id, model_id, vocab, p.term, p.score, now)
                for track_id, proposals in chosen
                for p in proposals
            ],
        )


def _current_values(db: Database, field: str, track_id: int) -> tuple[str, ...]:
    """The standard field's values as the scanner stored them (a JSON list)."""
    if field not in ("genre", "mood"):
        return ()
    row = db.execute(f"SELECT {field} FROM tracks WHERE id = ?", (track_id,)).fetchone()
    try:
        values = json.loads(row[0]) if row and row[0] else []
    except json.JSONDecodeError:
        values = [row[0]]
    return tuple(str(v) for v in values) if isinstance(values, list) else (str(values),)


def _describe(
    db: Database, field: str, chosen: list[tuple[int, list[Proposal]]]
) -> list[TrackProposals]:
    paths = dict(db.execute("SELECT id, path FROM tracks").fetchall())
    return [
        TrackProposals(
            track_id=track_id,
            path=Path(os.fsdecode(paths[track_id])),
            current=_current_values(db, field, track_id),
            proposals=tuple(proposals),
        )
        for track_id, proposals in chosen
        if track_id in paths
    ]


def planned_changes(found: Sequence[TrackProposals], vocab: str) -> list[PlannedChange]:
    """One change per track that has proposals (a track with none is left alone)."""
    return [
        PlannedChange(item.path, vocab, item.values, item.track_id)
        for item in found
        if item.proposals
    ]

