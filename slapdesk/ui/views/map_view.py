"""The embedding map: a pyqtgraph scatter of the library's 2-D projection.

Hover shows the track, a click plays it, and a lasso (drag with the left button while "Lasso" is
on, or with Shift held) selects tracks for a playlist or for tagging.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QPolygonF
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

# Colour-blind-safe qualitative palette (Okabe–Ito), then greys for the rest.
PALETTE = ((230, 159, 0), (86, 180, 233), (0, 158, 115), (240, 228, 66), (0, 114, 178),
           (213, 94, 0), (204, 121, 167), (120, 120, 120))  # fmt: skip
NO_VALUE = (200, 200, 200)
COLOUR_MODES = (("genre", "Genre (from tags)"), ("mood", "Mood (from tags)"),
                ("results", "Current search results"))  # fmt: skip


class LassoViewBox(pg.ViewBox):
    """A ViewBox whose left-drag draws a lasso instead of panning (when enabled or with Shift)."""

    def __init__(self, on_lasso, **kwargs) -> None:
        """``on_lasso(QPolygonF)`` gets the finished lasso in data coordinates."""
        super().__init__(**kwargs)
        self.lasso_enabled = False
        self._on_lasso = on_lasso
        self._points: list[QPointF] = []
        self._curve = pg.PlotCurveItem(pen=pg.mkPen((40, 40, 40), width=1.5,
                                                    style=Qt.PenStyle.DashLine))
        self._curve.setZValue(10)
        self.addItem(self._curve, ignoreBounds=True)

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 (pyqtgraph override)
        """Draw the lasso; otherwise pan as usual."""
        lasso = self.lasso_enabled or bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if ev.button() != Qt.MouseButton.LeftButton or not lasso:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        point = self.mapSceneToView(ev.scenePos())
        if ev.isStart():
            self._points = [point]
        else:
            self._points.append(point)
        xs = [p.x() for p in self._points] + [self._points[0].x()]
        ys = [p.y() for p in self._points] + [self._points[0].y()]
        self._curve.setData(xs, ys)
        if ev.isFinish():
            self._on_lasso(QPolygonF(self._points))

    def clear_lasso(self) -> None:
        """Remove the drawn outline."""
        self._points = []
        self._curve.setData([], [])


def points_inside(xy: np.ndarray, polygon: QPolygonF) -> np.ndarray:
    """Boolean mask of the rows of ``xy`` inside ``polygon`` (odd-even rule)."""
    if len(xy) == 0 or polygon.size() < 3:
        return np.zeros(len(xy), dtype=bool)
    bounds = polygon.boundingRect()
    inside = np.zeros(len(xy), dtype=bool)
    box = ((xy[:, 0] >= bounds.left()) & (xy[:, 0] <= bounds.right())
           & (xy[:, 1] >= bounds.top()) & (xy[:, 1] <= bounds.bottom()))
    for row in np.flatnonzero(box):
        inside[row] = polygon.containsPoint(QPointF(*map(float, xy[row])), Qt.FillRule.OddEvenFill)
    return inside


class MapView(QWidget):
    """The scatter and its controls.

    Signals: ``track_clicked(id)``, ``hovered(id)`` (-1 when leaving), ``selection_changed(ids)``,
    ``colour_mode_changed(mode)``, ``playlist_requested(ids)``, ``show_requested(ids)``,
    ``tag_requested(ids)``, ``refresh_requested()``.
    """

    track_clicked = Signal(int)
    hovered = Signal(int)
    selection_changed = Signal(list)
    colour_mode_changed = Signal(str)
    playlist_requested = Signal(list)
    show_requested = Signal(list)
    tag_requested = Signal(list)
    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build an empty map."""
        super().__init__(parent)
        self.ids = np.empty(0, np.int64)
        self.xy = np.empty((0, 2), np.float32)
        self.selected = np.zeros(0, dtype=bool)
        self._labels: dict[int, str] = {}
        layout = QVBoxLayout(self)
        controls = QHBoxLayout()
        self.colour_by = QComboBox()
        for key, label in COLOUR_MODES:
            self.colour_by.addItem(label, key)
        self.lasso_button = QPushButton("Lasso")
        self.lasso_button.setCheckable(True)
        self.lasso_button.setToolTip("Drag to select tracks (or hold Shift while dragging)")
        self.refresh_button = QPushButton("Refresh")
        self.playlist_button = QPushButton("Selection → playlist…")
        self.show_button = QPushButton("Show selection")
        self.tag_button = QPushButton("Tag selection…")
        controls.addWidget(QLabel("Colour by:"))
        controls.addWidget(self.colour_by)
        controls.addWidget(self.lasso_button)
        controls.addStretch(1)
        controls.addWidget(self.refresh_button)
        layout.addLayout(controls)
        # What to do with a selection: a row of its own keeps the view narrow enough for a
        # 1024 px screen beside the sidebar and the details.
        actions = QHBoxLayout()
        actions.addWidget(QLabel("Selection:"))
        for button in (self.show_button, self.playlist_button, self.tag_button):
            actions.addWidget(button)
        actions.addStretch(1)
        layout.addLayout(actions)
        self.viewbox = LassoViewBox(self._lasso_done)
        self.plot = pg.PlotWidget(viewBox=self.viewbox, background="w")
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setAspectLocked(False)
        self.scatter = pg.ScatterPlotItem(size=9, hoverable=True, tip=None,
                                          hoverPen=pg.mkPen("k", width=2))
        self.plot.addItem(self.scatter)
        self.legend = self.plot.addLegend(offset=(10, 10))
        layout.addWidget(self.plot, 1)
        self.info = QLabel("No sound embeddings yet: the map appears once tracks are embedded.")
        self.info.setWordWrap(True)  # a long note must not set the window's minimum width
        layout.addWidget(self.info)
        self.colour_by.currentIndexChanged.connect(self._colour_mode)
        self.lasso_button.toggled.connect(self._set_lasso)
        self.refresh_button.clicked.connect(self.refresh_requested)
        self.playlist_button.clicked.connect(self._request_playlist)
        self.show_button.clicked.connect(self._request_show)
        self.tag_button.clicked.connect(self._request_tags)
        self.scatter.sigClicked.connect(self._clicked)
        self.scatter.sigHovered.connect(self._hovered)
        self._colours: list[tuple[int, int, int]] = []
        self._legend: list[tuple[str, tuple[int, int, int]]] = []
        self._update_buttons()

    # ---- data --------------------------------------------------------------------------------
    def set_points(self, ids: np.ndarray, xy: np.ndarray, labels: dict[int, str]) -> None:
        """Show a projection; ``labels`` maps id -> "Artist – Title" for hover text."""
        self.ids = np.asarray(ids, np.int64)
        self.xy = np.asarray(xy, np.float32).reshape(-1, 2)
        self.selected = np.zeros(len(self.ids), dtype=bool)
        self._labels = dict(labels)
        self.viewbox.clear_lasso()
        self.info.setText(
            f"{len(self.ids):,} tracks" if len(self.ids)
            else "No sound embeddings yet: the map appears once tracks are embedded."
        )
        self.set_colours([NO_VALUE] * len(self.ids))
        self.plot.autoRange()
        self._update_buttons()

    @property
    def colour_mode(self) -> str:
        """The chosen colouring ("genre", "mood" or "results")."""
        return str(self.colour_by.currentData())

    def colour_by_category(self, values: Sequence[str]) -> None:
        """Colour points by a category per point (most common categories get colours)."""
        counts: dict[str, int] = {}
        for value in values:
            if value:
                counts[value] = counts.get(value, 0) + 1
        top = sorted(counts, key=lambda v: (-counts[v], v))[: len(PALETTE) - 1]
        colour_of = {value: PALETTE[i] for i, value in enumerate(top)}
        other = PALETTE[-1]
        colours = [colour_of.get(v, other if v else NO_VALUE) for v in values]
        legend = [(v, colour_of[v]) for v in top]
        if len(counts) > len(top):
            legend.append(("other", other))
        self.set_colours(colours, legend)

    def colour_by_score(self, scores: dict[int, float]) -> None:
        """Colour points by a score per track id (tracks without a score are grey)."""
        if not scores:
            self.set_colours([NO_VALUE] * len(self.ids))
            return
        values = np.array([scores.get(int(i), np.nan) for i in self.ids], dtype=np.float64)
        known = values[~np.isnan(values)]
        low, high = (float(known.min()), float(known.max())) if len(known) else (0.0, 1.0)
        span = (high - low) or 1.0
        colormap = pg.colormap.get("viridis")
        colours = []
        for value in values:
            if np.isnan(value):
                colours.append(NO_VALUE)
            else:
                colour = colormap.map((value - low) / span, mode="byte")
                colours.append(tuple(int(c) for c in colour[:3]))
        self.set_colours(colours, [("best match", colormap.map(1.0, mode="byte")[:3]),
                                   ("weakest", colormap.map(0.0, mode="byte")[:3])])

    def set_colours(self, colours: Sequence[tuple[int, int, int]],
                    legend: Sequence[tuple[str, tuple[int, int, int]]] = ()) -> None:
        """Redraw every point with its colour (selected points get a black outline)."""
        brushes = [pg.mkBrush(*c, 220) for c in colours]
        pens = [pg.mkPen("k", width=1.5) if s else pg.mkPen(None) for s in self.selected]
        self.scatter.setData(pos=self.xy, data=self.ids, brush=brushes, pen=pens, size=9)
        self._colours = list(colours)
        self._legend = list(legend)
        self.legend.clear()
        for label, colour in legend:
            item = pg.ScatterPlotItem(brush=pg.mkBrush(*colour), pen=None, size=9)
            self.legend.addItem(item, label)

    # ---- selection ---------------------------------------------------------------------------
    def selection(self) -> list[int]:
        """Ids of the selected tracks."""
        return [int(i) for i in self.ids[self.selected]]

    def select_polygon(self, polygon: QPolygonF) -> list[int]:
        """Select the points inside ``polygon`` (data coordinates); returns their ids."""
        self.selected = points_inside(self.xy, polygon)
        self.set_colours(self._colours, self._legend)  # the colouring and its legend stay
        self._update_buttons()
        chosen = self.selection()
        self.info.setText(f"{len(chosen):,} of {len(self.ids):,} tracks selected")
        self.selection_changed.emit(chosen)
        return chosen

    def _request_playlist(self) -> None:
        self.playlist_requested.emit(self.selection())

    def _request_show(self) -> None:
        self.show_requested.emit(self.selection())

    def _request_tags(self) -> None:
        self.tag_requested.emit(self.selection())

    def _lasso_done(self, polygon: QPolygonF) -> None:
        self.select_polygon(polygon)

    def _set_lasso(self, on: bool) -> None:
        self.viewbox.lasso_enabled = on

    def _update_buttons(self) -> None:
        has = bool(self.selected.any()) if len(self.selected) else False
        for button in (self.playlist_button, self.show_button, self.tag_button):
            button.setEnabled(has)

    # ---- pointer -----------------------------------------------------------------------------
    def _clicked(self, _item, points, _ev=None) -> None:
        if len(points):
            self.track_clicked.emit(int(points[0].data()))

    def _hovered(self, _item, points, _ev=None) -> None:
        if len(points):
            track_id = int(points[0].data())
            self.scatter.setToolTip(self._labels.get(track_id, f"Track {track_id}"))
            self.hovered.emit(track_id)
        else:
            self.scatter.setToolTip("")
            self.hovered.emit(-1)

    def _colour_mode(self, _index: int) -> None:
        self.colour_mode_changed.emit(self.colour_mode)
