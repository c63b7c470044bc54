"""The training panel's four live plots: built after launch, shown and redrawn a plot a turn.

pyqtgraph lays out and draws a plot's axes (tick labels, level lines) in Python: about 5 ms
per plot and paint on a core shared with other work, and a plot is painted two or three times
as its axes settle. Painted together, the four plots held the event loop for 35-50 ms of its
own work when the panel first opened, and 20-60 ms at metrics polls. Here each
plot is its own view in a fixed cell, so a plot is painted alone: the plots appear one per
event-loop turn, a poll's new points are drawn one plot per turn, the axes are cached as
pixmaps until they change, and the step axis grows in 1-2-5 steps instead of at every poll.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QPalette, QShowEvent
from PySide6.QtWidgets import QGraphicsItem, QGridLayout, QSizePolicy, QVBoxLayout, QWidget

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
# One more plot appears, or one more plot takes its new points, this often (each paints alone).
TURN_MS = 15

Series = dict[str, tuple[Sequence[float], Sequence[float]]]


class TrainingPlots(QWidget):
    """A 2 x 2 grid of plots; ``set_curves`` (now) or ``set_curves_soon`` (a plot per turn)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        """Lay out the empty cells; the plots are built later (``PLOTS_AFTER_MS``)."""
        super().__init__(parent)
        _white(self)
        grid = QGridLayout(self)
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
        self._curves: dict[str, pg.PlotDataItem] = {}
        self.total_steps = 0  # the run's length, when one is going (the step axis ends there)
        # The step axis's end, as last set; before a run 0-10, whole steps (0-1 read 0.2, 0.4).
        self._last_step = 10.0
        self._pending: Series = {}  # new points not drawn yet
        self._stale: set[str] = set()  # plots whose step axis is behind ``_last_step``
        # Built half a plot per event-loop turn after the window opens (a plot takes 10-40 ms;
        # all four, a tenth of the window's launch), or at once when needed; hidden until shown.
        self._unbuilt = list(PLOTS)
        self._views: dict[str, pg.PlotWidget] = {}  # made, not filled yet
        self._builder = QTimer(self, interval=0, timeout=self._build_next_plot)
        QTimer.singleShot(PLOTS_AFTER_MS, self, self._builder.start)
        self._revealer = QTimer(self, interval=TURN_MS, timeout=self._reveal_next_plot)
        self._drawer = QTimer(self, interval=TURN_MS, timeout=self._draw_next_plot)

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
            self._build_step()
            return
        self._widgets[key].show()
        if len(hidden) == 1:
            self._revealer.stop()

    def _build_all_plots(self) -> None:
        while self._unbuilt:
            self._build_step()

    def _build_next_plot(self) -> None:
        if not self._unbuilt:
            self._builder.stop()
            return
        self._build_step()

    def _build_step(self) -> None:
        """Half of building the next plot: its view (the costlier half), or its contents."""
        key = self._unbuilt[0]
        if key not in self._views:
            self._views[key] = pg.PlotWidget(background="w", title=PLOTS[key][0])
            self._views[key].hide()
            return
        self._unbuilt.pop(0)
        self._build_plot(key, self._views.pop(key))

    def _build_plot(self, key: str, widget: pg.PlotWidget) -> None:
        """Fill one plot's view, hidden (``_reveal_next_plot`` shows it)."""
        _title, unit, series = PLOTS[key]
        plot = widget.getPlotItem()
        # Room on the right for the step axis's last label (a plot fills its own view).
        plot.setContentsMargins(0, 0, 12, 0)
        plot.setLabel("bottom", "step")
        plot.setLabel("left", unit)
        # Level lines only: a vertical grid as well nearly doubled the panel's first paint.
        plot.showGrid(x=False, y=True, alpha=0.2)
        plot.getAxis("left").enableAutoSIPrefix(False)  # R@10 0.16, not "160 (x0.001)"
        for side in ("left", "bottom"):
            # Drawn once into a pixmap until the axis changes: a new point repaints the plot,
            # and replaying an axis's tick labels and grid (3-5 ms each) was most of a poll.
            plot.getAxis(side).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
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

    def set_curves(self, series: Series) -> None:
        """Replace these series and draw them now (the step axis rescaled once, not per series)."""
        self.set_curves_soon(series)
        self.flush()

    def set_curves_soon(self, series: Series) -> None:
        """Replace these series; they are drawn one plot per event-loop turn."""
        self._pending.update(series)
        # Every plot spans the run's steps so far, rounded up to 1, 2 or 5 times a power of ten
        # (at most the run's length): a lone evaluation is not zoomed into, the plots line up,
        # and the axes are laid out and repainted a few times per run, not at every poll.
        ends = [float(max(xs)) for xs, _ in self._pending.values() if len(xs)]
        ends += [float(max(c.xData)) for name, c in self.curves.items()
                 if name not in self._pending and c.xData is not None and len(c.xData)]
        last = max(ends, default=1.0)
        span = max(last, min(step_span(last), float(self.total_steps or step_span(last))))
        if span != self._last_step:
            self._last_step = span
            self._stale = set(PLOTS)
        if self._pending or self._stale:
            self._drawer.start()

    def flush(self) -> None:
        """Draw every series still waiting for its turn."""
        while self._pending or self._stale:
            self._draw_next_plot()

    def _draw_next_plot(self) -> None:
        """Give one plot its new points (and its new step axis)."""
        for key, (_title, _unit, series) in PLOTS.items():
            names = [name for name, _ in series if name in self._pending]
            if names or key in self._stale:
                break
        else:
            self._drawer.stop()
            return
        drawn = {name: self._pending.pop(name) for name in names}
        for name, (xs, ys) in drawn.items():
            self.curves[name].setData(list(xs), list(ys))
        if key in self._stale:
            self._stale.discard(key)
            self.plots[key].setXRange(0, self._last_step, padding=0.02)
        if "peak_mem_mib" in drawn:
            ys = drawn["peak_mem_mib"][1]
            top = max([MEMORY_MIN_TOP_MIB, *(float(y) * 1.15 for y in ys)])
            self.plots["memory"].setYRange(0, top, padding=0)


def step_span(last: float) -> float:
    """The step axis's end for a run at step ``last``: 1, 2 or 5 times a power of ten."""
    span = 1.0
    while span < last:
        for factor in (2.0, 2.5, 2.0):  # 1 -> 2 -> 5 -> 10
            span *= factor
            if span >= last:
                break
    return span


def _white(widget: QWidget) -> QWidget:
    """``widget`` with a white background, as the plots it holds (no grey flash around them)."""
    widget.setAutoFillBackground(True)
    palette = widget.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor("white"))
    widget.setPalette(palette)
    return widget
