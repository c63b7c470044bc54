"""Screenshots of finding the moment and of the tag audit (docs/screenshots/moments.png, audit.png).

Builds a small library offscreen: tracks that change instrument part-way (piano, then drums, ...)
and demo-style tracks with two genres planted wrong; scans, embeds (first pass, then the moment
pass) with the default model, searches "drums", selects a track and runs the audit.

    .venv/bin/python tools/screenshots_moments.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from slapdesk.library.demo.audio_files import make_track  # noqa: E402
from slapdesk.library.demo.synth import STYLES, render, render_part  # noqa: E402
from tools.screenshots import grab, settle  # noqa: E402

SR = 16_000
# Title -> the parts (synth voices) played one after another, 12 s each.
CHANGING = {
    "Harbour Lights": ("piano", "drums", "piano"),
    "Night Signal": ("pad", "organ", "drums"),
    "Paper Avenue": ("guitar", "piano", "pad"),
    "Static Orchard": ("drums", "pad", "piano"),
}
PLANTED = {("rock", 1): "classical", ("electronic", 0): "folk"}


def build(music: Path) -> None:
    """Write the changing tracks and the tagged style tracks."""
    for k, (title, parts) in enumerate(CHANGING.items()):
        rng = np.random.default_rng(k)
        audio = np.concatenate([render_part(v, 100, 12.0, rng, SR) for v in parts])
        make_track(music / title, "flac", samples=audio, sample_rate=SR,
                   tags={"title": title, "artist": "The Changes", "genre": ["soundtrack"]})
    for s, style in enumerate(("classical", "electronic", "rock", "folk")):
        for k in range(3):
            rng = np.random.default_rng([s, k])
            audio = render(STYLES[style], STYLES[style].tempo[0], 20.0, rng, SR)
            genre = PLANTED.get((style, k), style)
            make_track(music / f"{style} {k}", "flac", samples=audio, sample_rate=SR,
                       tags={"title": f"{style.title()} Study {k + 1}",
                             "artist": "Demo Ensemble", "genre": [genre]})


def main() -> None:
    """Build, embed, and grab both views."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from slapdesk.settings import Settings, save_settings
    from slapdesk.ui.application import qapplication

    app = qapplication()
    app.setStyle("Fusion")
    from slapdesk.app import build_context
    from slapdesk.ui.main_window import MainWindow
    from slapdesk.ui.tasks import TaskRunner

    with tempfile.TemporaryDirectory(prefix="slapdesk-moments-") as tmp:
        work = Path(tmp)
        music = work / "Music"
        music.mkdir()
        build(music)
        settings = work / "settings.toml"
        save_settings(Settings(), settings)
        ctx = build_context(work / "library.sqlite", settings_file=settings,
                            runner=TaskRunner.synchronous())
        window = MainWindow(ctx)
        window.resize(1280, 780)
        window.show()
        window.start_scan([str(music)])
        settle(app, window)
        query = "drums"
        window.library_view.search.setText(query)
        window.search.run_now(query)
        titles = [window.model.track(r).title for r in range(window.model.rowCount())]
        row = next((i for i, t in enumerate(titles) if t in CHANGING), 0)
        window.library_view.select_row(row)
        settle(app, window)
        grab(window, out, "moments")

        window.show_tab("audit").controller.run()
        settle(app, window)
        grab(window, out, "audit")
        window.close()


if __name__ == "__main__":
    main()
