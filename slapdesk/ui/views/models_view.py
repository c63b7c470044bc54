"""Models and settings: list bundles, import one, choose the active model; a few preferences."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from slapdesk.library.models import ModelBundle, evaluation_summary, readable_metrics

_KIND_LABEL = {"default": "bundled", "imported": "imported", "trained": "trained here"}

class ModelsView(QWidget):
    """The models list, the selected model's card and the search preferences.

    Signals: ``import_requested(folder)``, ``activate_requested(path)``,
    ``preferences_changed(debounce_ms, result_limit)``.
    """

    import_requested = Signal(str)
    activate_requested = Signal(str)
    preferences_changed = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the panel."""
        super().__init__(parent)
        self._bundles: list[ModelBundle] = []
        self._active = ""
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel("<b>Models</b>"))
        self.list = QListWidget()
        left_layout.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        self.import_button = QPushButton("Import folder…")
        self.activate_button = QPushButton("Use this model")
        self.activate_button.setEnabled(False)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.activate_button)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self._build_preferences())
        self.card = QTextBrowser()
        self.card.setOpenExternalLinks(False)
        self.card.setPlaceholderText("Select a model to read its card.")
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.card)
        splitter.setSizes([380, 700])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.list.currentRowChanged.connect(self._show_card)
        self.import_button.clicked.connect(self._choose_import)
        self.activate_button.clicked.connect(self._activate)

    def _build_preferences(self) -> QWidget:
        box = QGroupBox("Search preferences")
        form = QFormLayout(box)
        self.debounce = QSpinBox()
        self.debounce.setRange(0, 2000)
        self.debounce.setSuffix(" ms")
        self.result_limit = QSpinBox()
        self.result_limit.setRange(10, 1_000_000)
        self.result_limit.setSingleStep(500)
        form.addRow("Search after typing stops for:", self.debounce)
        form.addRow("Most results shown:", self.result_limit)
        self.debounce.editingFinished.connect(self._preferences)
        self.result_limit.editingFinished.connect(self._preferences)
        return box

    def set_preferences(self, debounce_ms: int, result_limit: int) -> None:
        """Show the current preferences."""
        self.debounce.setValue(debounce_ms)
        self.result_limit.setValue(result_limit)

    def set_bundles(self, bundles: Sequence[ModelBundle], active: str) -> None:
        """List bundles; ``active`` is the active bundle's path ("" = the bundled default)."""
        self._bundles = list(bundles)
        self._active = active
        self.list.clear()
        for bundle in self._bundles:
            is_active = (str(bundle.path) == active) or (not active and bundle.kind == "default")
            label = f"{bundle.name}  ({_KIND_LABEL.get(bundle.kind, bundle.kind)})"
            if is_active:
                label = "✔ " + label
            if bundle.problem:
                label += "  — unusable"
            item = QListWidgetItem(label)
            item.setToolTip(bundle.problem or str(bundle.path))
            if is_active:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self.list.addItem(item)
        if not self._bundles:
            self.card.setMarkdown(
                "No model bundles yet. Import a bundle folder, or train one in the Training tab."
            )
        else:
            self.list.setCurrentRow(0)

    def _show_card(self, row: int) -> None:
        if not 0 <= row < len(self._bundles):
            self.activate_button.setEnabled(False)
            return
        bundle = self._bundles[row]
        self.activate_button.setEnabled(not bundle.problem)
        facts = [f"**Folder:** `{bundle.path}`"]
        if bundle.architecture:
            facts.append(f"**Audio tower:** {bundle.architecture}")
        if bundle.model_id:
            facts.append(f"**Model id:** `{bundle.model_id[:16]}`")
        if bundle.created:
            facts.append(f"**Created:** {bundle.created}")
        if bundle.metrics:
            facts.append(evaluation_summary(bundle.metrics))
            facts += [f"**{label}:** {shown}" for label, shown in readable_metrics(bundle.metrics)]
        if bundle.problem:
            facts.append(f"**Problem:** {bundle.problem}")
        self.card.setMarkdown("\n\n".join(facts) + "\n\n---\n\n" + (bundle.card or ""))

    def selected(self) -> ModelBundle | None:
        """The highlighted bundle."""
        row = self.list.currentRow()
        return self._bundles[row] if 0 <= row < len(self._bundles) else None

    def _choose_import(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a model bundle folder")
        if folder:
            self.import_requested.emit(folder)

    def _activate(self) -> None:
        bundle = self.selected()
        if bundle is not None:
            self.activate_requested.emit("" if bundle.kind == "default" else str(bundle.path))

    def _preferences(self) -> None:
        self.preferences_changed.emit(self.debounce.value(), self.result_limit.value())
