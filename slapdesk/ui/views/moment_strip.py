"""A thin strip under the results: how well each stretch of the selected track matches."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from slapdesk.library.search.moments import clock, span_label

_LOW = QColor(70, 110, 160)
_HIGH = QColor(255, 170, 40)
_LABEL_WIDTH = 44


def _blend(t: float) -> QColor:
    t = min(max(t, 0.0), 1.0)
    return QColor(
        round(_LOW.red() + (_HIGH.red() - _LOW.red()) * t),
        round(_LOW.green() + (_HIGH.green() - _LOW.green()) * t),
        round(_LOW.blue() + (_HIGH.blue() - _LOW.blue()) * t),
    )


class MomentStrip(QWidget):
    """Bars of window scores along the track's time; a click asks to play from there.

    ``seek_requested(seconds)`` carries the start of the window clicked.
    """

    seek_requested = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        """An empty strip (it shows a hint until ``set_scores``)."""
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)
        self._starts: list[float] = []
        self._scores: list[float] = []
        self._clip = 0.0
        self._duration = 0.0
        self._best: tuple[float, float] | None = None
        self._hint = "Search by sound and select a track to see where it matches."

    def sizeHint(self) -> QSize:  # noqa: N802
        """Thin: a row of bars and a line of times."""
        return QSize(400, 46)

    @property
    def windows(self) -> int:
        """How many windows are shown."""
        return len(self._starts)

    @property
    def best(self) -> tuple[float, float] | None:
        """(start, end) of the best moment shown, if any."""
        return self._best

    def set_scores(self, starts: Sequence[float], scores: Sequence[float], clip: float,
                   duration: float, best: tuple[float, float] | None) -> None:
        """Show one track's window scores (cosines) and its best moment."""
        self._starts = [float(s) for s in starts]
        self._scores = [float(s) for s in scores]
        self._clip = float(clip)
        ends = [s + self._clip for s in self._starts]
        self._duration = max([float(duration or 0.0), *ends, 1e-6])
        self._best = best
        self.setToolTip("Click to play from there; Enter on a result starts at its best moment")
        self.update()

    def clear(self, hint: str = "") -> None:
        """Show nothing but ``hint``."""
        self._starts, self._scores, self._best = [], [], None
        self._hint = hint
        self.setToolTip("")
        self.update()

    def seconds_at(self, x: float) -> float | None:
        """The start of the window under ``x`` (the highest-scoring one where they overlap)."""
        if not self._starts:
            return None
        width = max(self.width() - _LABEL_WIDTH, 1)
        t = (x - _LABEL_WIDTH) / width * self._duration
        covering = [k for k, s in enumerate(self._starts) if s <= t < s + self._clip]
        if not covering:
            return max(0.0, min(t, self._duration))
        return self._starts[max(covering, key=lambda k: self._scores[k])]

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        """Ask to play from the window clicked."""
        seconds = self.seconds_at(event.position().x())
        if seconds is not None and event.button() == Qt.MouseButton.LeftButton:
            self.seek_requested.emit(seconds)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802
        """Bars whose height and colour follow the window's score within this track."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.base())
        if not self._starts:
            painter.setPen(palette.placeholderText().color())
            painter.drawText(self.rect().adjusted(8, 0, -8, 0),
                             Qt.AlignmentFlag.AlignVCenter, self._hint)
            return
        painter.setPen(palette.text().color())
        painter.drawText(QRectF(0, 0, _LABEL_WIDTH - 4, 30),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, "match")
        width, top, height = self.width() - _LABEL_WIDTH, 3.0, 28.0
        low, high = min(self._scores), max(self._scores)
        span = max(high - low, 1e-6)
        scale = width / self._duration
        for start, score in zip(self._starts, self._scores, strict=True):
            t = (score - low) / span
            bar = max(3.0, height * (0.15 + 0.85 * t))
            rect = QRectF(_LABEL_WIDTH + start * scale, top + height - bar,
                          max(self._clip * scale - 1, 1.5), bar)
            painter.fillRect(rect, _blend(t))
        if self._best is not None:
            painter.setPen(QPen(palette.highlight().color(), 2))
            lo, hi = self._best
            painter.drawRect(QRectF(_LABEL_WIDTH + lo * scale, top - 1, (hi - lo) * scale,
                                    height + 2))
        painter.setPen(palette.text().color())
        painter.drawText(QRectF(_LABEL_WIDTH, 31, 60, 14), Qt.AlignmentFlag.AlignLeft, clock(0))
        painter.drawText(QRectF(self.width() - 60, 31, 60, 14), Qt.AlignmentFlag.AlignRight,
                         clock(self._duration))
        if self._best is not None:
            text = f"best {span_label(*self._best)} · click to play from there"
            painter.drawText(QRectF(_LABEL_WIDTH + 60, 31, width - 120, 14),
                             Qt.AlignmentFlag.AlignHCenter, text)
