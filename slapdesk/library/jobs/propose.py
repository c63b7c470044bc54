"""The proposal jobs: score the library against a vocabulary, and read the stored proposals."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from slapdesk.library.jobs.control import JobControl, JobResult
from slapdesk.library.progress import Progress

if TYPE_CHECKING:
    from slapdesk.library.autotag.review import ReviewTrack
    from slapdesk.library.jobs.active_model import ModelHolder
    from slapdesk.library.store.database import Database


def propose_tags(holder: ModelHolder, database: Database, vocab_name: str,
                 control: JobControl) -> JobResult:
    """Score every embedded track against a vocabulary and store the proposals.

    Raises:
        RuntimeError: no track has a vector for the active model yet.
    """
    from slapdesk.library.autotag.proposals import NotEmbeddedError, propose_for_library
    from slapdesk.library.autotag.vocabulary import load_vocabulary

    vocabulary = load_vocabulary(vocab_name)
    control.report(Progress(0, None, "Loading the model…"), force=True)
    embedder = holder.register(database, audio=False)  # track vectors are stored already
    control.report(Progress(0, None, f"Reading the {vocabulary.name} vocabulary…"), force=True)
    try:
        found = propose_for_library(database, embedder.model_id, embedder.embed_text,
                                    vocabulary, top_k=5, threshold=0.0)
    except NotEmbeddedError:
        raise RuntimeError("No track has been embedded with the active model yet.") from None
    control.report(Progress(len(found), len(found), "Proposals ready"), force=True)
    proposals = sum(len(item.proposals) for item in found)
    return JobResult("Proposals", counts={"tracks scored": len(found), "proposals": proposals})


def read_review(library_path: Path, vocab: str, track_ids: list[int] | None,
                _control: JobControl) -> list[ReviewTrack]:
    """The review of one vocabulary (only ``track_ids``'s tracks when given), read-only."""
    from slapdesk.library.autotag.review import read_review as read
    from slapdesk.library.store.database import open_readonly

    conn = open_readonly(library_path)
    try:
        return read(conn, vocab, track_ids)
    finally:
        conn.close()
