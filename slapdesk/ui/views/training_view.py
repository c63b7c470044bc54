"""The training panel's layout: run options on the left, live plots and the log on the right."""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from slapdesk.library.jobs.training import DeviceChoice
from slapdesk.ui.views.training_plots import Series, TrainingPlots


class TrainingView(QWidget):
    """Widgets only; ``TrainingController`` fills and drives them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the panel."""
        super().__init__(parent)
        splitter = QSplitter()
        options = QScrollArea()  # a short window scrolls the options instead of squeezing them
        options.setWidget(self._build_options())
        options.setWidgetResizable(True)
        options.setFrameShape(QFrame.Shape.NoFrame)
        options.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        options.setMinimumWidth(300)
        splitter.addWidget(options)
        splitter.addWidget(self._build_plots())
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([330, 900])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    def _build_options(self) -> QWidget:
        box = QGroupBox("New training run")
        form = QFormLayout(box)
        self.source = QComboBox()
        self.source.addItem("This library (captions from your tags)", "library")
        self.source.addItem("Manifest file (audio, caption)", "manifest")
        self.source.addItem("Generated toy data", "synthetic")
        self.manifest_button = QPushButton("Choose manifest…")
        self.manifest_label = QLabel("")
        self.manifest_label.setWordWrap(True)
        self.model = QComboBox()
        self.objective = QComboBox()
        self.objective.addItem("SLAP (no negatives)", "slap")
        self.objective.addItem("CLAP (contrastive baseline)", "clap")
        self.fine_tune = QCheckBox("Start from the active model")
        self.batch_size = _spin(1, 4096, 16)
        self.accumulate = _spin(1, 1024, 1)
        self.effective = QLabel()
        self.steps = _spin(1, 10_000_000, 200)
        self.device = QComboBox()
        self.device_info = QLabel("Looking for GPUs…")
        self.device_info.setWordWrap(True)
        for combo in (self.source, self.model, self.objective, self.device):
            # Long entries are elided instead of widening the panel past a 1024 px window.
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(14)
        for label, widget in (("Data:", self.source), ("", self.manifest_button),
                              ("", self.manifest_label), ("Architecture:", self.model),
                              ("Objective:", self.objective), ("", self.fine_tune),
                              ("Micro-batch:", self.batch_size),
                              ("Accumulate:", self.accumulate), ("", self.effective),
                              ("Steps:", self.steps), ("Device:", self.device),
                              ("", self.device_info)):
            form.addRow(label, widget)
        self._add_run_controls(form)
        return box

    def _add_run_controls(self, form: QFormLayout) -> None:
        """Start / stop / resume, the progress, and what the finished run scored."""
        buttons = QHBoxLayout()
        self.start_button = QPushButton("Start training")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        form.addRow(buttons)
        self.resume_button = QPushButton("Resume the stopped run")
        self.resume_button.setVisible(False)
        form.addRow(self.resume_button)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("No run yet")  # "0 of 1 steps" would describe a run
        form.addRow(self.progress)
        self.status = QLabel("Not running")
        self.status.setWordWrap(True)
        form.addRow(self.status)
        self.evaluation = QLabel("")
        self.evaluation.setWordWrap(True)
        self.evaluation.setTextFormat(Qt.TextFormat.PlainText)
        form.addRow(self.evaluation)
        self.activate_button = QPushButton("Use the trained model")
        self.activate_button.setEnabled(False)
        form.addRow(self.activate_button)

    def _build_plots(self) -> QWidget:
        right = QWidget()
        layout = QVBoxLayout(right)
        layout.setContentsMargins(0, 0, 0, 0)
        self.graphs = TrainingPlots()
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(2000)
        self.log.setPlaceholderText("The trainer's output appears here.")
        layout.addWidget(self.graphs, 3)
        layout.addWidget(self.log, 1)
        return right

    @property
    def plots(self) -> dict[str, pg.PlotItem]:
        """The plots by key in ``PLOTS`` (built now if they are not yet)."""
        return self.graphs.plots

    @property
    def curves(self) -> dict[str, pg.PlotDataItem]:
        """The curves by series key (built now if they are not yet)."""
        return self.graphs.curves

    def set_devices(self, devices: Sequence[DeviceChoice], selected: str = "auto") -> None:
        """Fill the device menu and describe the GPUs found."""
        self.device.clear()
        for choice in devices:
            self.device.addItem(choice.label, choice.value)
        index = self.device.findData(selected)
        self.device.setCurrentIndex(max(index, 0))
        gpus = [c.label for c in devices if c.value not in ("auto", "cpu")]
        no_gpu = "No GPU found: training uses the CPU."
        self.device_info.setText("\n".join(gpus) if gpus else no_gpu)

    def set_curve(self, name: str, xs: Sequence[float], ys: Sequence[float]) -> None:
        """Replace one series (drawn now)."""
        self.graphs.set_curves({name: (xs, ys)})

    def set_curves(self, series: Series) -> None:
        """Replace these series and draw them now."""
        self.graphs.set_curves(series)

    def set_curves_soon(self, series: Series) -> None:
        """Replace these series; drawn one plot per event-loop turn (a metrics poll)."""
        self.graphs.set_curves_soon(series)

    def flush_curves(self) -> None:
        """Draw every series still waiting for its turn."""
        self.graphs.flush()

    def set_progress(self, step: int, total: int) -> None:
        """Fill the progress bar: ``step`` of ``total`` optimizer steps."""
        self.graphs.total_steps = total
        self.progress.setFormat("%v of %m steps")
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(min(step, max(total, 1)))


def _spin(low: int, high: int, value: int) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    return spin
