from __future__ import annotations

from pathlib import Path


def test_every_unreadable_file_can_be_listed(make_window, music_folder: Path) -> None:
    for n in range(7):
        (music_folder / "a" / f"broken{n}.mp3").write_bytes(b"not audio" * 100)
    window = make_window([str(music_folder)])
    assert window.model.rowCount() == 15
    # The scan's message shows five and says how to see every one.
    assert "… and 2 more" in window.messages.text
    assert "Type is:broken in the search box to list them all." in window.messages.text
    window.library_view.search.setText("is:broken")
    window.search.run_now("is:broken")
    listed = sorted(window.model.track(row).path.rsplit("/", 1)[-1]
                    for row in range(window.model.rowCount()))
    assert listed == [f"broken{n}.mp3" for n in range(7)]
