"""Keeps the moment strip under the results in step with the selected track and the query."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from slapdesk.library.jobs.active_model import ModelHolder
from slapdesk.library.jobs.strip import StripData, track_strip
from slapdesk.ui.tasks import TaskRunner
from slapdesk.ui.views.moment_strip import MomentStrip

_HINT = "Search by sound and select a track to see where it matches."


class MomentsController(QObject):
    """Computes the selected track's strip in a worker; remembers its best moment.

    ``seek_requested(track_id, seconds)`` when the strip is clicked.
    """

    seek_requested = Signal(int, float)

    def __init__(self, runner: TaskRunner, library_path: Path, holder: ModelHolder,
                 strip: MomentStrip, parent: QObject | None = None) -> None:
        """Drive ``strip``."""
        super().__init__(parent)
        self._runner = runner
        self._library_path = library_path
        self._holder = holder
        self.strip = strip
        self._current: StripData | None = None
        self._wanted: tuple[int, str] | None = None
        strip.seek_requested.connect(self._seek)
        strip.clear(_HINT)

    def show(self, track_id: int, query: str) -> None:
        """Compute the strip of ``track_id`` for ``query``."""
        self._wanted = (track_id, query)
        if self._current and (self._current.track_id, self._current.query) == self._wanted:
            return
        if not self._library_path.is_file():
            return
        job = partial(track_strip, self._library_path, self._holder, track_id, query)
        self._runner.run(job, self._done, self._failed, pool="cpu", name="moments")

    def best_start(self, track_id: int) -> float:
        """Where to start playing ``track_id``: its best moment for the current query, or 0."""
        data = self._current
        if data is not None and data.track_id == track_id and data.moments:
            return data.moments[0].start
        return 0.0

    @Slot(object)
    def _done(self, data: StripData) -> None:
        if (data.track_id, data.query) != self._wanted:
            return  # an answer for an earlier selection
        self._current = data
        if not data.starts:
            self.strip.clear(_HINT)
            return
        best = (data.moments[0].start, data.moments[0].end) if data.moments else None
        self.strip.set_scores(data.starts, data.scores, data.clip, data.duration, best)

    @Slot(object)
    def _failed(self, _error: BaseException) -> None:
        self.strip.clear("Cannot read this track's windows.")

    @Slot(float)
    def _seek(self, seconds: float) -> None:
        if self._current is not None:
            self.seek_requested.emit(self._current.track_id, seconds)
