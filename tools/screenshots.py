"""Render every main view of SlapDesk offscreen into docs/screenshots/*.png.

Builds a demo library of generated tracks (tools/demo_music.py), scans it through the window,
embeds it with the given model bundle, proposes genre tags, runs a search and grabs each tab.

    .venv/bin/python tools/screenshots.py --bundle runs/demo/bundle --run runs/demo

``--library FILE`` starts from a library that is already scanned and embedded (a copy of it:
proposals are not stored in the original), e.g. a 2,000-track ``slapdesk demo --no-gui``
library, so the views show a library at scale; the first-run page is not grabbed then.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import demo_music  # noqa: E402

from slapdesk.settings import Settings, save_settings  # noqa: E402


def settle(app, window) -> None:
    """Run the event loop until no job is left (the runner is synchronous)."""
    for _ in range(20):
        app.processEvents()
        if not window.jobs.busy:
            app.processEvents()
    app.processEvents()


def grab(window, out: Path, name: str) -> None:
    """Save the window as ``out/name.png`` (after letting layouts and plots settle)."""
    from PySide6.QtWidgets import QApplication

    for _ in range(5):
        QApplication.processEvents()
    path = out / f"{name}.png"
    window.grab().save(str(path))
    print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")


def open_window(library: Path, settings: Path, size: str, active_model: str = ""):
    """A shown main window on ``library`` (its jobs run synchronously); (app, window)."""
    from slapdesk.ui.application import qapplication

    app = qapplication()
    app.setStyle("Fusion")
    from slapdesk.app import build_context
    from slapdesk.ui.main_window import MainWindow
    from slapdesk.ui.tasks import TaskRunner

    save_settings(Settings(active_model=active_model), settings)
    ctx = build_context(library, settings_file=settings, runner=TaskRunner.synchronous())
    window = MainWindow(ctx)
    window.resize(*(int(n) for n in size.split("x")))
    window.show()
    app.processEvents()
    return app, window


def _grab_views(app, window, out: Path, run: str | None) -> None:
    """Save the Auto-tag, Map, Training and Models views as the window shows them."""
    window.show_tab("tagging")
    settle(app, window)
    window.tab("tagging").view.table.selectRow(1)
    grab(window, out, "autotag")

    window.show_tab("map")
    settle(app, window)
    grab(window, out, "map")

    window.show_tab("training")
    if run:
        window.tab("training").controller.show_run(Path(run))
    settle(app, window)
    grab(window, out, "training")

    window.show_tab("models")
    settle(app, window)
    grab(window, out, "models")


def main() -> None:
    """Build the demo library and save the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", help="model bundle used to embed and tag the demo library")
    parser.add_argument("--run", help="a training run folder whose metrics the panel shows")
    parser.add_argument("--music", help="reuse this demo music folder (default: generate one)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--query", default="chiptune")
    parser.add_argument("--library", help="a scanned and embedded library.sqlite to show")
    parser.add_argument("--size", default="1280x780", help="window size, WIDTHxHEIGHT")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="slapdesk-shots-") as tmp:
        work = Path(tmp)
        if args.library:
            shutil.copyfile(args.library, work / "library.sqlite")
        app, window = open_window(work / "library.sqlite", work / "settings.toml", args.size,
                                  active_model=args.bundle or "")
        if not args.library:
            music = Path(args.music) if args.music else work / "Music"
            if not args.music:
                demo_music.build(music)
            window.welcome.add_folder(str(music))
            grab(window, out, "welcome")
            window.start_scan([str(music)])
            settle(app, window)
        _grab_library(app, window, out, args.query)
        _grab_views(app, window, out, args.run)
        if args.library:  # the audit at scale; audit.png (planted errors) is screenshots_moments'
            window.show_tab("audit").controller.run()
            settle(app, window)
            grab(window, out, "audit-at-scale")
        window.close()


def _grab_library(app, window, out: Path, query: str) -> None:
    """Propose tags, search ``query`` and save the Library view with the first result chosen."""
    window.tab("tagging").controller.propose()
    settle(app, window)
    window.library_view.search.setText(query)
    window.search.run_now(query)  # the first query also loads the text tower
    window.search.run_now(query)
    window.library_view.select_row(0)
    app.processEvents()
    grab(window, out, "library")

if __name__ == "__main__":
    main()
