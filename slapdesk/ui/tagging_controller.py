"""Auto-tag review: proposals per track, tick / untick, apply as a journaled run, undo a run."""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QObject, QPoint, Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QMenu, QMessageBox

from slapdesk.library.autotag.review import ReviewTrack
from slapdesk.library.autotag.vocabulary import available_vocabularies
from slapdesk.library.jobs.active_model import ModelHolder
from slapdesk.library.jobs.apply import accepted_changes, apply_tags, read_runs, undo_run
from slapdesk.library.jobs.control import JobResult
from slapdesk.library.jobs.propose import propose_tags, read_review
from slapdesk.library.tags.runs import RunChange, RunInfo
from slapdesk.ui.context import AppContext
from slapdesk.ui.jobs import JobTracker
from slapdesk.ui.proposal_model import ReviewModel
from slapdesk.ui.tabs import Tab, register_tab
from slapdesk.ui.views.runs_view import undoable
from slapdesk.ui.views.tagging_view import TaggingView

if TYPE_CHECKING:
    from slapdesk.ui.main_window import MainWindow

log = logging.getLogger(__name__)
CONFIRM_FILES = 5  # writing or undoing more files than this asks first
RUNS_LISTED = 50


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


class TaggingController(QObject):
    """Owns the ``TaggingView``; long work goes through the window's ``JobTracker``."""

    failed = Signal(str)
    info = Signal(str)
    library_changed = Signal()
    play_requested = Signal(int)  # a track id
    track_chosen = Signal(int)  # the track whose details the window should show

    def __init__(self, ctx: AppContext, view: TaggingView, jobs: JobTracker,
                 holder: ModelHolder, parent: QObject | None = None) -> None:
        """Wire ``view``."""
        super().__init__(parent)
        self.ctx = ctx
        self.view = view
        self.model: ReviewModel = view.model
        self.jobs = jobs
        self.holder = holder
        self._only: list[int] | None = None  # restrict to these tracks (a map selection)
        self._generation = 0  # which reload's answer is current (older answers are dropped)
        self.runs: list[RunInfo] = []
        self._pick_newest_run = False
        self._undo_asked = False  # the runs are being read for an undo
        settings = ctx.settings.value
        view.vocabulary.addItems(available_vocabularies())
        view.vocabulary.setCurrentText(settings.tag_vocabulary)
        view.policy.setCurrentIndex(max(view.policy.findData(settings.tag_policy), 0))
        view.threshold.setValue(settings.tag_threshold)
        self.model.set_policy(self.vocab, self.policy)
        self._wire_view()

    def _wire_view(self) -> None:
        view = self.view
        view.vocabulary.currentIndexChanged.connect(self._vocabulary_changed)
        view.policy.currentIndexChanged.connect(self._policy_changed)
        view.propose_button.clicked.connect(self.propose)
        view.accept_threshold_button.clicked.connect(self.accept_above_threshold)
        view.reject_all_button.clicked.connect(self.reject_all)
        view.tick_term_button.clicked.connect(partial(self.decide_term, True))
        view.untick_term_button.clicked.connect(partial(self.decide_term, False))
        view.apply_button.clicked.connect(self.apply)
        view.undo_button.clicked.connect(lambda: self.undo())
        view.runs.undo_button.clicked.connect(lambda: self.undo(view.runs.selected_run()))
        view.runs.list.itemSelectionChanged.connect(self._run_picked)
        view.play_button.clicked.connect(self.play_selected)
        view.show_all_button.clicked.connect(lambda: self.restrict_to(None))
        for signal in (view.filter_text.textChanged, view.filter_term.currentIndexChanged,
                       view.filter_score.valueChanged, view.filter_folder.currentIndexChanged,
                       view.changes_only.toggled):
            signal.connect(self._filter_changed)
        view.table.doubleClicked.connect(self._double_clicked)
        # Enter plays the row, as in the results; Space ticks or unticks it (the table's own).
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            QShortcut(QKeySequence(key), view.table, self.play_selected,
                      context=Qt.ShortcutContext.WidgetShortcut)
        view.table.customContextMenuRequested.connect(self._context_menu)
        view.table.selectionModel().currentChanged.connect(self._current_changed)
        for signal in (self.model.dataChanged, self.model.modelReset, self.model.layoutChanged):
            signal.connect(self._update_counts)

    @property
    def vocab(self) -> str:
        """The chosen vocabulary's name."""
        return self.view.vocabulary.currentText()

    @property
    def policy(self) -> str:
        """The chosen write policy."""
        return str(self.view.policy.currentData())

    # ---- loading -----------------------------------------------------------------------------
    @Slot()
    def reload(self) -> None:
        """Read the review of the chosen vocabulary, and the runs."""
        if not self.ctx.library_path.is_file():
            return
        self._generation += 1
        job = partial(read_review, self.ctx.library_path, self.vocab, self._only)
        self.ctx.runner.run(job, partial(self._loaded, self._generation), self._error,
                            pool="cpu", name="proposals")
        self.ctx.runner.run(partial(read_runs, self.ctx.library_path, RUNS_LISTED),
                            self._runs_loaded, self._error, pool="cpu", name="runs")

    def restrict_to(self, track_ids: list[int] | None) -> None:
        """Review only these tracks (None: all)."""
        self._only = list(track_ids) if track_ids else None
        self.view.show_scope(len(self._only) if self._only is not None else None)
        self.reload()

    def _loaded(self, generation: int, tracks: list[ReviewTrack]) -> None:
        if generation != self._generation:
            return  # a reload started since: its answer (e.g. the selection only) wins
        self.model.set_policy(self.vocab, self.policy)
        self.model.set_tracks(tracks, self.view.threshold.value())
        self.view.set_choices(self.model.terms(),
                              [(f, self.model.short_folder(f)) for f in self.model.folders()])
        if not tracks:
            self.view.status.setText(
                f"No {self.vocab} proposals yet. Press “Propose tags” once tracks are embedded."
            )

    def _runs_loaded(self, runs: list[tuple[RunInfo, list[RunChange]]]) -> None:
        self.runs = [info for info, _ in runs]
        self.view.runs.set_runs(self.runs)
        for info, changes in runs:
            self.view.runs.set_changes(info.run_id, changes, sum(info.counts.values()))
        if self._pick_newest_run and self.runs:
            self._pick_newest_run = False
            self.view.runs.select_run(self.runs[0].run_id)  # the list is newest first
        latest = next((info for info in self.runs if undoable(info)), None)
        self.view.undo_button.setEnabled(latest is not None)
        self.view.undo_button.setToolTip(
            f"Undo run {latest.run_id} ({latest.files:,} files)" if latest else "Nothing to undo")

    @Slot(object)
    def _error(self, error: BaseException) -> None:
        self.failed.emit(f"Cannot read the tag review: {error}")

    def _update_counts(self, *_args: object) -> None:
        # Runs on every tick: counts only, never the list of 50,000 accepted terms.
        counts = self.model.counts()
        ticked, files = counts["ticked"], counts["files"]
        self.view.apply_button.setText(f"Write {_count(ticked, 'tag')} to "
                                       f"{_count(files, 'file')}")
        self.view.apply_button.setEnabled(bool(ticked))
        if counts["tracks"]:
            problems = counts["problems"]
            note = f"; {problems:,} not tagged (silent or unreadable)" if problems else ""
            self.view.status.setText(
                f"{counts['shown']:,} of {counts['tracks']:,} tracks shown; {ticked:,} tags "
                f"ticked on {files:,} files{note}"
            )

    def _vocabulary_changed(self, _index: int) -> None:
        self.ctx.settings.update(tag_vocabulary=self.vocab)
        self.reload()

    def _policy_changed(self, _index: int) -> None:
        self.ctx.settings.update(tag_policy=self.policy)
        self.model.set_policy(self.vocab, self.policy)

    def _filter_changed(self, *_args: object) -> None:
        self.model.set_filter(self.view.review_filter())
        term = self.view.review_filter().term
        if term:  # "tick every ..." then means the term the user is looking at
            self.view.term.setCurrentText(term)

    # ---- review ------------------------------------------------------------------------------
    def accept_above_threshold(self) -> None:
        """Tick every term scoring at least the threshold (others untouched)."""
        self.model.decide_all(True, self.view.threshold.value())

    def reject_all(self) -> None:
        """Untick everything."""
        self.model.decide_all(False)

    def decide_term(self, accepted: bool) -> None:
        """Tick or untick the chosen term on every track where it scores enough."""
        term, score = self.view.term.currentText(), self.view.term_score.value()
        if not term:
            return
        changed = self.model.decide_term(term, score, accepted)
        verb = "Ticked" if accepted else "Unticked"
        self.info.emit(f"{verb} “{term}” on {_count(changed, 'track')} (score ≥ {score:.2f})")

    def selected_track(self) -> ReviewTrack | None:
        """The track of the current row."""
        return self.model.track_at(self.view.table.currentIndex())

    def play_selected(self) -> None:
        """Play the current row's track."""
        track = self.selected_track()
        if track is not None and not track.problem:
            self.play_requested.emit(track.track_id)

    def _double_clicked(self, index: QModelIndex) -> None:
        track = self.model.track_at(index)
        if track is not None and not track.problem and self.model.term_at(index) is None:
            self.play_requested.emit(track.track_id)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        track = self.model.track_at(current)
        self.view.play_button.setEnabled(track is not None and not track.problem)
        if track is not None:
            self.track_chosen.emit(track.track_id)

    def _context_menu(self, point: QPoint) -> None:
        index = self.view.table.indexAt(point)
        track = self.model.track_at(index)
        if track is None:
            return
        menu = self.review_menu(track, self.model.term_at(index))
        menu.exec(self.view.table.viewport().mapToGlobal(point))
        menu.deleteLater()

    def review_menu(self, track: ReviewTrack, term=None) -> QMenu:
        """Play, tick / untick the track, and tick / untick a term across the library."""
        menu = QMenu(self.view.table)
        play = menu.addAction("Play", partial(self.play_requested.emit, track.track_id))
        play.setEnabled(not track.problem)
        ids = self.view.selected_track_ids() or [track.track_id]
        if track.track_id not in ids:
            ids = [track.track_id]
        label = f"{len(ids)} tracks" if len(ids) > 1 else "this track"
        menu.addAction(f"Tick all terms of {label}",
                       partial(self.model.decide_tracks, ids, True)).setEnabled(bool(track.terms))
        menu.addAction(f"Untick all terms of {label}",
                       partial(self.model.decide_tracks, ids, False)).setEnabled(bool(track.terms))
        if term is not None:
            score = self.view.term_score.value()
            menu.addSeparator()
            menu.addAction(f"Tick “{term.tag}” on every track (score ≥ {score:.2f})",
                           partial(self._decide_term_from_menu, term.tag, True))
            menu.addAction(f"Untick “{term.tag}” on every track (score ≥ {score:.2f})",
                           partial(self._decide_term_from_menu, term.tag, False))
        return menu

    def _decide_term_from_menu(self, tag: str, accepted: bool) -> None:
        self.view.term.setCurrentText(tag)
        self.decide_term(accepted)

    # ---- jobs --------------------------------------------------------------------------------
    def _start(self, title: str, job, on_done) -> bool:
        if self.ctx.database is None:
            self.failed.emit("The library could not be opened.")
            return False
        if not self.jobs.start(title, job, on_done, pool="model" if "Propos" in title else "io"):
            self.info.emit(f"Wait for “{self.jobs.title}” to finish, or stop it first.")
            return False
        return True

    def confirm(self, text: str, action: str) -> bool:
        """Ask before a write or undo that touches many files."""
        box = QMessageBox(QMessageBox.Icon.Question, "Confirm", text,
                          QMessageBox.StandardButton.Cancel, self.view)
        go = box.addButton(action, QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(go)
        box.exec()
        return box.clickedButton() is go

    def propose(self) -> None:
        """Score the library against the vocabulary (model worker)."""
        job = partial(propose_tags, self.holder, self.ctx.database, self.vocab)
        self._start("Proposing tags", job, self._after_propose)

    def apply(self) -> None:
        """Write the ticked tags into the files (asking first when there are many)."""
        accepted = self.model.accepted()
        if not accepted:
            self.info.emit("Tick some proposals first.")
            return
        changes = accepted_changes(accepted, self.vocab)
        if len(changes) > CONFIRM_FILES and not self.confirm(
            f"Write {_count(len(accepted), 'tag')} to {_count(len(changes), 'file')} — "
            "you can undo this.",
            "Write",
        ):
            return
        job = partial(apply_tags, self.ctx.database, changes, self.policy,
                      accepted[0].model_id, self.vocab)
        self._start("Writing tags", job, self._after_apply)

    def undo(self, run_id: int | None = None) -> None:
        """Undo run ``run_id`` (None: the newest run with tags left to restore).

        The runs are read fresh, not taken from the list as last shown (another view, the
        audit, may have written since), on a worker: the database stays off the GUI thread.
        The confirmation and the undo job follow when they arrive (``_undo_with_runs``).
        """
        if not self.ctx.library_path.is_file():
            self._undo_with_runs(run_id, None)
            return
        if self._undo_asked:
            return  # a click while the runs are being read: that undo is on its way
        self._undo_asked = True
        self.ctx.runner.run(partial(read_runs, self.ctx.library_path, RUNS_LISTED),
                            partial(self._undo_with_runs, run_id), self._undo_read_failed,
                            pool="cpu", name="runs before undo")

    def _undo_read_failed(self, error: BaseException) -> None:
        self._undo_asked = False
        self._error(error)

    def _undo_with_runs(self, run_id: int | None,
                        runs: list[tuple[RunInfo, list[RunChange]]] | None) -> None:
        """The runs are read: confirm (many files) and start the undo job."""
        self._undo_asked = False
        if runs is not None:
            self._runs_loaded(runs)
        info = next((r for r in self.runs if r.run_id == run_id or
                     (run_id is None and undoable(r))), None)
        if info is None and run_id is None:
            self.info.emit("Nothing to undo: no tagging run has tags left to restore.")
            return
        target = info.run_id if info is not None else run_id
        if info is not None and info.files > CONFIRM_FILES and not self.confirm(
            f"Undo run {info.run_id}: restore the tags of {info.files:,} files as they were "
            "before it.", "Undo",
        ):
            return
        self._start(f"Undoing run {target}", partial(undo_run, self.ctx.database, target),
                    self._after_write)

    def _run_picked(self) -> None:
        run_id = self.view.runs.selected_run()
        info = self.view.runs.run_info(run_id) if run_id is not None else None
        if info is not None:
            self.view.runs.undo_button.setText(f"Undo run {info.run_id}…")

    def _after_propose(self, result: JobResult) -> None:
        self.view.status.setText(result.summary())
        self.reload()

    def _after_apply(self, result: JobResult) -> None:
        # The run just written is the one a user means by "undo" next: pick it in the list.
        self._pick_newest_run = True
        self._after_write(result)

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


@register_tab("tagging", "Auto-tag", 20, shows_tracks=True)
def tagging_tab(window: MainWindow) -> Tab:
    """Tag proposals to review, apply and undo."""
    view = TaggingView(ReviewModel(window))
    controller = TaggingController(window.ctx, view, window.jobs, window.ctx.models, window)
    controller.failed.connect(window.show_error)
    controller.info.connect(window.show_info)
    controller.library_changed.connect(window.refresh_tracks)
    controller.play_requested.connect(window.play_track)
    controller.track_chosen.connect(window.show_track)

    def review(track_ids: list[int]) -> None:
        controller.restrict_to(track_ids)
        window.show_tab("tagging")

    window.tag_requested.connect(review)
    return Tab(view, controller, controller.reload)
