"""The auto-tag review does what the user chose: unticked tags stay unticked, undo steps back."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from slapdesk.library.tags.runs import list_runs
from slapdesk.library.tags.write import read_tags


def _propose(window, scores: dict[int, float]) -> None:
    with window.ctx.database.transaction() as conn:
        conn.executemany(
            "INSERT INTO tag_proposals (track_id, model_id, vocab, tag, score) VALUES (?,?,?,?,?)",
            [(track_id, "m1", "genre", "jazz", score) for track_id, score in scores.items()],
        )


def _review(window):
    tab = window.show_tab("tagging")
    tab.controller.reload()
    return tab.controller


def _own_genre(path: str) -> list[str]:
    return read_tags(Path(path), ["slapdesk_genre"]).values["slapdesk_genre"]


def test_an_unticked_tag_stays_unticked_after_apply(make_window, music_folder: Path) -> None:
    window = make_window([str(music_folder)])
    first, second = window.model.track_id(0), window.model.track_id(1)
    _propose(window, {first: 0.9, second: 0.8})
    review = _review(window)
    model = review.model
    rows = [model.track_row(first), model.track_row(second)]
    assert [model.data(model.index(r, 0), Qt.ItemDataRole.CheckStateRole) for r in rows] == [
        Qt.CheckState.Checked,
        Qt.CheckState.Checked,
    ]
    term = model.index(rows[1] + 1, 0)  # the row under the track: its one term, "jazz"
    assert model.data(term) == "jazz"
    model.setData(term, Qt.CheckState.Unchecked, Qt.ItemDataRole.CheckStateRole)
    review.apply()
    # The list was read again after the write: the user's choice still stands.
    assert [r.track_id for r in model.accepted()] == [first]
    review.apply()  # a second Apply writes nothing new
    paths = {t.track_id: t.path for t in model.tracks}
    assert _own_genre(paths[first]) == ["jazz"]
    assert _own_genre(paths[second]) == []


def test_undo_twice_does_not_undo_the_undo(make_window, music_folder: Path) -> None:
    window = make_window([str(music_folder)])
    track = window.model.track_id(0)
    _propose(window, {track: 0.9})
    review = _review(window)
    path = review.model.tracks[0].path
    review.apply()
    assert _own_genre(path) == ["jazz"]
    review.undo()
    assert _own_genre(path) == []
    said: list[str] = []
    review.info.connect(said.append)
    review.failed.connect(said.append)
    review.undo()  # nothing left: the tag must not come back
    assert _own_genre(path) == []
    assert said == ["Nothing to undo: no tagging run has tags left to restore."]
    runs = list_runs(window.ctx.database)
    assert [(r.policy, r.undo_of) for r in runs] == [
        ("undo", runs[1].run_id),
        (runs[1].policy, None),
    ]


class _HeldPool:
    """Holds tasks until the test runs them, in the order it chooses."""

    def __init__(self) -> None:
        self.held: list = []

    def start(self, runnable, priority: int = 0) -> None:
        self.held.append(runnable)

    def waitForDone(self, msecs: int = -1) -> bool:  # noqa: N802 (Qt name)
        return True


def test_tag_selection_reviews_only_the_selection_and_says_so(
    make_window, music_folder: Path
) -> None:
    window = make_window([str(music_folder)])
    ids = [window.model.track_id(row) for row in range(3)]
    _propose(window, dict.fromkeys(ids, 0.9))
    held = _HeldPool()
    window.ctx.runner._pools["cpu"] = held
    window.tag_requested.emit([ids[1]])  # the map's "Tag selection"
    # The answers arrive newest first: the whole library's (asked for when the tab was
    # shown) comes last and must not replace the selection's.
    for runnable in reversed(held.held):
        runnable.run()
    held.held.clear()
    review = window.tab("tagging").controller
    assert [r.track_id for r in review.model.tracks] == [ids[1]]
    assert not review.view.scope_bar.isHidden()
    assert review.view.scope_label.text() == "Reviewing the 1 selected tracks only."
    review.view.show_all_button.click()
    for runnable in held.held:
        runnable.run()
    assert sorted(r.track_id for r in review.model.tracks) == sorted(ids)
    assert review.view.scope_bar.isHidden()


def test_undo_reads_the_runs_on_a_worker_and_restores_the_exact_bytes(
    make_window, music_folder: Path, monkeypatch
) -> None:
    from slapdesk.ui import tagging_controller

    window = make_window([str(music_folder)])
    ids = [window.model.track_id(row) for row in range(2)]
    _propose(window, dict.fromkeys(ids, 0.9))
    review = _review(window)
    paths = sorted(t.path for t in review.model.tracks)
    before = {path: Path(path).read_bytes() for path in paths}
    review.apply()
    assert [_own_genre(path) for path in paths] == [["jazz"], ["jazz"]]
    written = list_runs(window.ctx.database)[0].run_id
    reads: list[int] = []
    read_runs = tagging_controller.read_runs
    monkeypatch.setattr(tagging_controller, "read_runs",
                        lambda *args: reads.append(1) or read_runs(*args))
    held = {name: _HeldPool() for name in ("cpu", "io")}
    window.ctx.runner._pools.update(held)
    review.undo()
    review.undo()  # clicked again while the runs are read: still one undo
    # The GUI thread neither read the database nor started the job: one read waits on a worker.
    assert (reads, len(held["cpu"].held), held["io"].held, window.jobs.busy) == ([], 1, [], False)
    held["cpu"].held.pop().run()  # the runs arrive: the undo job starts on the write thread
    assert reads == [1] and window.jobs.title == f"Undoing run {written}"
    assert [_own_genre(path) for path in paths] == [["jazz"], ["jazz"]]
    held["io"].held.pop().run()
    assert {path: Path(path).read_bytes() for path in paths} == before
    assert not window.jobs.busy
    assert review.view.status.text() == "Undo of run 1: 2 files changed"
    for runnable in held["cpu"].held:  # the review and the runs, read again after the undo
        runnable.run()
    states = [review.view.runs.list.topLevelItem(row).text(5) for row in range(2)]
    assert states == [f"undo of run {written}", "undone"]
    assert not review.view.undo_button.isEnabled()
