"""Track details: current tags and the model's tag scores as a bar chart."""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from slapdesk.library.autotag.review import own_fields
from slapdesk.library.store.track_rows import TrackRow
from slapdesk.library.tags.formats import display_name
from slapdesk.library.tags.reasons import plain_reason
from slapdesk.ui.track_table_model import format_duration

_FIELDS = (
    ("Artist", "artist"), ("Album", "album"), ("Album artist", "albumartist"),
    ("Genre", "genre"), ("Mood", "mood"), ("Year", "year"), ("Track", "track_number"),
    ("BPM", "bpm"), ("Length", "duration"), ("Format", "format"), ("File", "path"),
)  # fmt: skip
MAX_BARS = 10


def _value(track: TrackRow, key: str) -> str:
    if key == "duration":
        return format_duration(track.duration)
    if key == "format":
        rate = f", {track.sample_rate / 1000:g} kHz" if track.sample_rate else ""
        return f"{display_name(track.format, track.codec)}{rate}"
    value = getattr(track, key)
    if isinstance(value, tuple):
        return ", ".join(value)
    if isinstance(value, float):
        return f"{value:g}"
    return "" if value is None else str(value)


class DetailsView(QWidget):
    """Shows one track; ``play_clicked`` / ``more_like_this_clicked`` carry its id."""

    play_clicked = Signal(int)
    more_like_this_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the panel (empty until ``show_track``)."""
        super().__init__(parent)
        self._track_id: int | None = None
        layout = QVBoxLayout(self)
        self.title = QLabel("<i>No track selected</i>")
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.title)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self._values: dict[str, QLabel] = {}
        for label, key in _FIELDS:
            value = QLabel()
            value.setWordWrap(True)
            # A long word (a folder name) is cut here rather than widening the whole window.
            value.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(f"{label}:", value)
            self._values[key] = value
        # What auto-tagging wrote into the file (SLAPDESK_GENRE …), as a tag editor names it.
        self.own_tags = QLabel()
        self.own_tags.setWordWrap(True)
        self.own_tags.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.own_tags.setToolTip("The fields SlapDesk writes into the file; yours stay apart")
        layout.addLayout(form)
        # Below the form, full width: "SLAPDESK_INSTRUMENT:" in the form's value column would
        # widen the pane; one wrapped label keeps the pane short too.
        layout.addWidget(self.own_tags)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color:#a11;")
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        self.play_button = QPushButton("▶ Play")
        self.more_button = QPushButton("More like this")
        self.more_button.setToolTip("Find tracks that sound like this one")
        buttons.addWidget(self.play_button)
        buttons.addWidget(self.more_button)
        layout.addLayout(buttons)
        layout.addWidget(QLabel("<b>Tag scores</b> (model)"))
        # Made when the first scores are shown: a plot costs tens of ms of the window's launch.
        self.plot: pg.PlotWidget | None = None
        self._bars: pg.BarGraphItem | None = None
        self.no_scores = QLabel("<i>No tag scores yet: run auto-tag to see them.</i>")
        self.no_scores.setWordWrap(True)
        layout.addWidget(self.no_scores)
        layout.addStretch(1)  # keeps the labels packed at the top when there is no chart
        self.play_button.clicked.connect(self._play)
        self.more_button.clicked.connect(self._more)
        self.show_track(None)

    def show_track(self, track: TrackRow | None, scores: Sequence[tuple[str, float]] = (),
                   problem: str = "") -> None:
        """Fill the panel; ``scores`` are (tag, score) pairs, best first.

        ``problem`` says why the track is not music to play or compare (unreadable, silent):
        it is shown, and Play / More like this are off.
        """
        self._track_id = track.id if track else None
        self.play_button.setEnabled(track is not None and not problem)
        self.more_button.setEnabled(track is not None and not problem)
        if track is None:
            self.title.setText("<i>No track selected</i>")
            for label in self._values.values():
                label.clear()
            self.own_tags.setText("<b>SlapDesk tags:</b> —")
            self.error.hide()
        else:
            artist = f" — {track.artist}" if track.artist else ""
            self.title.setText(f"<h3>{_escape(track.display_title)}{_escape(artist)}</h3>")
            for key, label in self._values.items():
                label.setText(_value(track, key))
            self._values["path"].setToolTip(track.path)
            own = own_fields(track.tags)
            lines = [f"{name}: {_escape('; '.join(values))}"
                     for name, values in sorted(own.items())]
            self.own_tags.setText(f"<b>SlapDesk tags:</b> {'<br>'.join(lines) or '—'}")
            reason = problem or plain_reason(track.error)
            self.error.setText(reason[:1].upper() + reason[1:])
            self.error.setVisible(bool(reason))
        self.set_scores(scores)

    def _make_plot(self) -> pg.PlotWidget:
        plot = pg.PlotWidget(background="w")
        plot.setMinimumHeight(160)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.setXRange(0, 1)
        plot.getAxis("bottom").setLabel("score")
        plot.getAxis("left").setStyle(hideOverlappingLabels=False)
        plot.getAxis("bottom").enableAutoSIPrefix(False)
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(layout.indexOf(self.no_scores), plot, 3)
        return plot

    def set_scores(self, scores: Sequence[tuple[str, float]]) -> None:
        """Draw horizontal bars, best score at the top."""
        if self._bars is not None and self.plot is not None:
            self.plot.removeItem(self._bars)
            self._bars = None
        top = list(scores)[:MAX_BARS]
        self.no_scores.setVisible(not top)
        if self.plot is not None:
            self.plot.setVisible(bool(top))
        if not top:
            return
        if self.plot is None:
            self.plot = self._make_plot()
        ys = list(range(len(top)))[::-1]
        widths = [max(0.0, float(s)) for _, s in top]
        self._bars = pg.BarGraphItem(x0=0, y=ys, height=0.7, width=widths,
                                     brush=pg.mkBrush(70, 130, 200), pen=pg.mkPen(None))
        self.plot.addItem(self._bars)
        self.plot.getAxis("left").setTicks([[(y, tag) for y, (tag, _) in zip(ys, top,
                                                                            strict=True)]])
        self.plot.setYRange(-0.6, len(top) - 0.4)
        # Calibrated scores share 1 across a vocabulary, so they are often small: scale to fit.
        self.plot.setXRange(0, max(widths) * 1.15 or 1.0)

    @property
    def track_id(self) -> int | None:
        """The track shown, if any."""
        return self._track_id

    def _play(self) -> None:
        if self._track_id is not None:
            self.play_clicked.emit(self._track_id)

    def _more(self) -> None:
        if self._track_id is not None:
            self.more_like_this_clicked.emit(self._track_id)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def scrolling(details: QWidget) -> QScrollArea:
    """``details`` in a vertical scroll area: a long path or many tags never get cut off."""
    area = QScrollArea()
    area.setWidget(details)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return area
