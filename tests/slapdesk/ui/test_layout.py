"""The window fits a 1024 px wide screen without clipping any view."""

from __future__ import annotations

from pathlib import Path


def test_the_window_can_be_1024_px_wide(make_window, music_folder: Path) -> None:
    window = make_window([str(music_folder)])
    assert window.minimumSizeHint().width() <= 1024
    window.resize(1024, 700)
    for name in ("library", "tagging", "map", "training", "models"):
        view = window.show_tab(name).view
        assert view.width() >= view.minimumSizeHint().width(), name


def test_a_long_folder_name_does_not_widen_the_window(make_window, tmp_path: Path,
                                                      qtbot) -> None:
    from slapdesk.library.demo.audio_files import make_track

    folder = tmp_path / ("a_folder_name_without_any_spaces_in_it_" * 4)
    folder.mkdir()
    make_track(folder / "tone", "wav", tags={"title": "Tone"})
    window = make_window([str(folder)])
    window.library_view.select_row(0)
    path = window.details._values["path"]
    assert path.toolTip() == str(folder / "tone.wav")
    assert window.details._values["format"].text() == "WAV, 44.1 kHz"  # not the codec "pcm"
    assert window.minimumSizeHint().width() <= 1024
    window.resize(1024, 720)
    qtbot.wait(20)
    assert window.width() == 1024
