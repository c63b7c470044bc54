"""Preview player: transport, seek and volume for one track at a time, with QtMultimedia.

The view plays what it is given; what comes next is ``slapdesk.ui.playback``'s business.

Every command that changes what the media player does (source, play, pause, stop, position,
output device) is queued and carried out by the event loop, never called from Python. Qt's
FFmpeg backend tears its audio engine down in its own thread, under Qt's connection lock, and
that thread can need the GIL (the binding asks the Python wrappers for overrides). A command
called from Python holds the GIL while it waits for the same lock: the window froze for good,
caught five times in the UI tests. Called from the event loop, the command runs with the GIL
free.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

from PySide6.QtCore import Q_ARG, QEventLoop, QMetaObject, QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QIcon
from PySide6.QtMultimedia import QAudioOutput, QMediaDevices, QMediaPlayer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QProxyStyle,
    QPushButton,
    QSizePolicy,
    QSlider,
    QStyle,
    QStyleHintReturn,
    QStyleOption,
    QToolButton,
    QWidget,
)

from slapdesk.ui.track_table_model import format_duration

NO_DEVICE_NOTE = "No sound output: playing silently"
_NO_DEVICE_TIP = ("This computer has no sound output device that SlapDesk can use. Connect "
                  "speakers or headphones; SlapDesk uses them as soon as they appear.")

# What went wrong, for people; Qt's own message is "Could not open file" for all of these.
_ERRORS = {
    QMediaPlayer.Error.FormatError: "not a readable audio file",
    QMediaPlayer.Error.AccessDeniedError: "no permission to read the file",
    QMediaPlayer.Error.NetworkError: "the file could not be reached",
}


def playback_error(error: QMediaPlayer.Error, path: str) -> str:
    """The sentence for a playback error of the file at ``path``."""
    if error == QMediaPlayer.Error.ResourceError:
        return "the file could not be opened" if os.path.exists(path) else \
            "the file is no longer there"
    return _ERRORS.get(error, "the file could not be played")


class _JumpStyle(QProxyStyle):
    """Sliders jump to where they are clicked (not one page towards it), then drag from there."""

    def styleHint(self, hint: QStyle.StyleHint, option: QStyleOption | None = None,  # noqa: N802
                  widget: QWidget | None = None, returned: QStyleHintReturn | None = None) -> int:
        """Left click sets the absolute position."""
        if hint == QStyle.StyleHint.SH_Slider_AbsoluteSetButtons:
            return int(Qt.MouseButton.LeftButton.value)
        return super().styleHint(hint, option, widget, returned)


def _slider(maximum: int, tip: str) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    style = _JumpStyle(slider.style().name())
    style.setParent(slider)  # setStyle does not own it: without a parent Python may free it
    slider.setStyle(style)
    slider.setRange(0, maximum)
    slider.setToolTip(tip)
    return slider


def _answer_override_checks_now(*objects: QObject) -> None:
    """Have the binding ask now, in the GUI thread, whether Python overrides (dis)connectNotify.

    Qt's audio thread disconnects from them while it tears an engine down, holding Qt's
    connection lock. The first lookup needs the GIL, and a GUI thread that holds the GIL
    while waiting for that lock would deadlock (see the module's note). Once answered, the
    binding remembers that there is no override and does not take the GIL again: a second
    guard, for Python code that still touches the player (a signal connected from Python).
    """
    for obj in objects:
        obj.objectNameChanged.connect(_ignore)
        obj.objectNameChanged.disconnect(_ignore)


def _ignore(*_args: object) -> None:
    """A slot that does nothing."""


def _queued_call(target: QObject, method: str, *args: object) -> None:
    """Have the event loop call ``target.method(*args)`` (see the module's note)."""
    QMetaObject.invokeMethod(target, method, Qt.ConnectionType.QueuedConnection, *args)


class PlayerView(QWidget):
    """A compact transport bar.

    Signals: ``error(message)`` when a file cannot be played, ``ended()`` when a track played
    to its end, ``next_clicked()`` / ``previous_clicked()``, ``volume_changed(0..1)``,
    ``queue_cleared()`` when the user empties the "Play next" queue, ``queue_chosen(index)``
    when they pick a queued track to play now.
    """

    error = Signal(str)
    ended = Signal()
    next_clicked = Signal()
    previous_clicked = Signal()
    volume_changed = Signal(float)
    queue_cleared = Signal()
    queue_chosen = Signal(int)

    def __init__(self, volume: float = 0.8, parent: QWidget | None = None) -> None:
        """Build the bar and its media player."""
        super().__init__(parent)
        self.player = QMediaPlayer(self)
        self.audio = QAudioOutput(self)
        _answer_override_checks_now(self.player, self.audio)
        self.audio.setVolume(volume)
        self.player.setAudioOutput(self.audio)
        self._build(volume)
        self._connect()
        self._devices = QMediaDevices(self)
        self._devices.audioOutputsChanged.connect(self._outputs_changed)
        self._title = ""
        self._source = ""  # what was asked for; the player's own source follows once queued
        self._pending_ms = 0  # where to start once the file is loaded
        self._outputs_changed()

    def _build(self, volume: float) -> None:
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        # Standard icons, not text glyphs: the pause glyph is an empty box in common fonts.
        self.previous_button = self._button(QStyle.StandardPixmap.SP_MediaSkipBackward,
                                            "Previous track")
        self.play_button = self._button(QStyle.StandardPixmap.SP_MediaPlay, "Play / pause")
        self.next_button = self._button(QStyle.StandardPixmap.SP_MediaSkipForward, "Next track")
        self.slider = _slider(0, "Click or drag to move through the track")
        self.slider.setEnabled(False)
        self.time = QLabel("0:00 / 0:00")
        self.time.setMinimumWidth(self.time.fontMetrics().horizontalAdvance("00:00 / 00:00"))
        speaker = QLabel()
        speaker.setPixmap(self._icon(QStyle.StandardPixmap.SP_MediaVolume).pixmap(16, 16))
        self.volume = _slider(100, "Volume")
        self.volume.setValue(round(volume * 100))
        self.volume.setFixedWidth(80)
        self.now_playing = QLabel("Nothing playing")
        self.now_playing.setMinimumWidth(120)
        # A long title is cut, never widens the window past a small screen.
        self.now_playing.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.queue_button = self._queue_button()
        self.device_note = QLabel(NO_DEVICE_NOTE)
        self.device_note.setStyleSheet("color:#8a5a00;")
        self.device_note.setToolTip(_NO_DEVICE_TIP)
        for widget in (self.previous_button, self.play_button, self.next_button):
            layout.addWidget(widget)
        layout.addWidget(self.slider, 3)
        layout.addWidget(self.time)
        layout.addWidget(speaker)
        layout.addWidget(self.volume)
        layout.addWidget(self.now_playing, 2)
        layout.addWidget(self.queue_button)
        layout.addWidget(self.device_note)

    def _button(self, icon: QStyle.StandardPixmap, tip: str) -> QPushButton:
        button = QPushButton()
        button.setIcon(self._icon(icon))
        button.setFixedWidth(36)
        button.setToolTip(tip)
        button.setAccessibleName(tip)
        button.setEnabled(False)
        return button

    def _queue_button(self) -> QToolButton:
        button = QToolButton()
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        button.setToolTip("The tracks queued with Play next: they play before the results go "
                          "on. Pick one to play it now.")
        button.setMenu(QMenu(button))
        button.hide()
        return button

    def show_queue(self, titles: list[str], total: int) -> None:
        """Show the "Play next" queue: its first ``titles`` of ``total`` (hidden when empty)."""
        self.queue_button.setVisible(total > 0)
        self.queue_button.setText(f"Up next: {total}")
        self.queue_button.setAccessibleName(f"{total} tracks queued to play next")
        menu = self.queue_button.menu()
        menu.clear()
        for index, title in enumerate(titles):
            menu.addAction(f"{index + 1}. {title}", partial(self.queue_chosen.emit, index))
        if total > len(titles):
            menu.addAction(f"… and {total - len(titles)} more").setEnabled(False)
        menu.addSeparator()
        menu.addAction("Clear the queue", self.queue_cleared.emit)

    def _connect(self) -> None:
        self.play_button.clicked.connect(self.toggle)
        self.next_button.clicked.connect(self.next_clicked)
        self.previous_button.clicked.connect(self.previous_clicked)
        self.slider.sliderMoved.connect(self._preview_position)
        self.slider.sliderReleased.connect(self._seek_to_slider)
        self.slider.actionTriggered.connect(self._slider_action)
        self.volume.valueChanged.connect(self._volume_moved)
        self.player.positionChanged.connect(self._on_position)
        self.player.durationChanged.connect(self._on_duration)
        self.player.playbackStateChanged.connect(self._on_state)
        self.player.errorOccurred.connect(self._on_error)
        self.player.mediaStatusChanged.connect(self._on_media_status)

    # ---- commands ----------------------------------------------------------------------------
    def _queue(self, method: str, *args: object) -> None:
        """Have the event loop call ``method`` on the media player (see the module's note)."""
        _queued_call(self.player, method, *args)

    def load(self, path: str, title: str, autoplay: bool = True, start_s: float = 0.0) -> None:
        """Open a file (and start playing it, from ``start_s`` seconds)."""
        self._title = title or Path(path).name
        self._source = path
        self._pending_ms = max(0, round(start_s * 1000))
        self._queue("setSource", Q_ARG(QUrl, QUrl.fromLocalFile(path)))
        if self._pending_ms:
            self._queue_position(self._pending_ms)
        self.now_playing.setText(self._title)
        self.now_playing.setToolTip(f"{self._title}\n{path}")
        for widget in (self.play_button, self.next_button, self.previous_button, self.slider):
            widget.setEnabled(True)
        if autoplay:
            self._queue("play")

    @property
    def source(self) -> str:
        """The file loaded (or queued to load), or ""."""
        return self._source

    @property
    def playing(self) -> bool:
        """True while a track plays (not paused, not stopped)."""
        return self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState

    def toggle(self) -> None:
        """Play if paused, pause if playing."""
        if self.playing:
            self._queue("pause")
        elif self.source:
            self._queue("play")

    def seek(self, position_ms: int) -> None:
        """Jump to a position."""
        self._queue_position(max(0, position_ms))

    def _queue_position(self, position_ms: int) -> None:
        self._queue("setPosition", Q_ARG("qint64", position_ms))

    def stop(self) -> None:
        """Stop playback (queued, so a stop never waits on Qt's audio thread with the GIL)."""
        self._queue("stop")

    def stop_and_wait(self, timeout_ms: int = 1000) -> None:
        """Stop, and let the event loop carry the stop out before returning (at most timeout_ms).

        For a window's close: after it the application may quit before the event loop turns
        again, and a player destroyed while it plays stops from Python, holding the GIL.
        """
        if self.player.playbackState() == QMediaPlayer.PlaybackState.StoppedState:
            return
        waiting = QEventLoop()
        self.player.playbackStateChanged.connect(waiting.quit)
        give_up = QTimer(waiting)  # owned by the loop: it cannot fire after this returns
        give_up.setSingleShot(True)
        give_up.timeout.connect(waiting.quit)
        give_up.start(timeout_ms)
        self.stop()
        waiting.exec()  # the binding lets the GIL go while a Qt event loop runs
        self.player.playbackStateChanged.disconnect(waiting.quit)

    @property
    def pending_start_ms(self) -> int:
        """The start position still to apply once the file is loaded (0: none)."""
        return self._pending_ms

    # ---- slider and volume -------------------------------------------------------------------
    def _preview_position(self, position_ms: int) -> None:
        # While dragging, show where the handle is; the player moves when it is let go.
        self._show_time(position_ms, self.player.duration())

    def _seek_to_slider(self) -> None:
        self.seek(self.slider.sliderPosition())

    def _slider_action(self, action: int) -> None:
        # Clicks and keys move the handle; a drag (SliderMove) waits for the release.
        if action != QSlider.SliderAction.SliderMove.value and not self.slider.isSliderDown():
            self.seek(self.slider.sliderPosition())

    def _volume_moved(self, value: int) -> None:
        self.audio.setVolume(value / 100)
        self.volume_changed.emit(value / 100)

    # ---- player events -----------------------------------------------------------------------
    def _on_media_status(self, status: QMediaPlayer.MediaStatus) -> None:
        # A position set before the file is loaded may be dropped: set it again once loaded.
        loaded = (QMediaPlayer.MediaStatus.LoadedMedia, QMediaPlayer.MediaStatus.BufferedMedia)
        if status in loaded and self._pending_ms:
            self._queue_position(self._pending_ms)
            self._pending_ms = 0
        if status == QMediaPlayer.MediaStatus.EndOfMedia:
            self.ended.emit()

    def _on_position(self, position_ms: int) -> None:
        if not self.slider.isSliderDown():
            self.slider.setValue(position_ms)
            self._show_time(position_ms, self.player.duration())

    def _show_time(self, position_ms: int, duration_ms: int) -> None:
        self.time.setText(f"{format_duration(position_ms / 1000)} / "
                          f"{format_duration(max(duration_ms, 0) / 1000)}")

    def _icon(self, which: QStyle.StandardPixmap) -> QIcon:
        return self.style().standardIcon(which)

    def _on_duration(self, duration_ms: int) -> None:
        self.slider.setRange(0, max(duration_ms, 0))
        self.slider.setPageStep(max(duration_ms // 20, 1000))
        self._show_time(self.player.position(), duration_ms)

    def _on_state(self, state: QMediaPlayer.PlaybackState) -> None:
        playing = state == QMediaPlayer.PlaybackState.PlayingState
        pixmap = QStyle.StandardPixmap
        icon = pixmap.SP_MediaPause if playing else pixmap.SP_MediaPlay
        self.play_button.setIcon(self._icon(icon))
        self.play_button.setAccessibleName("Pause" if playing else "Play")

    def _on_error(self, error: QMediaPlayer.Error, _message: str) -> None:
        self.error.emit(f"Cannot play {self._title}: {playback_error(error, self.source)}.")

    def _outputs_changed(self) -> None:
        # Without an output Qt plays silently and says nothing: say it here, in words.
        outputs = QMediaDevices.audioOutputs()
        self.device_note.setVisible(not outputs)
        if outputs:
            device = QMediaDevices.defaultAudioOutput()
            _queued_call(self.audio, "setDevice", Q_ARG(type(device), device))

    @property
    def has_output(self) -> bool:
        """Whether a sound output device exists now."""
        return self.device_note.isHidden()
