"""The moment strip under the results, and the Audit tab's keep / replace / skip."""

from __future__ import annotations

from pathlib import Path

import mutagen
import pytest

from engine.bundle_info import read_bundle_info
from slapdesk.library.demo.audio_files import make_track
from slapdesk.settings import Settings, save_settings


@pytest.fixture
def window(make_window, tmp_path: Path, tiny_bundle: Path):
    """A window with the tiny model active on six 6 s tones, three tagged Rock, three Jazz."""
    music = tmp_path / "music"
    music.mkdir()
    for k in range(6):
        genre = "Rock" if k < 3 else "Jazz"
        make_track(music / f"tone{k}", "flac", freq_hz=110.0 * (k + 1), seconds=6.0,
                   sample_rate=16_000, tags={"title": f"Tone {k}", "genre": [genre]})
    save_settings(Settings(active_model=str(tiny_bundle)),
                  tmp_path / "config" / "settings.toml")
    return make_window([str(music)])


def test_moments_come_in_the_background_and_the_strip_plays_from_a_window(
        window, tiny_bundle: Path) -> None:
    db = window.ctx.database
    # Scan, then the first pass, then the moment pass: all chained after the scan.
    assert db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0] == 6
    assert db.execute("SELECT COUNT(*) FROM moment_vectors").fetchone()[0] == 6
    window.library_view.search.setText("a low tone")
    window.search.run_now("a low tone")
    window.library_view.select_row(0)
    strip = window.library_view.moment_strip
    clip = read_bundle_info(tiny_bundle).cfg.frontend.clip_seconds
    assert strip.windows == db.execute("SELECT count FROM moment_vectors LIMIT 1").fetchone()[0]
    assert strip.windows >= int(6 // clip)
    assert strip.best is not None and strip.best[1] - strip.best[0] == pytest.approx(clip)
    track = window.model.track_id(0)
    # Enter on the result starts at its best moment.
    window.library_view.track_activated.emit(track)
    assert window.player.source.endswith(".flac")
    expected_ms = round(strip.best[0] * 1000)
    assert window.player.pending_start_ms in (expected_ms, 0)
    assert window.search.moments.best_start(track) == strip.best[0]
    # A click on the strip plays from the window under the cursor.
    played = []
    window.search.moments.seek_requested.connect(lambda t, s: played.append((t, s)))
    strip.resize(400, 46)
    strip.mousePressEvent(_click(strip, 44 + 1))
    assert played == [(track, 0.0)]
    assert not strip.grab().isNull()


def _click(widget, x: float):
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QMouseEvent

    return QMouseEvent(QMouseEvent.Type.MouseButtonPress, QPointF(x, 10), QPointF(x, 10),
                       Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)


def test_audit_lists_every_tagged_track_and_replace_is_undoable(window) -> None:
    window.show_tab("audit")
    window.tab("audit").view.method.setCurrentIndex(window.tab("audit").view.method.findData("library"))
    window.tab("audit").controller.run()
    model = window.tab("audit").controller.model
    assert model.rowCount() == 6
    assert {row.suggested for row in model.rows} <= {"Rock", "Jazz"}
    first = model.rows[0]
    assert first.suggested != first.current[0]
    window.tab("audit").view.select_row(0)
    window.tab("audit").controller.skip()
    assert window.tab("audit").view.current_row() == 1
    window.tab("audit").controller.keep()
    assert model.rowCount() == 5 and first in model.rows
    window.tab("audit").view.select_row(model.rows.index(first))
    window.tab("audit").controller.replace()
    assert model.rowCount() == 4 and first not in model.rows
    assert mutagen.File(first.path).tags["GENRE"] == [first.suggested]
    window.tab("tagging").controller.undo()
    assert mutagen.File(first.path).tags["GENRE"] == list(first.current)
