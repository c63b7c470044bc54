"""The Qt application object, the event loop, and the last-resort error handler."""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Sequence
from types import TracebackType
from typing import NoReturn

from PySide6.QtCore import QObject, QSize, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QWidget

from slapdesk.resources import ResourcesNotFoundError, resource_path

log = logging.getLogger(__name__)

# The freedesktop application id: names the .desktop file, the icon and the AppStream data.
APP_ID = "io.github.slapdesk.SlapDesk"
# How long quitting waits for background jobs to honour their cancel. Waiting longer buys
# nothing: the database survives being cut off (SQLite's journal) and so do tag writes
# (all-or-nothing after a crash, recovered at the next start).
QUIT_GRACE_MS = 1000


def qapplication(argv: Sequence[str] = ()) -> QApplication:
    """The process's QApplication (created once)."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(["slapdesk", *argv])
        app.setApplicationName("SlapDesk")
        app.setOrganizationName("SlapDesk")
        app.setApplicationDisplayName("SlapDesk")
        app.setDesktopFileName(APP_ID)
        icon = app_icon()
        if icon is not None:
            app.setWindowIcon(icon)
    return app  # type: ignore[return-value]


def app_icon() -> QIcon | None:
    """SlapDesk's icon at every bundled size, or None when the resources lack it."""
    try:
        folder = resource_path("icons", "hicolor")
    except ResourcesNotFoundError:
        return None
    icon = QIcon()
    for size in (16, 32, 48, 64, 128, 256):
        png = folder / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        if png.is_file():
            icon.addFile(str(png), QSize(size, size))
    return None if icon.isNull() else icon


def quit_when_shown(window: QWidget, delay_ms: int = 1000) -> None:
    """Smoke test of an installed build: quit shortly after the window is up.

    The exit code is 0 when ``window`` is visible then, 1 otherwise; one line on stderr says so.
    """

    def check() -> None:
        shown = window.isVisible()
        sys.stderr.write(f"smoke test: window {'shown' if shown else 'NOT shown'} "
                         f"({window.width()}x{window.height()}); quitting\n")
        QApplication.exit(0 if shown else 1)

    QTimer.singleShot(delay_ms, check)


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


def exit_abandoning_workers(code: int) -> NoReturn:
    """Leave the process now although a worker thread is still inside a call it cannot stop.

    Qt's thread pools wait for their threads without a limit when they are destroyed, so a
    normal exit would hang until, say, a model finished loading.
    """
    log.warning("a background job did not stop within %d ms; quitting without it", QUIT_GRACE_MS)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
