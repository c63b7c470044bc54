"""An inline, dismissable message strip at the top of the window (errors never pop tracebacks)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

_STYLES = {
    "error": "background:#fde2e1; color:#7a1c1c; border:1px solid #e8a3a0; border-radius:4px;",
    "info": "background:#e3eefc; color:#173b6d; border:1px solid #a9c4ec; border-radius:4px;",
}


class MessageBarView(QFrame):
    """Shows the latest message; the user closes it (or the next message replaces it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the strip, hidden."""
        super().__init__(parent)
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
        self.hide()

    def show_message(self, text: str, kind: str = "info") -> None:
        """Show ``text``; ``kind`` is "info" or "error"."""
        self.setStyleSheet(f"MessageBarView {{{_STYLES.get(kind, _STYLES['info'])}}}")
        self.label.setText(text)
        self.setProperty("kind", kind)
        self.show()

    @property
    def text(self) -> str:
        """The message shown now ("" when hidden)."""
        return "" if self.isHidden() else self.label.text()
