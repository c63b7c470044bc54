"""What the player plays next: the tracks queued with "Play next", then the current results.

Next and previous walk the results table as it is shown now (its order, after sorting); a track
that ends moves on to the next one by itself. Next skips tracks that cannot be played (silent,
unreadable, damaged). "Play next" puts tracks right after the one that plays, ahead of anything
queued before. Previous goes back through what was played.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Slot

from slapdesk.library.autotag.review import track_problems
from slapdesk.library.store import track_rows
from slapdesk.library.store.database import ReadError

if TYPE_CHECKING:
    from slapdesk.ui.main_window import MainWindow

# Past this many seconds into a track, Previous starts it again (as most players do).
RESTART_AFTER_S = 3.0
# Rows checked at a time for a playable track (problem tracks are skipped).
_LOOK_AHEAD = 64
# Files in a row that may fail to open while the results play on by themselves; then it stops.
MAX_SKIPPED = 3
# The volume is saved once the slider rests this long (a drag would write the file 50 times).
SAVE_VOLUME_AFTER_MS = 400
# Queued tracks named in the player's "Up next" menu; the rest are counted.
QUEUE_SHOWN = 15


def _display(track: track_rows.TrackRow) -> str:
    return f"{track.artist} – {track.display_title}".strip(" –")


class Playback(QObject):
    """Plays tracks of ``window`` in its player and decides what comes next."""

    def __init__(self, window: MainWindow) -> None:
        """Drive ``window.player`` with ``window``'s results and library."""
        super().__init__(window)
        self._window = window
        self.current: int | None = None  # the track in the player
        self.up_next: list[int] = []  # queued with "Play next", first plays first
        self._anchor: int | None = None  # the last track played from the results, not the queue
        self._played: list[int] = []  # tracks played before the current one, oldest first
        self._on_its_own = False  # the current track started because the one before ended
        self._skipped = 0  # files that failed in a row while playing on by itself
        self._save_volume = QTimer(self)
        self._save_volume.setSingleShot(True)
        self._save_volume.setInterval(SAVE_VOLUME_AFTER_MS)
        self._save_volume.timeout.connect(self._store_volume)
        player = window.player
        player.ended.connect(self.advance)
        player.error.connect(self._failed)
        player.next_clicked.connect(self.next)
        player.previous_clicked.connect(self.previous)
        player.volume_changed.connect(lambda _volume: self._save_volume.start())
        player.queue_cleared.connect(self.clear_queue)
        player.queue_chosen.connect(self.play_queued)
        window.closing.connect(self._store_volume)

    def play(self, track_id: int, seconds: float = 0.0, *, remember: bool = True,
             queued: bool = False) -> bool:
        """Load ``track_id`` and play it from ``seconds``; False if it is not in the library.

        Args:
            track_id: the track.
            seconds: where to start.
            remember: Previous can come back to the track playing now.
            queued: it came from the "Play next" queue: the results go on after the track
                that played before the queue, not after this one.
        """
        reader = self._window.reader
        track = track_rows.fetch_row(reader, track_id) if reader is not None else None
        if track is None:
            return False
        if remember and self.current is not None and self.current != track_id:
            self._played.append(self.current)
        self.current = track_id
        self._on_its_own = False
        if not queued:
            self._anchor = track_id
        self._follow(track_id)
        self._window.player.load(track.path, _display(track), start_s=seconds)
        self._show_what_comes_next()
        return True

    def play_next(self, ids: list[int]) -> None:
        """Queue ``ids`` to play right after the current track, in this order."""
        fresh = [i for i in ids if i != self.current]
        self.up_next = fresh + [i for i in self.up_next if i not in fresh]
        count = len(fresh)
        self._window.show_info(f"{count} track{'s' if count != 1 else ''} will play next.")
        self._show_what_comes_next()

    @Slot(int)
    def play_queued(self, index: int) -> bool:
        """Play the queued track at ``index`` now; the rest of the queue stays in order."""
        if not 0 <= index < len(self.up_next):
            return False
        return self.play(self.up_next.pop(index), queued=True)

    @Slot()
    def clear_queue(self) -> None:
        """Forget the "Play next" queue: the results go on after the current track."""
        self.up_next = []
        self._show_what_comes_next()

    def _show_what_comes_next(self) -> None:
        # The Next button's tip names the next track; the queue button lists the queue.
        reader = self._window.reader
        if reader is None:
            return
        following = self.next_id()
        after = track_rows.fetch_row(reader, following) if following is not None else None
        player = self._window.player
        player.next_button.setToolTip(
            "Next track" if after is None else f"Next: {_display(after)}")
        rows = [track_rows.fetch_row(reader, i) for i in self.up_next[:QUEUE_SHOWN]]
        player.show_queue([_display(row) for row in rows if row is not None], len(self.up_next))

    def next_id(self) -> int | None:
        """The track Next would play: the queue first, then the row after the current one."""
        self.up_next = self._playable(self.up_next)
        if self.up_next:
            return self.up_next[0]
        ids = self._window.model.ids
        row = ids.index(self._anchor) if self._anchor in ids else -1
        for start in range(row + 1, len(ids), _LOOK_AHEAD):
            playable = self._playable(ids[start : start + _LOOK_AHEAD])
            if playable:
                return playable[0]
        return None

    def _playable(self, ids: list[int]) -> list[int]:
        # Silent, unreadable and damaged tracks are skipped, as their Play is off.
        reader = self._window.reader
        if reader is None or not ids:
            return ids
        try:
            problems = track_problems(reader, ids)
        except ReadError:
            return ids
        return [i for i in ids if i not in problems]

    @Slot()
    def next(self) -> bool:
        """Play the next track; False (and the player stops) at the end of the results."""
        track_id = self.next_id()
        if track_id is None:
            self._window.player.stop()
            self._window.status_label.setText("End of the results.")
            return False
        queued = bool(self.up_next)
        if queued:
            self.up_next.pop(0)
        return self.play(track_id, queued=queued)

    @Slot()
    def advance(self) -> None:
        """A track played to its end: go on with the next one (from the event loop)."""
        self._skipped = 0
        QTimer.singleShot(0, self, self._next_on_its_own)

    @Slot()
    def _next_on_its_own(self) -> None:
        if self.next():
            self._on_its_own = True

    @Slot(str)
    def _failed(self, _message: str) -> None:
        # Playing on by itself, one file that will not open does not end the music (the
        # window shows why); a run of them does, rather than flashing through the list.
        if self._on_its_own and self._skipped < MAX_SKIPPED:
            self._skipped += 1
            QTimer.singleShot(0, self, self._next_on_its_own)

    @Slot()
    def previous(self) -> bool:
        """Restart the track, or play the one before it (what was played, else the row above)."""
        player = self._window.player
        if player.player.position() > RESTART_AFTER_S * 1000 or self.current is None:
            player.seek(0)
            return self.current is not None
        if self._played:
            return self.play(self._played.pop(), remember=False)
        ids = self._window.model.ids
        row = ids.index(self.current) if self.current in ids else 0
        if row <= 0:
            player.seek(0)
            return True
        return self.play(ids[row - 1], remember=False)

    def _follow(self, track_id: int) -> None:
        # The highlight follows the music when the track is in the results, and so do the
        # details (they show the highlighted row); otherwise the user's selection stays.
        window = self._window
        row = window.model.row_of(track_id)
        if row >= 0 and window.library_view.selected_ids() != [track_id]:
            window.library_view.select_row(row)

    @Slot()
    def _store_volume(self) -> None:
        volume = round(self._window.player.volume.value() / 100, 2)
        if volume != self._window.ctx.settings.value.volume:
            self._window.ctx.settings.update(volume=volume)
