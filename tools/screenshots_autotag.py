"""The auto-tag flow end to end, frame by frame, at scale (docs/screenshots/autotag-flow).

Starts from a scanned and embedded library and works in it (its database holds the undo
journal of what the flow writes into the music files, so if the flow stops half-way,
``slapdesk --library FILE undo`` still restores them; its last step undoes that run), proposes
genres, narrows the review to one term, ticks that term across the library, writes it (the
confirmation included), shows the run and a written track, then undoes the run. Each step is
saved as a numbered PNG, and every file's bytes are compared before and after: the flow prints
how many files came back exactly as they were.

    .venv/bin/slapdesk demo --no-gui --tracks 2000 --seconds 10 /tmp/lib2k
    .venv/bin/python tools/screenshots_autotag.py --library /tmp/lib2k/library.sqlite
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.screenshots import grab, open_window, settle  # noqa: E402

TERM = "jazz"
MIN_SCORE = 0.2


def _digests(library: Path) -> dict[str, str]:
    """Every track file's SHA-256, by path."""
    conn = sqlite3.connect(f"file:{library}?mode=ro", uri=True)
    paths = [os.fsdecode(bytes(row[0])) if isinstance(row[0], bytes) else row[0]
             for row in conn.execute("SELECT path FROM tracks")]
    conn.close()
    return {p: hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths}


def _answer_dialog(app, window, out: Path, name: str) -> None:
    """When the confirmation shows: save it over the window, then press its action button."""
    from PySide6.QtCore import QPoint, QTimer
    from PySide6.QtGui import QPainter
    from PySide6.QtWidgets import QMessageBox

    def answer() -> None:
        box = app.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(50, answer)
            return
        shot = window.grab()
        dialog = box.grab()
        painter = QPainter(shot)
        corner = QPoint((shot.width() - dialog.width()) // 2,
                        (shot.height() - dialog.height()) // 3)
        painter.drawPixmap(corner, dialog)
        painter.end()
        shot.save(str(out / f"{name}.png"))
        print(f"wrote {out / name}.png: {box.text()!r}")
        action = next(b for b in box.buttons()
                      if box.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole)
        action.click()

    QTimer.singleShot(0, answer)


def _flow(app, window, out: Path) -> None:
    """Propose, narrow, tick across the library, write, look, undo: one frame per step."""
    tab = window.tab("tagging")
    view, controller = tab.view, tab.controller
    window.show_tab("tagging")
    controller.propose()
    settle(app, window)
    grab(window, out, "1-proposed")

    view.filter_term.setCurrentText(TERM)
    view.filter_score.setValue(MIN_SCORE)
    view.changes_only.setChecked(True)
    settle(app, window)
    grab(window, out, "2-filtered")

    controller.reject_all()
    view.term.setCurrentText(TERM)
    view.term_score.setValue(MIN_SCORE)
    controller.decide_term(True)
    settle(app, window)
    grab(window, out, "3-ticked-across-library")

    _answer_dialog(app, window, out, "4-confirm-write")
    controller.apply()
    settle(app, window)
    view.runs.select_run(max(run.run_id for run in controller.runs))  # the one just written
    settle(app, window)
    grab(window, out, "5-written")

    view.changes_only.setChecked(False)  # what was written is no longer a change
    settle(app, window)
    written = controller.model.shown_tracks()[0]
    view.table.selectRow(controller.model.track_row(written.track_id))
    settle(app, window)
    grab(window, out, "6-details-of-a-written-track")

    _answer_dialog(app, window, out, "7-confirm-undo")
    controller.undo(view.runs.selected_run())
    settle(app, window)
    grab(window, out, "8-undone")


def main() -> None:
    """Run the flow and save the frames."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--library", required=True, help="a scanned and embedded library.sqlite")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots" / "autotag-flow"))
    parser.add_argument("--size", default="1280x780", help="window size, WIDTHxHEIGHT")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    before = _digests(Path(args.library))
    with tempfile.TemporaryDirectory(prefix="slapdesk-flow-") as tmp:
        app, window = open_window(Path(args.library), Path(tmp) / "settings.toml", args.size)
        _flow(app, window, out)
        window.close()
    after = _digests(Path(args.library))
    same = sum(after.get(path) == digest for path, digest in before.items())
    print(f"files exactly as before the flow: {same:,} of {len(before):,}")


if __name__ == "__main__":
    main()
