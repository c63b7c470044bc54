"""Worker functions for the window's long jobs: plain Python over the library code, no Qt.

Each takes a ``TaskContext`` last (cancel event + progress reporting) and returns a result
object with a ``summary()`` for the status bar.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slapdesk.library.progress import Progress
from slapdesk.ui.tasks import TaskContext

if TYPE_CHECKING:
    from slapdesk.library.store.database import Database

log = logging.getLogger(__name__)


@dataclass
class JobResult:
    """What a long job did."""

    title: str
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    cancelled: bool = False
    note: str = ""  # replaces the counts in the summary (e.g. why nothing could be done)

    def summary(self) -> str:
        """One line for the status bar."""
        if self.note:
            return self.note
        parts = [f"{value:,} {key}" for key, value in self.counts.items() if value]
        if self.errors:
            parts.append(f"{len(self.errors):,} problem{'s' if len(self.errors) != 1 else ''}")
        text = f"{self.title}: " + (", ".join(parts) if parts else "nothing to do")
        return text + (" (stopped)" if self.cancelled else "")


def scan_folders(database: Database, folders: Sequence[str], ctx: TaskContext) -> JobResult:
    """Scan ``folders`` into the library (tags only; embedding is the next job)."""
    from slapdesk.library.scan import scanner as scan

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
    """Loads the active model bundle once, on first use, off the GUI thread.

    Built by the composition root. Audio embedding runs on the runner's single "model" pool;
    query texts are embedded from search threads too (inference only, no state changes).
    """

    def __init__(self, active_model: str, models_dir: Path, runs_dir: Path) -> None:
        """Remember where bundles are; ``active_model`` is the settings' choice ("" = default)."""
        self._active = active_model
        self._models_dir = models_dir
        self._runs_dir = runs_dir
        self._embedder: Any = None
        self._bundle: Any = None
        self._lock = threading.Lock()

    @property
    def bundle(self) -> Path | None:
        """The bundle folder loaded (None before the first load)."""
        return None if self._bundle is None else self._bundle.path

    @property
    def loaded(self) -> Any:
        """The embedder if it is already loaded, else None (never loads)."""
        return self._embedder

    def switch(self, active_model: str) -> None:
        """Use another bundle from the next job on."""
        with self._lock:
            if active_model != self._active:
                self._active, self._embedder, self._bundle = active_model, None, None

    def get(self) -> Any:
        """The ``engine.inference.Embedder`` (loading it the first time).

        Raises:
            ModelChoiceError: no usable model bundle is installed (the message says what to do).
            RuntimeError: the bundle cannot be loaded (the message says why).
        """
        with self._lock:
            if self._embedder is None:
                from slapdesk.library.models import active_bundle

                bundle = active_bundle(self._active, self._models_dir, self._runs_dir)
                from engine.inference import Embedder

                try:
                    self._embedder = Embedder.from_bundle(bundle.path)
                except Exception as exc:
                    raise RuntimeError(f"Cannot load the model {bundle.path}: {exc}") from exc
                self._bundle = bundle
            return self._embedder

    def register(self, database: Database) -> Any:
        """Load the model and record it in the library; returns the embedder."""
        from slapdesk.library.jobs.embed import register_model

        embedder = self.get()
        register_model(database, embedder.model_id, self._bundle.name, str(self._bundle.path),
                       embedder.dim)
        return embedder


def load_model(holder: ModelHolder, _ctx: TaskContext) -> Any:
    """Load the active model (so the first search by sound does not wait for it)."""
    return holder.get()


def embed_new_tracks(holder: ModelHolder, database: Database, ctx: TaskContext) -> JobResult:
    """Embed every track that has no vector for the active model yet."""
    from slapdesk.library.jobs.embed import embed_library
    from slapdesk.library.models import ModelChoiceError

    ctx.report(Progress(0, None, "Loading the model…"), force=True)
    try:
        embedder = holder.register(database)
    except ModelChoiceError as exc:
        return JobResult("Embed", note=f"Search by sound is off: {exc}")
    summary = embed_library(database, embedder, cancel=ctx.cancel, progress=ctx.report)
    return JobResult("Embed", counts={"embedded": summary.embedded},
                     errors=[f"{path}: {reason}" for path, reason in summary.errors],
                     cancelled=summary.cancelled)


def propose_tags(holder: ModelHolder, database: Database, vocab_name: str,
                 ctx: TaskContext) -> JobResult:
    """Score every embedded track against a vocabulary and store the proposals."""
    from slapdesk.library.autotag.proposals import NotEmbeddedError, propose_for_library
    from slapdesk.library.autotag.vocabulary import load_vocabulary

    vocabulary = load_vocabulary(vocab_name)
    ctx.report(Progress(0, None, "Loading the model…"), force=True)
    embedder = holder.register(database)
    ctx.report(Progress(0, None, f"Reading the {vocabulary.name} vocabulary…"), force=True)
    try:
        found = propose_for_library(database, embedder.model_id, embedder.embed_text,
                                    vocabulary, top_k=5, threshold=0.0)
    except NotEmbeddedError:
        raise RuntimeError("No track has been embedded with the active model yet.") from None
    ctx.report(Progress(len(found), len(found), "Proposals ready"), force=True)
    proposals = sum(len(item.proposals) for item in found)
    return JobResult("Proposals", counts={"tracks scored": len(found), "proposals": proposals})


def apply_tags(database: Database, changes: Sequence[Any], policy: str, model_id: str | None,
               vocab: str, ctx: TaskContext) -> JobResult:
    """Write accepted tags into the files (journaled, undoable) as one run."""
    from slapdesk.library.tags import journal

    result = journal.apply_changes(database, changes, policy, model_id=model_id, vocab=vocab,
                                   cancel=ctx.cancel, progress=ctx.report)
    return _run_result("Tags written", result)


def undo_last_run(database: Database, ctx: TaskContext) -> JobResult:
    """Restore the tags the most recent run wrote."""
    from slapdesk.library.tags import journal

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
