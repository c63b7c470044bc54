"""The auto-tag review per track: old → new per field, filters, sort, play, bulk ticks, confirm."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from slapdesk.library.tags.write import read_tags
from slapdesk.ui.proposal_model import CHANGE, FOLDER, FORMAT, SCORE, TRACK
from slapdesk.ui.track_menu import build_track_menu

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
    """Per row: ticked or not (a partly ticked track reads False; None: no check box)."""
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
    assert model.data(model.index(0, FOLDER)) == "a"  # below the folder all tracks share
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


def _names(view) -> list[str]:
    return [track.name for track in view.model.shown_tracks()]


def test_filters_sort_and_a_term_ticked_across_the_library(make_window, music_folder) -> None:
    window = make_window([str(music_folder)])
    _propose(window, {"tone_flac.flac": [("drums", 0.8), ("rock", 0.4)],
                      "tone_mp3.mp3": [("jazz", 0.9), ("drums", 0.65)],
                      "tone_wav.wav": [("piano", 0.7), ("drums", 0.3)]})
    review = _review(window)
    view = review.view
    view.filter_term.setCurrentText("drums")
    assert [row[0] for row in _rows(view)] == [
        "tone_flac.flac", "drums", "tone_mp3.mp3", "drums", "tone_wav.wav", "drums"]
    view.filter_score.setValue(0.6)
    assert _names(view) == ["tone_flac.flac", "tone_mp3.mp3"]
    view.filter_term.setCurrentIndex(0)  # all terms
    view.filter_score.setValue(0.0)
    view.filter_text.setText("mp3")
    assert _rows(view) == [("tone_mp3.mp3", "0.90", "SLAPDESK_GENRE: — → jazz; drums"),
                           ("jazz", "0.90", "new"), ("drums", "0.65", "new")]
    view.filter_text.clear()
    view.filter_folder.setCurrentIndex(view.filter_folder.findData(str(music_folder / "a")))
    assert view.filter_folder.currentText() == "a"
    assert _names(view) == ["tone_flac.flac", "tone_wav.wav"]
    view.filter_folder.setCurrentIndex(0)
    view.table.sortByColumn(SCORE, Qt.SortOrder.DescendingOrder)
    assert _names(view) == ["tone_mp3.mp3", "tone_flac.flac", "tone_wav.wav"]
    # "Untick every 'drums' from 0.6", then tick it everywhere from 0.25.
    said: list[str] = []
    review.info.connect(said.append)
    view.term.setCurrentText("drums")
    view.term_score.setValue(0.6)
    view.untick_term_button.click()
    assert sorted((a.path.rsplit("/", 1)[1], a.tag) for a in view.model.accepted()) == [
        ("tone_mp3.mp3", "jazz"), ("tone_wav.wav", "piano")]
    view.term_score.setValue(0.25)
    view.tick_term_button.click()
    assert sorted(a.tag for a in view.model.accepted()) == ["drums", "drums", "drums", "jazz",
                                                           "piano"]
    assert said == ["Unticked “drums” on 2 tracks (score ≥ 0.60)",
                    "Ticked “drums” on 3 tracks (score ≥ 0.25)"]
    assert view.apply_button.text() == "Write 5 tags to 3 files"


def test_writing_or_undoing_many_files_asks_first(make_window, music_folder: Path) -> None:
    window = make_window([str(music_folder)])
    names = _propose(window, {})
    _propose(window, {name: [("jazz", 0.9)] for name in names})
    review = _review(window)
    view = review.view
    seen: list[str] = []
    _answer("Cancel", seen)
    view.apply_button.click()
    assert seen == ["Write 8 tags to 8 files — you can undo this."]
    assert view.runs.list.topLevelItem(0).text(0).startswith("No tagging runs yet")
    _answer("Write", seen)
    view.apply_button.click()
    paths = [t.path for t in view.model.tracks]
    assert {tuple(_own_genre(p)) for p in paths} == {("jazz",)}
    run = view.runs.list.topLevelItem(0)
    assert [run.text(c) for c in (2, 3, 4, 5)] == ["genre", "8", "8", "written"]
    run_id = int(run.text(0))
    assert view.runs.selected_run() == run_id  # the run just written is the one picked
    assert view.runs.undo_button.text() == f"Undo run {run_id}…"
    changed = sorted(run.child(i).text(0) for i in range(run.childCount()))
    assert len(changed) == 8
    assert changed[0] == "tone_aiff.aiff: SLAPDESK_GENRE — → jazz"
    view.runs.select_run(run_id)
    assert view.runs.undo_button.isEnabled()
    _answer("Undo", seen)
    view.runs.undo_button.click()
    assert seen[-1] == (f"Undo run {run_id}: restore the tags of 8 files as they were "
                        "before it.")
    assert {tuple(_own_genre(p)) for p in paths} == {()}
    states = [view.runs.list.topLevelItem(r).text(5) for r in range(2)]
    assert states == [f"undo of run {run_id}", "undone"]


def _own_genre(path: str) -> list[str]:
    return read_tags(Path(path), ["slapdesk_genre"]).values["slapdesk_genre"]


def test_silent_and_unreadable_tracks_are_marked_and_cannot_be_played(
    make_window, music_folder: Path
) -> None:
    window = make_window([str(music_folder)])
    ids = _propose(window, {"tone_flac.flac": [("rock", 0.9)], "tone_wav.wav": [("rock", 0.8)]})
    with window.ctx.database.transaction() as conn:
        conn.execute("INSERT INTO models (id, name, dim, added_at) VALUES ('m1', 'm1', 1, 0)")
        conn.execute("INSERT INTO embeddings (track_id, model_id, dim, vector, created_at, "
                      "abstain) VALUES (?, 'm1', 1, ?, 0, 'silence')",
                      (ids["tone_wav.wav"], b"\0\0\x80?"))
        conn.execute("UPDATE tracks SET status = 'error', error = ? WHERE id = ?",
                     ("[Errno 1094995529] Invalid data found when processing input",
                      ids["tone_aiff.aiff"]))
    window.refresh_tracks()
    review = _review(window)
    view, model = review.view, review.view.model
    # The silent track's stored proposal is not offered; both say why they get none.
    assert _rows(view) == [
        ("tone_aiff.aiff", "", "Not tagged: not a readable audio file"),
        ("tone_flac.flac", "0.90", "SLAPDESK_GENRE: — → rock"),
        ("rock", "0.90", "new"),
        ("tone_wav.wav", "", "Not tagged: silent: nothing to tag"),
    ]
    assert model.data(model.index(3, TRACK), CHECK) is None
    assert not model.flags(model.index(3, TRACK)) & Qt.ItemFlag.ItemIsUserCheckable
    assert view.apply_button.text() == "Write 1 tag to 1 file"
    assert view.status.text().endswith("2 not tagged (silent or unreadable)")
    view.table.setCurrentIndex(model.index(3, TRACK))
    assert not view.play_button.isEnabled()
    assert window.details.track_id == ids["tone_wav.wav"]
    assert not window.details.play_button.isEnabled()
    assert not window.details.more_button.isEnabled()
    assert window.details.error.text() == "Silent: nothing to tag"
    menu = build_track_menu(window, [ids["tone_wav.wav"]])
    actions = {a.text(): a.isEnabled() for a in menu.actions() if a.text()}
    assert (actions["Play"], actions["More like this"], actions["Show in folder"]) == (
        False, False, True)
    view.table.setCurrentIndex(model.index(1, TRACK))
    assert view.play_button.isEnabled()
    view.play_button.click()
    assert window.player.source == str(music_folder / "a" / "tone_flac.flac")
    window.player.stop()


def test_details_show_the_slapdesk_fields_of_the_file(make_window, music_folder: Path) -> None:
    window = make_window([str(music_folder)])
    _propose(window, {"tone_ogg.ogg": [("ambient", 0.9), ("folk", 0.8)]})
    review = _review(window)
    review.apply()
    review.view.table.setCurrentIndex(review.view.model.index(0, TRACK))
    assert window.details.own_tags.text() == (
        "<b>SlapDesk tags:</b> SLAPDESK_GENRE: ambient; folk")


def test_keys_and_the_row_menu_tick_per_track_and_per_term(
    make_window, music_folder: Path, qtbot
) -> None:
    window = make_window([str(music_folder)])
    _propose(window, {"tone_flac.flac": [("rock", 0.9), ("drums", 0.7)],
                      "tone_mp3.mp3": [("rock", 0.55), ("jazz", 0.3)]})
    review = _review(window)
    view, model = review.view, review.view.model
    assert [r[0] for r in _rows(view)] == ["tone_flac.flac", "rock", "drums", "tone_mp3.mp3",
                                           "rock", "jazz"]
    view.table.setFocus()
    view.table.setCurrentIndex(model.index(2, TRACK))  # drums on the FLAC
    qtbot.keyClick(view.table, Qt.Key.Key_Space)
    assert _checks(view)[:3] == [False, True, False]  # drums unticked: the track partly
    assert model.data(model.index(0, TRACK), CHECK) == Qt.CheckState.PartiallyChecked
    qtbot.keyClick(view.table, Qt.Key.Key_Return)
    assert window.player.source == str(music_folder / "a" / "tone_flac.flac")
    window.player.stop()
    mp3 = view.model.shown_tracks()[1]
    menu = review.review_menu(mp3, mp3.terms[0])
    actions = {a.text(): a for a in menu.actions() if a.text()}
    actions["Untick all terms of this track"].trigger()
    assert _checks(view)[3:] == [False, False, False]
    view.term_score.setValue(0.5)
    actions = {a.text(): a for a in review.review_menu(mp3, mp3.terms[0]).actions()}
    actions["Tick “rock” on every track (score ≥ 0.50)"].trigger()
    assert _checks(view) == [False, True, False, False, True, False]
    model.setData(model.index(3, TRACK), Qt.CheckState.Checked, CHECK)  # the MP3's own box
    assert _checks(view)[3:] == [True, True, True]


def test_a_click_on_a_terms_box_ticks_it_where_it_is_drawn(
    make_window, music_folder: Path, qtbot
) -> None:
    window = make_window([str(music_folder)])
    _propose(window, {"tone_flac.flac": [("rock", 0.9), ("drums", 0.2)]})
    view = _review(window).view
    rect = view.table.visualRect(view.model.index(2, TRACK))  # drums, unticked
    box = QPoint(rect.left() + 22 + 9, rect.center().y())  # terms sit 22 px in
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=box)
    assert _checks(view) == [True, True, True]
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(rect.left() + 9, rect.center().y()))  # left of the box
    assert _checks(view) == [True, True, True]
