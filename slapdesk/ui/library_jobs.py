"""Worker functions for the window's long jobs: plain Python over the library code, no Qt.

Each takes a ``TaskContext`` last (cancel event + progress reporting) and returns a result
object with a ``summary()`` for the status bar.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slapdesk.ui.tasks import Progress, TaskContext

if TYPE_CHECKING:
    from slapdesk.library.db import Database

log = logging.getLogger(__name__)


@dataclass
class JobResult:
    """What a long job did."""

    title: str
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    cancelled: bool = False

    def summary(self) -> str:
        """One line for the status bar."""
        parts = [f"{value:,} {key}" for key, value in self.counts.items() if value]
        if self.errors:
            parts.append(f"{len(self.errors):,} problem{'s' if len(self.errors) != 1 else ''}")
        text = f"{self.title}: " + (", ".join(parts) if parts else "nothing to do")
        return text + (" (stopped)" if self.cancelled else "")


def scan_and_embed(database: Database, folders: Sequence[str], ctx: TaskContext) -> JobResult:
    """Scan ``folders`` into the library (then embed new tracks, once the pipeline exists)."""
    from slapdesk.library import scan

    ctx.report(Progress(0, None, "Looking for music…"), force=True)
    report = scan.run_scan(database, list(folders), cancel=ctx.cancel, on_progress=ctx.report)
    result = JobResult(
        "Scan",
        counts={"added": report.added, "updated": report.updated, "removed": report.removed,
                "unchanged": report.unchanged},
        errors=[f"{e.display_path}: {e.error}" for e in report.errors],
        cancelled=report.cancelled,
    )
    return result


class ModelHolder:
    """Loads the active model bundle once, on first use, in the model worker thread.

    Built by the composition root; every model job runs on the runner's single "model" pool,
    so the embedder is never used from two threads at once.
    """

    def __init__(self, bundle: Path | None) -> None:
        """Remember which bundle to load (None: there is no model yet)."""
        self._bundle = bundle
        self._embedder: Any = None

    @property
    def bundle(self) -> Path | None:
        """The bundle folder in use."""
        return self._bundle

    def switch(self, bundle: Path | None) -> None:
        """Use another bundle from the next job on."""
        if bundle != self._bundle:
            self._bundle, self._embedder = bundle, None

    def get(self) -> Any:
        """The ``engine.inference.Embedder`` (loading it the first time).

        Raises:
            RuntimeError: there is no model bundle, or it cannot be loaded (message says why).
        """
        if self._embedder is None:
            if self._bundle is None:
                raise RuntimeError(
                    "No model is installed yet: import a model bundle or train one "
                    "(Models and Training tabs)."
                )
            from engine.inference import Embedder

            try:
                self._embedder = Embedder.from_bundle(self._bundle)
            except Exception as exc:
                raise RuntimeError(f"Cannot load the model {self._bundle}: {exc}") from exc
        return self._embedder


def propose_tags(holder: ModelHolder, database: Database, vocab_name: str,
                 ctx: TaskContext) -> JobResult:
    """Score every embedded track against a vocabulary and store the proposals."""
    from slapdesk.library import projection, tagging
    from slapdesk.library.vocab import load_vocabulary

    vocabulary = load_vocabulary(vocab_name)
    ctx.report(Progress(0, None, "Loading the model…"), force=True)
    embedder = holder.get()
    ids, vectors = projection.load_vectors(database.conn, embedder.model_id)
    if not len(ids):
        raise RuntimeError("No track has been embedded with the active model yet.")
    ctx.report(Progress(0, len(ids), f"Reading the {vocabulary.name} vocabulary…"), force=True)
    classifier = tagging.build_classifier(vocabulary, embedder.embed_text)
    found = tagging.propose(classifier, vectors, top_k=5, threshold=0.0)
    now = time.time()
    rows = [(int(track_id), embedder.model_id, vocabulary.name, p.term, p.score, now)
            for track_id, per_track in zip(ids, found, strict=True) for p in per_track]
    with database.transaction() as conn:
        conn.execute("DELETE FROM tag_proposals WHERE model_id = ? AND vocab = ?",
                     (embedder.model_id, vocabulary.name))
        conn.executemany(
            "INSERT INTO tag_proposals (track_id, model_id, vocab, tag, score, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)", rows)
    ctx.report(Progress(len(ids), len(ids), "Proposals ready"), force=True)
    return JobResult("Proposals", counts={"tracks scored": len(ids), "proposals": len(rows)})


def apply_tags(database: Database, changes: Sequence[Any], policy: str, model_id: str | None,
               vocab: str, ctx: TaskContext) -> JobResult:
    """Write accepted tags into the files (journaled, undoable) as one run."""
    from slapdesk.library import journal

    result = journal.apply_changes(database, changes, policy, model_id=model_id, vocab=vocab,
                                   cancel=ctx.cancel, progress=ctx.report)
    return _run_result("Tags written", result)


def undo_last_run(database: Database, ctx: TaskContext) -> JobResult:
    """Restore the tags the most recent run wrote."""
    from slapdesk.library import journal

    result = journal.undo(database, cancel=ctx.cancel, progress=ctx.report)
    return _run_result("Undo", result)


def _run_result(title: str, result: Any) -> JobResult:
    return JobResult(
        title,
        counts={"files changed": len(result.written), "already up to date": len(result.unchanged),
                "skipped (changed on disk)": len(result.skipped)},
        errors=[f"{path}: {reason}" for path, reason in result.failed],
        cancelled=result.cancelled,
    )
