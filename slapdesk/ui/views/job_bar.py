"""A status-bar strip showing the running job: message, progress bar and a Stop button."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget


class JobBarView(QWidget):
    """Shows one long job at a time; ``cancel_clicked`` asks it to stop."""

    cancel_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the strip (hidden until a job starts)."""
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Stop")
        self.cancel_button.setToolTip("Stop this job; what is done so far is kept")
        self.cancel_button.clicked.connect(self.cancel_clicked)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.hide()

    def start(self, title: str) -> None:
        """Show a new job with unknown progress."""
        self.label.setText(title)
        self.bar.setRange(0, 0)
        self.cancel_button.setEnabled(True)
        self.show()

    def update_progress(self, done: int, total: int | None, message: str) -> None:
        """Move the bar; ``total`` None keeps it busy-animated."""
        if total:
            self.bar.setRange(0, max(total, 1))
            self.bar.setValue(min(done, total))
            self.bar.setFormat(f"{done:,} / {total:,}")
        else:
            self.bar.setRange(0, 0)
        if message:
            self.label.setText(message)

    def stopping(self) -> None:
        """The user pressed Stop; the job has not returned yet."""
        self.cancel_button.setEnabled(False)
        self.label.setText("Stopping…")

    def finish(self) -> None:
        """Hide the strip."""
        self.hide()
