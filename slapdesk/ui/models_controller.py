"""Models and settings tab: list bundles, import one (checked off the GUI thread), activate."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from slapdesk.library import models as bundles
from slapdesk.library.jobs.active_model import choose_for_library
from slapdesk.ui.context import AppContext
from slapdesk.ui.tabs import Tab, register_tab
from slapdesk.ui.tasks import TaskContext
from slapdesk.ui.views.models_view import ModelsView

if TYPE_CHECKING:
    from slapdesk.ui.main_window import MainWindow


def _import(source: Path, models_dir: Path, _ctx: TaskContext) -> bundles.ModelBundle:
    return bundles.import_bundle(source, models_dir)


class ModelsController(QObject):
    """Owns the ``ModelsView``; ``model_activated(path)`` after the user picks a model."""

    model_activated = Signal(str)
    failed = Signal(str)
    info = Signal(str)

    def __init__(self, ctx: AppContext, view: ModelsView, parent: QObject | None = None) -> None:
        """Wire ``view``."""
        super().__init__(parent)
        self.ctx = ctx
        self.view = view
        settings = ctx.settings.value
        view.set_preferences(settings.search_debounce_ms, settings.result_limit)
        view.import_requested.connect(self.import_folder)
        view.activate_requested.connect(self.activate)
        view.preferences_changed.connect(self._preferences)

    @Slot()
    def refresh(self) -> None:
        """Re-list the bundles."""
        found = bundles.list_bundles(self.ctx.models_dir, self.ctx.data_dir / "runs")
        self.view.set_bundles(found, self.ctx.models.choice)

    @Slot(str)
    def import_folder(self, folder: str) -> None:
        """Check and copy a bundle folder into the models folder (in the background)."""
        job = partial(_import, Path(folder), self.ctx.models_dir)
        self.ctx.runner.run(job, self._imported, self._import_failed, pool="io",
                            name="import model")

    @Slot(object)
    def _imported(self, bundle: bundles.ModelBundle) -> None:
        self.refresh()
        self.info.emit(f"Imported the model “{bundle.name}”. Select it and press “Use this model”.")

    @Slot(object)
    def _import_failed(self, error: BaseException) -> None:
        self.failed.emit(f"Cannot import that folder: {error}")

    @Slot(str)
    def activate(self, path: str) -> None:
        """Make a bundle this library's active model ("" = the bundled default)."""
        if self.ctx.database is not None:
            choose_for_library(self.ctx.database, path)
        else:  # no library to keep it: the default for every library that has not chosen
            self.ctx.settings.update(active_model=path)
        self.ctx.models.switch(path)
        self.refresh()
        self.model_activated.emit(path)
        self.info.emit(f"This library now uses the model {self.ctx.models.describe()}. Tracks "
                       "are re-embedded with it as needed.")

    @Slot(int, int)
    def _preferences(self, debounce_ms: int, result_limit: int) -> None:
        self.ctx.settings.update(search_debounce_ms=debounce_ms, result_limit=result_limit)


@register_tab("models", "Models", 50)
def models_tab(window: MainWindow) -> Tab:
    """The model bundles: import one, pick the active one; search preferences."""
    view = ModelsView()
    controller = ModelsController(window.ctx, view, window)
    controller.failed.connect(window.show_error)
    controller.info.connect(window.show_info)
    controller.model_activated.connect(window.use_model)
    window.model_requested.connect(controller.activate)
    return Tab(view, controller, controller.refresh)
