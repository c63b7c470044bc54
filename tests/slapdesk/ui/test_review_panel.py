"""The auto-tag review per track: old → new per field, filters, sort, play, bulk ticks, confirm."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from slapdesk.ui.proposal_model import CHANGE, FOLDER, FORMAT, SCORE, TRACK

CHECK = Qt.ItemDataRole.CheckStateRole


def _propose(window, proposals: dict[str, list[tuple[str, float]]]) -> dict[str, int]:
    """Store proposals by file name; returns file name -> track id."""
    ids = {os.path.basename(window.model.track(r).path): window.model.track_id(r)
           for r in range(window.model.rowCount())}
    with window.ctx.database.transaction() as conn:
        conn.executemany(
            "INSERT INTO tag_proposals (track_id, model_id, vocab, tag, score) VALUES (?,?,?,?,?)",
            [(ids[name], "m1", "genre", tag, score)
             for name, terms in proposals.items() for tag, score in terms],
        )
    return ids


def _review(window, threshold: float = 0.5):
    tab = window.show_tab("tagging")
    tab.view.threshold.setValue(threshold)
    tab.controller.reload()
    return tab.controller


def _rows(view) -> list[tuple[str, ...]]:
    model = view.model
    return [tuple(model.data(model.index(r, c)) or "" for c in (TRACK, SCORE, CHANGE))
            for r in range(model.rowCount())]


def _checks(view) -> list[bool | None]:
    model = view.model
    return [None if (s := model.data(model.index(r, TRACK), CHECK)) is None
            else s == Qt.CheckState.Checked for r in range(model.rowCount())]


def _answer(button: str, seen: list[str]) -> None:
    """Click ``button`` on the next confirmation box, remembering its text."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        seen.append(box.text())
        next(b for b in box.buttons() if b.text() == button).click()

    QTimer.singleShot(0, click)


def test_terms_are_grouped_under_their_file_with_old_and_new_values(
    make_window, music_folder: Path
) -> None:
    window = make_window([str(music_folder)])
    _propose(window, {"tone_flac.flac": [("rock", 0.9), ("drums", 0.7), ("jazz", 0.2)]})
    review = _review(window)
    view = review.view
    assert _rows(view) == [
        ("tone_flac.flac", "0.90", "SLAPDESK_GENRE: — → rock; drums"),
        ("rock", "0.90", "new"),
        ("drums", "0.70", "new"),
        ("jazz", "0.20", "new"),
    ]
    model = view.model
    assert model.data(model.index(0, TRACK), CHECK) == Qt.CheckState.PartiallyChecked
    assert [model.data(model.index(r, TRACK), CHECK) for r in (1, 2, 3)] == [
        Qt.CheckState.Checked, Qt.CheckState.Checked, Qt.CheckState.Unchecked]
    assert model.data(model.index(0, FORMAT)) == "FLAC"
    assert model.data(model.index(0, FOLDER)) == str(music_folder / "a")
    # The standard field too, once the policy touches it: the file's own GENRE, then ours.
    view.policy.setCurrentIndex(view.policy.findData("merge"))
    assert model.data(model.index(0, CHANGE)) == (
        "SLAPDESK_GENRE: — → rock; drums   GENRE: Rock; Jazz → Rock; Jazz; drums")
    view.policy.setCurrentIndex(view.policy.findData("own-fields"))
    review.apply()
    # Read back from the file: now the file holds them, and the review says so.
    assert _rows(view)[:3] == [
        ("tone_flac.flac", "0.90", "no change"),
        ("rock", "0.90", "already in the file"),
        ("drums", "0.70", "already in the file"),
    ]
    view.changes_only.setChecked(True)
    assert _rows(view) == [("tone_flac.flac", "0.20", "no change"), ("jazz", "0.20", "new")]
