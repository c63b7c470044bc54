"""Tag audit in the window: run the audit, then keep / replace / skip one track at a time.

"Replace" writes the suggested value through the journal with the ``replace`` policy for that
field (the same all-or-nothing, undoable path as auto-tagging); "keep" and "skip" write nothing.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from slapdesk.library.autotag.audit import AuditError, AuditRow, replacement
from slapdesk.library.jobs.apply import apply_tags
from slapdesk.library.jobs.audit import run_audit
from slapdesk.library.jobs.control import JobResult
from slapdesk.ui.audit_model import AuditTableModel
from slapdesk.ui.context import AppContext
from slapdesk.ui.jobs import JobTracker
from slapdesk.ui.tabs import Tab, register_tab
from slapdesk.ui.views.audit_view import AuditView

if TYPE_CHECKING:
    from slapdesk.ui.main_window import MainWindow


class AuditController(QObject):
    """Owns the ``AuditView``; writes go through the window's ``JobTracker``."""

    failed = Signal(str)
    info = Signal(str)
    library_changed = Signal()

    def __init__(self, ctx: AppContext, view: AuditView, jobs: JobTracker,
                 parent: QObject | None = None) -> None:
        """Wire ``view``."""
        super().__init__(parent)
        self.ctx = ctx
        self.view = view
        self.model = view.model
        self.jobs = jobs
        self._model_id: str | None = None
        self._field = "genre"
        self._replacing: int | None = None
        view.run_button.clicked.connect(self.run)
        view.keep_button.clicked.connect(self.keep)
        view.replace_button.clicked.connect(self.replace)
        view.skip_button.clicked.connect(self.skip)
        self._enable()

    @property
    def field(self) -> str:
        """The field the shown audit is about."""
        return self._field

    def run(self) -> None:
        """Audit the chosen field (off the GUI thread)."""
        if not self.ctx.library_path.is_file():
            self.info.emit("Scan a music folder first.")
            return
        field = self.view.field.currentText().strip().lower() or "genre"
        method = str(self.view.method.currentData())
        self.view.status.setText(f"Auditing {field} tags…")
        job = partial(run_audit, self.ctx.models, self.ctx.library_path, field, method)
        self.ctx.runner.run(job, partial(self._done, field), self._error, pool="model",
                            name="audit")

    def _done(self, field: str, result: tuple[str, list[AuditRow]]) -> None:
        self._model_id, rows = result
        self._field = field
        self.model.set_rows(rows)
        suspect = sum(1 for r in rows if r.suspicion > 0)
        self.view.status.setText(
            f"{len(rows):,} tracks with a {field}; the audio prefers another value for "
            f"{suspect:,} of them." if rows else f"No track has a {field} to audit."
        )
        self.view.select_row(0)
        self._enable()

    @Slot(object)
    def _error(self, error: BaseException) -> None:
        message = str(error) if isinstance(error, AuditError) else f"Audit failed: {error}"
        self.view.status.setText(message)
        self.failed.emit(message)

    def _enable(self) -> None:
        has = self.model.rowCount() > 0
        for button in (self.view.keep_button, self.view.replace_button, self.view.skip_button):
            button.setEnabled(has)

    # ---- review ------------------------------------------------------------------------------
    def keep(self) -> None:
        """The tag is right: drop the row (nothing is written)."""
        row = self.view.current_row()
        if row >= 0:
            self.model.remove(row)
            self.view.select_row(row)
            self._enable()

    def skip(self) -> None:
        """Decide later: move to the next row."""
        self.view.select_row(self.view.current_row() + 1)

    def replace(self) -> None:
        """Write the suggested value into the file (policy replace for this field)."""
        row = self.view.current_row()
        if row < 0 or self.ctx.database is None:
            return
        change = replacement(self.model.rows[row], self._field)
        job = partial(apply_tags, self.ctx.database, [change], "replace", self._model_id,
                      self._field)
        self._replacing = row  # before start: a synchronous runner answers inside it
        if not self.jobs.start("Replacing a tag", job, self._after_write, pool="io"):
            self._replacing = None
            self.info.emit(f"Wait for “{self.jobs.title}” to finish, or stop it first.")

    def _after_write(self, result: JobResult) -> None:
        row, self._replacing = self._replacing, None
        self.view.status.setText(result.summary())
        if result.errors:
            self.failed.emit(f"{result.summary()}\n" + "\n".join(result.errors[:5]))
        elif row is not None:
            self.model.remove(row)
            self.view.select_row(row)
            self.info.emit(result.summary())
        self._enable()
        self.library_changed.emit()


@register_tab("audit", "Audit", 25)
def audit_tab(window: MainWindow) -> Tab:
    """The tags the audio disagrees with, to keep, replace or skip."""
    view = AuditView(AuditTableModel(window))
    controller = AuditController(window.ctx, view, window.jobs, window)
    controller.failed.connect(window.show_error)
    controller.info.connect(window.show_info)
    controller.library_changed.connect(window.refresh_tracks)
    return Tab(view, controller)
