"""Auto-tag review: load proposals, accept / reject, apply as a journaled run, undo."""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from slapdesk.library.autotag.vocabulary import (
    VocabularyError,
    available_vocabularies,
    load_vocabulary,
)
from slapdesk.library.jobs.active_model import ModelHolder
from slapdesk.library.jobs.apply import accepted_changes, apply_tags, undo_last_run
from slapdesk.library.jobs.control import JobResult
from slapdesk.library.jobs.propose import propose_tags, read_proposals
from slapdesk.library.store.track_rows import ProposalRow
from slapdesk.ui.context import AppContext
from slapdesk.ui.jobs import JobTracker
from slapdesk.ui.proposal_model import ProposalTableModel
from slapdesk.ui.tabs import Tab, register_tab
from slapdesk.ui.views.tagging_view import TaggingView

if TYPE_CHECKING:
    from slapdesk.ui.main_window import MainWindow

log = logging.getLogger(__name__)


class TaggingController(QObject):
    """Owns the ``TaggingView``; long work goes through the window's ``JobTracker``."""

    failed = Signal(str)
    info = Signal(str)
    library_changed = Signal()

    def __init__(self, ctx: AppContext, view: TaggingView, jobs: JobTracker,
                 holder: ModelHolder, parent: QObject | None = None) -> None:
        """Wire ``view``."""
        super().__init__(parent)
        self.ctx = ctx
        self.view = view
        self.model: ProposalTableModel = view.model
        self.jobs = jobs
        self.holder = holder
        self._only: list[int] | None = None  # restrict to these tracks (a map selection)
        self._generation = 0  # which reload's answer is current (older answers are dropped)
        settings = ctx.settings.value
        view.vocabulary.addItems(available_vocabularies())
        view.vocabulary.setCurrentText(settings.tag_vocabulary)
        view.policy.setCurrentIndex(max(view.policy.findData(settings.tag_policy), 0))
        view.threshold.setValue(settings.tag_threshold)
        view.vocabulary.currentIndexChanged.connect(self._vocabulary_changed)
        view.policy.currentIndexChanged.connect(self._policy_changed)
        view.propose_button.clicked.connect(self.propose)
        view.accept_threshold_button.clicked.connect(self.accept_above_threshold)
        view.accept_selected_button.clicked.connect(self.accept_selected)
        view.reject_selected_button.clicked.connect(self.reject_selected)
        view.reject_all_button.clicked.connect(self.reject_all)
        view.apply_button.clicked.connect(self.apply)
        view.undo_button.clicked.connect(self.undo)
        view.show_all_button.clicked.connect(lambda: self.restrict_to(None))
        self.model.dataChanged.connect(self._update_counts)
        self.model.modelReset.connect(self._update_counts)

    @property
    def vocab(self) -> str:
        """The chosen vocabulary's name."""
        return self.view.vocabulary.currentText()

    def _field(self) -> str:
        try:
            return load_vocabulary(self.vocab).field
        except VocabularyError:
            return self.vocab

    # ---- loading -----------------------------------------------------------------------------
    @Slot()
    def reload(self) -> None:
        """Read the proposals for the chosen vocabulary."""
        if not self.ctx.library_path.is_file():
            return
        self._generation += 1
        job = partial(read_proposals, self.ctx.library_path, self.vocab, self._field(), self._only)
        self.ctx.runner.run(job, partial(self._loaded, self._generation), self._error,
                            pool="cpu", name="proposals")

    def restrict_to(self, track_ids: list[int] | None) -> None:
        """Review only these tracks (None: all)."""
        self._only = list(track_ids) if track_ids else None
        self.view.show_scope(len(self._only) if self._only is not None else None)
        self.reload()

    def _loaded(self, generation: int, rows: list[ProposalRow]) -> None:
        if generation != self._generation:
            return  # a reload started since: its answer (e.g. the selection only) wins
        self.model.set_proposals(rows, self.view.threshold.value())
        if not rows:
            self.view.status.setText(
                f"No {self.vocab} proposals yet. Press “Propose tags” once tracks are embedded."
            )

    @Slot(object)
    def _error(self, error: BaseException) -> None:
        self.failed.emit(f"Cannot read tag proposals: {error}")

    def _update_counts(self, *_args: object) -> None:
        accepted = self.model.accepted()
        tracks = len({r.track_id for r in accepted})
        self.view.apply_button.setText(f"Apply {len(accepted)} tags to {tracks} files")
        self.view.apply_button.setEnabled(bool(accepted))
        if self.model.rowCount():
            self.view.status.setText(
                f"{self.model.rowCount():,} proposals for "
                f"{len({r.track_id for r in self.model.rows}):,} tracks; {len(accepted):,} accepted"
            )

    def _vocabulary_changed(self, _index: int) -> None:
        self.ctx.settings.update(tag_vocabulary=self.vocab)
        self.reload()

    def _policy_changed(self, _index: int) -> None:
        self.ctx.settings.update(tag_policy=str(self.view.policy.currentData()))

    # ---- review ------------------------------------------------------------------------------
    def accept_above_threshold(self) -> None:
        """Accept every proposal scoring at least the threshold (others untouched)."""
        self.model.set_all(True, self.view.threshold.value())

    def accept_selected(self) -> None:
        """Accept the selected rows."""
        self.model.set_accepted(self.view.selected_rows(), True)

    def reject_selected(self) -> None:
        """Reject the selected rows."""
        self.model.set_accepted(self.view.selected_rows(), False)

    def reject_all(self) -> None:
        """Reject everything."""
        self.model.set_all(False)

    # ---- jobs --------------------------------------------------------------------------------
    def _start(self, title: str, job, on_done) -> bool:
        if self.ctx.database is None:
            self.failed.emit("The library could not be opened.")
            return False
        if not self.jobs.start(title, job, on_done, pool="model" if "Propos" in title else "io"):
            self.info.emit(f"Wait for “{self.jobs.title}” to finish, or stop it first.")
            return False
        return True

    def propose(self) -> None:
        """Score the library against the vocabulary (model worker)."""
        job = partial(propose_tags, self.holder, self.ctx.database, self.vocab)
        self._start("Proposing tags", job, self._after_propose)

    def apply(self) -> None:
        """Write the accepted tags into the files."""
        accepted = self.model.accepted()
        if not accepted:
            self.info.emit("Accept some proposals first.")
            return
        changes = accepted_changes(accepted, self.vocab)
        policy = str(self.view.policy.currentData())
        job = partial(apply_tags, self.ctx.database, changes, policy,
                      accepted[0].model_id, self.vocab)
        self._start("Writing tags", job, self._after_write)

    def undo(self) -> None:
        """Undo the most recent tag run."""
        self._start("Undoing the last tag run",
                    partial(undo_last_run, self.ctx.database), self._after_write)

    def _after_propose(self, result: JobResult) -> None:
        self.view.status.setText(result.summary())
        self.reload()

    def _after_write(self, result: JobResult) -> None:
        self.view.status.setText(result.summary())
        if result.errors:
            shown = "\n".join(result.errors[:5])
            more = f"\n… and {len(result.errors) - 5} more" if len(result.errors) > 5 else ""
            self.failed.emit(f"{result.summary()}\n{shown}{more}")
        else:
            self.info.emit(result.summary())
        self.library_changed.emit()
        self.reload()


@register_tab("tagging", "Auto-tag", 20)
def tagging_tab(window: MainWindow) -> Tab:
    """Tag proposals to review, apply and undo."""
    view = TaggingView(ProposalTableModel(window))
    controller = TaggingController(window.ctx, view, window.jobs, window.ctx.models, window)
    controller.failed.connect(window.show_error)
    controller.info.connect(window.show_info)
    controller.library_changed.connect(window.refresh_tracks)

    def review(track_ids: list[int]) -> None:
        controller.restrict_to(track_ids)
        window.show_tab("tagging")

    window.tag_requested.connect(review)
    return Tab(view, controller, controller.reload)
