"""First run: ask for music folders, then start the scan."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class WelcomeView(QWidget):
    """Emits ``start_requested(folders)`` when the user has chosen folders and pressed Start."""

    start_requested = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the page."""
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        box = QVBoxLayout()
        title = QLabel("<h1>Welcome to SlapDesk</h1>")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        intro = QLabel(
            "Point SlapDesk at your music folders. It reads every file's tags and listens to "
            "each track, so you can find songs by describing them and tag them automatically. "
            "Your files are only changed when you review and apply tags yourself; "
            "everything stays on this computer."
        )
        intro.setWordWrap(True)
        intro.setMaximumWidth(560)
        # A first-time user without music at hand should know there is something to try.
        self.demo_hint = QLabel(
            "No music at hand? Run <code>slapdesk demo</code> in a terminal: it builds a small "
            "library of generated tracks in every format (your own files are not touched) and "
            "opens SlapDesk on it."
        )
        self.demo_hint.setWordWrap(True)
        self.demo_hint.setMaximumWidth(560)
        self.folder_list = QListWidget()
        self.folder_list.setMaximumHeight(120)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add music folder…")
        self.remove_button = QPushButton("Remove")
        self.start_button = QPushButton("Start scanning")
        self.start_button.setDefault(True)
        self.start_button.setEnabled(False)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        for widget in (title, intro, self.folder_list):
            box.addWidget(widget)
        box.addLayout(buttons)
        box.addWidget(self.demo_hint)
        row = QHBoxLayout()
        row.addStretch(1)
        container = QWidget()
        container.setLayout(box)
        container.setMaximumWidth(600)
        row.addWidget(container)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self.add_button.clicked.connect(self._choose_folder)
        self.remove_button.clicked.connect(self._remove_selected)
        self.start_button.clicked.connect(self._start)

    def folders(self) -> list[str]:
        """The chosen folders."""
        return [self.folder_list.item(i).text() for i in range(self.folder_list.count())]

    def add_folder(self, folder: str) -> None:
        """Add a folder to the list (once)."""
        if folder and folder not in self.folders():
            self.folder_list.addItem(folder)
        self.start_button.setEnabled(bool(self.folders()))

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a music folder")
        self.add_folder(folder)

    def _remove_selected(self) -> None:
        for item in self.folder_list.selectedItems():
            self.folder_list.takeItem(self.folder_list.row(item))
        self.start_button.setEnabled(bool(self.folders()))

    def _start(self) -> None:
        if self.folders():
            self.start_requested.emit(self.folders())
