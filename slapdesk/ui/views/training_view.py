"""The training panel's layout: run options on the left, live plots and the log on the right."""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from slapdesk.library.jobs.training import DeviceChoice

# plot key -> (title, y label, [(series key in metrics.jsonl, colour)])
PLOTS = {
    "loss": ("Loss", "loss", [("loss", (200, 60, 40))]),
    "speed": ("Throughput", "clips/s", [("samples_per_s", (40, 120, 200))]),
    "retrieval": ("Retrieval on held-out tracks", "R@10", [("t2a_R@10", (30, 150, 80)),
                                                           ("a2t_R@10", (150, 90, 200))]),
    "memory": ("Peak memory", "MiB", [("peak_mem_mib", (120, 120, 120))]),
}
# What the legends call the series (people read these, not the metric keys).
SERIES_LABELS = {
    "loss": "loss",
    "samples_per_s": "clips per second",
    "t2a_R@10": "text → audio (R@10)",
    "a2t_R@10": "audio → text (R@10)",
    "peak_mem_mib": "peak memory",
}
# The memory plot starts at zero and spans at least this much: a flat line of 812.1-812.3 MiB
# must read as flat, not as a cliff in the noise.
MEMORY_MIN_TOP_MIB = 256.0
# The plots are built in the background this long after the panel (the window) is made.
PLOTS_AFTER_MS = 1500
# When the panel is first shown, one more plot appears this often (each paints on its own turn).
REVEAL_MS = 15


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
        self.progress.setFormat("%v of %m steps")
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
        # One view per plot, each in a fixed cell of a 2 x 2 grid: a plot is painted (its axes
        # laid out, its tick labels drawn: 6-12 ms each) on its own event-loop turn when the
        # panel is first shown, instead of all four in one paint (35-50 ms, a visible hitch).
        self.graphs = _white(QWidget())
        grid = QGridLayout(self.graphs)
        grid.setContentsMargins(4, 4, 4, 4)
        grid.setSpacing(8)
        self._cells: dict[str, QVBoxLayout] = {}
        for index, key in enumerate(PLOTS):
            cell = _white(QWidget())
            # The grid's stretch alone sizes a cell: a plot appearing in one leaves the others
            # as they are (resizing them would repaint them too).
            cell.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
            self._cells[key] = QVBoxLayout(cell)
            self._cells[key].setContentsMargins(0, 0, 0, 0)
            grid.addWidget(cell, index // 2, index % 2)
        for row_or_column in (0, 1):
            grid.setRowStretch(row_or_column, 1)
            grid.setColumnStretch(row_or_column, 1)
        self._plots: dict[str, pg.PlotItem] = {}
        self._widgets: dict[str, pg.PlotWidget] = {}
        self._last_step = 1.0  # the step axis's end, as last set (the plots start at 0-1)
        self._total_steps = 0  # the run's length, when one is going
        self._curves: dict[str, pg.PlotDataItem] = {}
        # The plots are built one per event-loop turn after the window opens (each takes tens
        # of ms; all four, a tenth of the window's launch), or at once when first needed.
        # They stay hidden until the panel is shown, then appear one per turn.
        self._unbuilt = list(PLOTS)
        self._builder = QTimer(self, interval=0, timeout=self._build_next_plot)
        QTimer.singleShot(PLOTS_AFTER_MS, self, self._builder.start)
        self._revealer = QTimer(self, interval=REVEAL_MS, timeout=self._reveal_next_plot)
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
        self._build_all_plots()
        return self._plots

    @property
    def curves(self) -> dict[str, pg.PlotDataItem]:
        """The curves by series key (built now if they are not yet)."""
        self._build_all_plots()
        return self._curves

    def hidden_plots(self) -> list[str]:
        """The plots not shown yet (unbuilt, or built and waiting for their turn)."""
        return [key for key in PLOTS
                if key not in self._widgets or self._widgets[key].isHidden()]

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt name)
        """Show the plots, one per event-loop turn (building those not built yet)."""
        super().showEvent(event)
        if self.hidden_plots():
            self._revealer.start()

    def _reveal_next_plot(self) -> None:
        """Build or show one more plot; the next step waits for the next event-loop turn."""
        hidden = self.hidden_plots()
        if not hidden or not self.isVisible():
            self._revealer.stop()
            return
        key = hidden[0]
        if key in self._unbuilt:  # opened before the background build came to it
            self._unbuilt.remove(key)
            self._build_plot(key)
            return
        self._widgets[key].show()
        if len(hidden) == 1:
            self._revealer.stop()

    def _build_all_plots(self) -> None:
        while self._unbuilt:
            self._build_next_plot()

    def _build_next_plot(self) -> None:
        if not self._unbuilt:
            self._builder.stop()
            return
        self._build_plot(self._unbuilt.pop(0))

    def _build_plot(self, key: str) -> None:
        """Build one plot, hidden (``_reveal_next_plot`` shows it)."""
        title, unit, series = PLOTS[key]
        widget = pg.PlotWidget(background="w", title=title)
        widget.hide()
        plot = widget.getPlotItem()
        plot.setLabel("bottom", "step")
        plot.setLabel("left", unit)
        # Level lines only: a vertical grid as well nearly doubled the panel's first paint.
        plot.showGrid(x=False, y=True, alpha=0.2)
        plot.getAxis("left").enableAutoSIPrefix(False)  # R@10 0.16, not "160 (x0.001)"
        if len(series) > 1:
            # Top left, see-through: the curves start low and climb to the right.
            plot.addLegend(offset=(10, 10), brush=(255, 255, 255, 170))
        if key == "memory":
            plot.enableAutoRange(axis="y", enable=False)
            plot.setYRange(0, MEMORY_MIN_TOP_MIB, padding=0)
        elif key == "retrieval":  # a share of queries: the whole scale, 0 to 1
            plot.enableAutoRange(axis="y", enable=False)
            plot.setYRange(0, 1, padding=0.02)
        for name, colour in series:
            self._curves[name] = plot.plot([], [], pen=pg.mkPen(colour, width=2),
                                           name=SERIES_LABELS.get(name, name),
                                           symbol="o" if key == "retrieval" else None,
                                           symbolSize=5, symbolBrush=colour)
        plot.enableAutoRange(axis="x", enable=False)  # set_curve keeps one step axis
        plot.setXRange(0, self._last_step, padding=0.02)
        self._cells[key].addWidget(widget)
        self._widgets[key] = widget
        self._plots[key] = plot

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
        self.set_curves({name: (xs, ys)})

    def set_curves(self, series: dict[str, tuple[Sequence[float], Sequence[float]]]) -> None:
        """Replace these series, then rescale the plots once (not once per series).

        Each range change re-lays out and repaints a plot's axes, the costliest part of a
        redraw: 20 of them per metrics poll held the GUI thread for tens of milliseconds.
        """
        for name, (xs, ys) in series.items():
            self.curves[name].setData(list(xs), list(ys))
        # Every plot spans the run's steps so far, rounded up to 1, 2 or 5 times a power of ten
        # (at most the run's length): a lone evaluation is not zoomed into, the plots line up,
        # and the axes are laid out and repainted a few times per run, not at every poll.
        last = max((float(max(c.xData)) for c in self.curves.values()
                    if c.xData is not None and len(c.xData)), default=1.0)
        span = max(last, min(step_span(last), float(self._total_steps or step_span(last))))
        if span != self._last_step:
            self._last_step = span
            for plot in self.plots.values():
                plot.setXRange(0, span, padding=0.02)
        if "peak_mem_mib" in series:
            ys = series["peak_mem_mib"][1]
            top = max([MEMORY_MIN_TOP_MIB, *(y * 1.15 for y in ys)])
            self.plots["memory"].setYRange(0, top, padding=0)

    def set_progress(self, step: int, total: int) -> None:
        """Fill the progress bar: ``step`` of ``total`` optimizer steps."""
        self._total_steps = total
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(min(step, max(total, 1)))


def step_span(last: float) -> float:
    """The step axis's end for a run at step ``last``: 1, 2 or 5 times a power of ten."""
    span = 1.0
    while span < last:
        for factor in (2.0, 2.5, 2.0):  # 1 -> 2 -> 5 -> 10
            span *= factor
            if span >= last:
                break
    return span


def _spin(low: int, high: int, value: int) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    return spin


def _white(widget: QWidget) -> QWidget:
    """``widget`` with a white background, as the plots it holds (no grey flash around them)."""
    widget.setAutoFillBackground(True)
    palette = widget.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor("white"))
    widget.setPalette(palette)
    return widget
