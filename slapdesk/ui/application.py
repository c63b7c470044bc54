"""The Qt application object, the event loop, and the last-resort error handler."""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Sequence
from types import TracebackType

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)


def qapplication(argv: Sequence[str] = ()) -> QApplication:
    """The process's QApplication (created once)."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(["slapdesk", *argv])
        app.setApplicationName("SlapDesk")
        app.setOrganizationName("SlapDesk")
        app.setApplicationDisplayName("SlapDesk")
    return app  # type: ignore[return-value]


class ErrorReporter(QObject):
    """Turns uncaught exceptions in Qt callbacks into a readable message in the window.

    PySide prints a traceback to stderr and carries on when a slot raises; the user would never
    see it. This hook logs the traceback and emits ``error(message)`` for the message bar.
    """

    error = Signal(str)

    def install(self) -> None:
        """Become ``sys.excepthook``."""
        sys.excepthook = self._hook

    def _hook(self, kind: type[BaseException], value: BaseException,
              tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            QApplication.quit()
            return
        log.error("unexpected error:\n%s", "".join(traceback.format_exception(kind, value, tb)))
        self.error.emit(f"Something went wrong: {value or kind.__name__}. "
                        "SlapDesk carries on; the details are in the log.")


def run_event_loop(app: QApplication) -> int:
    """Run Qt until the last window closes; returns the exit code."""
    return int(app.exec())
