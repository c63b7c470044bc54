"""The training panel's layout: run options on the left, live plots and the log on the right."""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from slapdesk.library.jobs.training import DeviceChoice

# plot key -> (title, y label, [(series key, colour)])
PLOTS = {
    "loss": ("Loss", "loss", [("loss", (200, 60, 40))]),
    "speed": ("Throughput", "samples/s", [("samples_per_s", (40, 120, 200))]),
    "retrieval": ("Retrieval (held out)", "R@10", [("t2a_R@10", (30, 150, 80)),
                                                   ("a2t_R@10", (150, 90, 200))]),
    "memory": ("Peak memory", "MiB", [("peak_mem_mib", (120, 120, 120))]),
}


class TrainingView(QWidget):
    """Widgets only; ``TrainingController`` fills and drives them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the panel."""
        super().__init__(parent)
        splitter = QSplitter()
        splitter.addWidget(self._build_options())
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
        for label, widget in (("Data:", self.source), ("", self.manifest_button),
                              ("", self.manifest_label), ("Architecture:", self.model),
                              ("Objective:", self.objective), ("", self.fine_tune),
                              ("Micro-batch:", self.batch_size),
                              ("Accumulate:", self.accumulate), ("", self.effective),
                              ("Steps:", self.steps), ("Device:", self.device),
                              ("", self.device_info)):
            form.addRow(label, widget)
        buttons = QHBoxLayout()
        self.start_button = QPushButton("Start training")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        form.addRow(buttons)
        self.status = QLabel("Not running")
        self.status.setWordWrap(True)
        form.addRow(self.status)
        self.activate_button = QPushButton("Use the trained model")
        self.activate_button.setEnabled(False)
        form.addRow(self.activate_button)
        return box

    def _build_plots(self) -> QWidget:
        right = QWidget()
        layout = QVBoxLayout(right)
        layout.setContentsMargins(0, 0, 0, 0)
        self.graphs = pg.GraphicsLayoutWidget()
        self.graphs.setBackground("w")
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        for index, (key, (title, unit, series)) in enumerate(PLOTS.items()):
            plot = self.graphs.addPlot(row=index // 2, col=index % 2, title=title)
            plot.setLabel("bottom", "step")
            plot.setLabel("left", unit)
            plot.showGrid(x=True, y=True, alpha=0.2)
            if len(series) > 1:
                plot.addLegend(offset=(-10, 10))
            for name, colour in series:
                self.curves[name] = plot.plot([], [], pen=pg.mkPen(colour, width=2), name=name,
                                              symbol="o" if key == "retrieval" else None,
                                              symbolSize=5, symbolBrush=colour)
            self.plots[key] = plot
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(2000)
        self.log.setPlaceholderText("The trainer's output appears here.")
        layout.addWidget(self.graphs, 3)
        layout.addWidget(self.log, 1)
        return right

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
        """Replace one series."""
        self.curves[name].setData(list(xs), list(ys))


def _spin(low: int, high: int, value: int) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    return spin
