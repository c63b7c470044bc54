"""The library's job chain in the window: scan, then embed, then search by sound.

Embedding uses the active model; searching by sound starts once that model's text side has
loaded. Each step is a library job run through the window's ``JobTracker``. Embedding and the
moment pass run in the pipeline's worker process (``slapdesk.library.jobs.worker``): their
decoding, torch import and model work never hold the window's interpreter lock.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from slapdesk.library.jobs import active_model, worker_jobs
from slapdesk.library.jobs.control import JobControl, JobResult
from slapdesk.library.jobs.scan import scan_folders
from slapdesk.library.jobs.worker import WorkerProcess
from slapdesk.library.models import ModelChoiceError
from slapdesk.ui.context import AppContext
from slapdesk.ui.jobs import JobTracker

# How long closing the window waits for the worker's job to stop before ending the worker.
WORKER_QUIT_S = 0.5
# The embedding job's title: the status line tells partial results from it.
EMBEDDING_TITLE = "Listening to tracks"


class LibraryPipeline(QObject):
    """Starts the chain's jobs and says what came of them.

    Signals: ``failed(message)`` and ``info(message)`` for the message bar, ``status(line)`` for
    the status bar, ``model_ready()`` once the active model is loaded, ``vectors_changed()``
    after an embedding run.
    """

    failed = Signal(str)
    info = Signal(str)
    status = Signal(str)
    model_ready = Signal()
    vectors_changed = Signal()

    def __init__(self, ctx: AppContext, jobs: JobTracker, parent: QObject | None = None) -> None:
        """Run jobs for ``ctx``'s library on ``jobs``."""
        super().__init__(parent)
        self.ctx = ctx
        self.jobs = jobs
        self.worker = WorkerProcess()  # started by the first model job

    def shutdown(self) -> None:
        """Stop the worker process (the window is closing), ending it if its job lingers.

        Ending it loses nothing: its writes are SQLite transactions, which a killed process
        leaves rolled back, and the next run embeds what is missing.
        """
        self.worker.close(timeout_s=WORKER_QUIT_S)

    def _model_job(self, entry: Callable[[worker_jobs.ModelJob, JobControl], JobResult],
                   title: str, off: str) -> Callable[[JobControl], JobResult]:
        """``entry`` for the active bundle, run in the worker; without a bundle, say so."""
        try:
            job = worker_jobs.ModelJob.for_holder(self.ctx.models, self.ctx.library_path,
                                                  self.ctx.data_dir)
        except ModelChoiceError as exc:
            result = JobResult(title, note=f"{off}: {exc}")
            return lambda _control: result
        return partial(self.worker.call, partial(entry, job))

    def start_scan(self, folders: list[str]) -> bool:
        """Scan ``folders`` in the background (embedding follows); returns whether it started."""
        if self.ctx.database is None:
            self.failed.emit("The library could not be opened, so nothing can be scanned.")
            return False
        known = list(self.ctx.settings.value.music_folders)
        self.ctx.settings.update(music_folders=tuple(dict.fromkeys([*known, *folders])))
        job = partial(scan_folders, self.ctx.database, folders)
        if not self.jobs.start("Scanning", job, self._after_scan, pool="io"):
            self.info.emit(f"Wait for “{self.jobs.title}” to finish, or stop it first.")
            return False
        return True

    def _after_scan(self, result: JobResult) -> None:
        if result.errors:
            shown = "\n".join(result.errors[:5])
            more = f"\n… and {len(result.errors) - 5:,} more" if len(result.errors) > 5 else ""
            self.failed.emit(f"Some files could not be read:\n{shown}{more}\n"
                             "Type is:broken in the search box to list them all.")
        if not result.cancelled:
            # Started after the scan job has been cleared, from the event loop.
            QTimer.singleShot(0, self, self.start_embedding)

    @Slot()
    def start_embedding(self) -> None:
        """Embed the tracks that have no vector for the active model (model worker)."""
        if self.ctx.database is None or self.jobs.busy:
            return
        job = self._model_job(worker_jobs.embed_tracks, "Embed", "Search by sound is off")
        self.jobs.start(EMBEDDING_TITLE, job, self._after_embedding, pool="model")

    def _after_embedding(self, result: JobResult) -> None:
        self.vectors_changed.emit()
        if result.errors:
            more = f" (and {len(result.errors) - 1} more)" if len(result.errors) > 1 else ""
            self.failed.emit(f"Some tracks could not be listened to: {result.errors[0]}{more}. "
                             "Type is:unreadable in the search box to list them all.")
        if not result.cancelled and not result.note:
            # Search works now; the moments inside tracks follow in the background.
            QTimer.singleShot(0, self, self.start_moment_pass)

    @Slot()
    def start_moment_pass(self) -> None:
        """Add window vectors every few seconds to embedded tracks (model worker, resumable)."""
        if self.ctx.database is None or self.jobs.busy:
            return
        job = self._model_job(worker_jobs.find_moments, "Moments", "Moments are off")
        self.jobs.start("Finding moments", job, lambda _result: None, pool="model")

    def load_model(self) -> None:
        """Load the active model in the background, then search by sound too."""
        self.ctx.runner.run(partial(active_model.load_model, self.ctx.models),
                            self._model_loaded, self._model_missing, pool="model",
                            name="load model")

    @Slot(object)
    def _model_loaded(self, _embedder: object) -> None:
        self.model_ready.emit()

    @Slot(object)
    def _model_missing(self, error: BaseException) -> None:
        self.status.emit(f"Searching tags only: {error}")
