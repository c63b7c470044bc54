"""A dismissable message that floats over the bottom of the window's content.

It floats instead of taking a row of the layout: a strip that appears above the content pushes
everything down by its height, and the row the user was about to click moves away under the
mouse. Floating at the bottom, it leaves the search box and the tabs where they are. It
covers the bottom of the view while it shows, so news ("Tags written: 198 files changed", also
in the status bar) goes away by itself after a few seconds; an error stays until it is closed.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

_STYLES = {
    "error": "background:#fde2e1; color:#7a1c1c; border:1px solid #e8a3a0; border-radius:4px;",
    "info": "background:#e3eefc; color:#173b6d; border:1px solid #a9c4ec; border-radius:4px;",
}
_MARGIN = 8  # px between the message and the edges of the content it floats over
INFO_SECONDS = 6.0  # long enough to read two lines, short enough not to hide buttons for long


class MessageBarView(QFrame):
    """Shows the latest message; the user closes it (or the next message replaces it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the strip, hidden."""
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self._anchor: QWidget | None = None
        self._expiry = QTimer(self)
        self._expiry.setSingleShot(True)
        self._expiry.timeout.connect(self.hide)
        self.hide()

    def float_over(self, anchor: QWidget) -> None:
        """Float over the bottom of ``anchor`` (a child of this bar's parent), following it."""
        self._anchor = anchor
        anchor.installEventFilter(self)
        self._place()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        """Follow the anchor when it moves or resizes."""
        if watched is self._anchor and event.type() in (QEvent.Type.Resize, QEvent.Type.Move):
            self._place()
        return False

    def show_message(self, text: str, kind: str = "info") -> None:
        """Show ``text``; ``kind`` is "info" or "error"."""
        self.setStyleSheet(f"MessageBarView {{{_STYLES.get(kind, _STYLES['info'])}}}")
        self.label.setText(text)
        self.setProperty("kind", kind)
        self.show()
        self._place()
        self.raise_()
        if kind == "error":
            self._expiry.stop()
        else:
            self._expiry.start(round(INFO_SECONDS * 1000))

    @property
    def text(self) -> str:
        """The message shown now ("" when hidden)."""
        return "" if self.isHidden() else self.label.text()

    def _place(self) -> None:
        if self._anchor is None:
            return
        area = self._anchor.geometry()
        width = max(area.width() - 2 * _MARGIN, 100)
        wanted = self.heightForWidth(width) if self.hasHeightForWidth() else -1
        height = min(wanted if wanted > 0 else self.sizeHint().height(), area.height() // 2)
        self.setGeometry(area.left() + _MARGIN, area.bottom() - height - _MARGIN, width, height)
