"""Preview player: play / pause / seek one track with QtMultimedia."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QIcon
from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QStyle, QWidget

from slapdesk.ui.track_table_model import format_duration


class PlayerView(QWidget):
    """A compact transport bar. ``error`` carries a readable message when playback fails."""

    error = Signal(str)

    def __init__(self, volume: float = 0.8, parent: QWidget | None = None) -> None:
        """Build the bar and its media player."""
        super().__init__(parent)
        self.player = QMediaPlayer(self)
        self.audio = QAudioOutput(self)
        self.audio.setVolume(volume)
        self.player.setAudioOutput(self.audio)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        # Standard icons, not text glyphs: the pause glyph is an empty box in common fonts.
        self.play_button = QPushButton()
        self.play_button.setIcon(self._icon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.setFixedWidth(40)
        self.play_button.setToolTip("Play / pause")
        self.play_button.setEnabled(False)
        self.position = QLabel("0:00")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setEnabled(False)
        self.length = QLabel("0:00")
        self.now_playing = QLabel("Nothing playing")
        self.now_playing.setMinimumWidth(200)
        for widget in (self.play_button, self.position):
            layout.addWidget(widget)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.length)
        layout.addWidget(self.now_playing, 1)
        self.play_button.clicked.connect(self.toggle)
        self.slider.sliderMoved.connect(self.seek)
        self.player.positionChanged.connect(self._on_position)
        self.player.durationChanged.connect(self._on_duration)
        self.player.playbackStateChanged.connect(self._on_state)
        self.player.errorOccurred.connect(self._on_error)
        self.player.mediaStatusChanged.connect(self._on_media_status)
        self._title = ""
        self._pending_ms = 0  # where to start once the file is loaded

    def load(self, path: str, title: str, autoplay: bool = True, start_s: float = 0.0) -> None:
        """Open a file (and start playing it, from ``start_s`` seconds)."""
        self._title = title or Path(path).name
        self._pending_ms = max(0, round(start_s * 1000))
        self.player.setSource(QUrl.fromLocalFile(path))
        if self._pending_ms:
            self.player.setPosition(self._pending_ms)
        self.now_playing.setText(self._title)
        self.play_button.setEnabled(True)
        self.slider.setEnabled(True)
        if autoplay:
            self.player.play()

    @property
    def source(self) -> str:
        """The file loaded, or ""."""
        return self.player.source().toLocalFile()

    def toggle(self) -> None:
        """Play if paused, pause if playing."""
        if self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState:
            self.player.pause()
        else:
            self.player.play()

    def seek(self, position_ms: int) -> None:
        """Jump to a position."""
        self.player.setPosition(position_ms)

    def stop(self) -> None:
        """Stop playback."""
        self.player.stop()

    @property
    def pending_start_ms(self) -> int:
        """The start position still to apply once the file is loaded (0: none)."""
        return self._pending_ms

    def _on_media_status(self, status: QMediaPlayer.MediaStatus) -> None:
        # A position set before the file is loaded may be dropped: set it again once loaded.
        loaded = (QMediaPlayer.MediaStatus.LoadedMedia, QMediaPlayer.MediaStatus.BufferedMedia)
        if status in loaded and self._pending_ms:
            self.player.setPosition(self._pending_ms)
            self._pending_ms = 0

    def _on_position(self, position_ms: int) -> None:
        if not self.slider.isSliderDown():
            self.slider.setValue(position_ms)
        self.position.setText(format_duration(position_ms / 1000))

    def _icon(self, which: QStyle.StandardPixmap) -> QIcon:
        return self.style().standardIcon(which)

    def _on_duration(self, duration_ms: int) -> None:
        self.slider.setRange(0, max(duration_ms, 0))
        self.length.setText(format_duration(duration_ms / 1000))

    def _on_state(self, state: QMediaPlayer.PlaybackState) -> None:
        playing = state == QMediaPlayer.PlaybackState.PlayingState
        pixmap = QStyle.StandardPixmap
        icon = pixmap.SP_MediaPause if playing else pixmap.SP_MediaPlay
        self.play_button.setIcon(self._icon(icon))
        self.play_button.setAccessibleName("Pause" if playing else "Play")

    def _on_error(self, _error: QMediaPlayer.Error, message: str) -> None:
        self.error.emit(f"Cannot play {self._title}: {message or 'unknown error'}")
