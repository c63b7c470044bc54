"""``slapdesk demo [DIR]``: generate a demo library, scan and embed it, open the app on it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from slapdesk.commands.common import (
    EXIT_CANCELLED,
    EXIT_ERRORS,
    EXIT_OK,
    cancel_on_interrupt,
    expected_errors,
    fail,
)
from slapdesk.library.demo.library import DemoCfg, DemoReport, build_demo
from slapdesk.library.store.paths import APP_NAME

_DESCRIPTION = """\
Try SlapDesk without music files of your own: generate a small library of short tracks
(piano, jazz, electronic, ambient, rock, hip hop, folk and soul arrangements, made by
SlapDesk's own synthesizer, offline) in every supported format (MP3, FLAC, Ogg Vorbis,
Opus, M4A AAC and ALAC, WAV, AIFF) with title, artist, album, genre, year and BPM tags;
index it, embed it with the active model (when one is installed), and open the app on it.

The library file is DIR/library.sqlite, beside the tracks, so your own library is not
touched; give --library (before `demo`) to add the demo tracks to another one. Running the
command again keeps the files already made. The same --seed makes the same library."""

_EPILOG = """\
examples:
  slapdesk demo                         build ~/.local/share/SlapDesk/demo and open it
  slapdesk demo --no-gui /tmp/demo      build, scan and embed only; print a summary
  slapdesk demo --tracks 64 --seconds 20 --seed 7 /tmp/demo7"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``demo``."""
    parser = subparsers.add_parser(
        "demo",
        help="generate a demo music library and open the app on it",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("folder", nargs="?", metavar="DIR",
                        help="where the tracks go (default: the demo folder in the user data "
                             "folder)")
    parser.add_argument("--tracks", type=int, default=DemoCfg.tracks, metavar="N",
                        help=f"number of tracks (default {DemoCfg.tracks})")
    parser.add_argument("--seconds", type=float, default=DemoCfg.seconds, metavar="S",
                        help=f"length of each track (default {DemoCfg.seconds:g})")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--no-gui", action="store_true",
                        help="only build, scan and embed; print a summary")
    parser.add_argument("--no-embed", action="store_true", help="skip embedding")
    parser.add_argument("--device", help="device for embedding: cpu, cuda, mps (default: best)")
    parser.set_defaults(run=run)


def default_demo_dir() -> Path:
    """``demo`` in the user data folder."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "demo"


def run(args: argparse.Namespace) -> int:
    """Run ``slapdesk demo``."""
    if args.tracks < 1 or not 1 <= args.seconds <= 600:
        return fail("demo", "--tracks must be at least 1 and --seconds between 1 and 600")
    folder = Path(args.folder).expanduser() if args.folder else default_demo_dir()
    library = Path(args.library).expanduser() if args.library else folder / "library.sqlite"
    cfg = DemoCfg(tracks=args.tracks, seconds=args.seconds, seed=args.seed)
    return demo_command(folder, library, cfg, gui=not args.no_gui,
                        embed=not args.no_embed, device=args.device)


def demo_command(folder: Path, library: Path, cfg: DemoCfg, *, gui: bool, embed: bool,
                 device: str | None) -> int:
    """Build, scan, embed and (with ``gui``) open the demo library; returns the exit status."""
    out = sys.stdout
    out.write(f"Generating {cfg.tracks} demo tracks ({cfg.seconds:g} s each) in {folder}\n")
    with cancel_on_interrupt() as cancel:
        report = build_demo(folder, cfg, progress=_progress, cancel=cancel)
    _finish_progress()
    _print_build(report)
    if report.cancelled:
        return EXIT_CANCELLED
    if not report.files:
        return fail("demo", "no demo track could be written", EXIT_ERRORS)

    from slapdesk.commands.scan import scan_command
    from slapdesk.library.scan.scanner import ScanCfg

    out.write(f"Indexing into {library}\n")
    out.flush()
    status = scan_command(library, [str(folder)], as_json=False, cfg=ScanCfg(workers=0))
    if status not in (EXIT_OK, EXIT_ERRORS):
        return status
    embedded = _embed(library, device) if embed else None
    if embedded is None and embed:
        out.write("No model is installed, so tracks are not embedded: text search uses tags "
                  "only. Import one with `slapdesk models import DIR`.\n")
    out.write(f"Demo library ready: {library}\n")
    lib_opt = f"--library {library}"
    out.write(f"Try: slapdesk {lib_opt} search \"calm piano\"\n")
    if not gui:
        return EXIT_ERRORS if report.errors else EXIT_OK
    out.flush()
    from slapdesk.app import run_gui

    return run_gui(str(library))


def _embed(library: Path, device: str | None) -> int | None:
    """Embed the library with the active model; None when no model is installed."""
    from slapdesk.commands.common import choose_model, load_audio_embedder
    from slapdesk.library.jobs.embed import embed_library, register_model
    from slapdesk.library.models import ModelChoiceError
    from slapdesk.library.store.database import Database

    try:
        bundle = choose_model(str(library), None)
    except ModelChoiceError:
        return None
    sys.stdout.write(f"Embedding with model {bundle.name!r}\n")
    sys.stdout.flush()
    try:
        with Database(library) as db:
            embedder = load_audio_embedder(bundle, device)
            register_model(db, embedder.model_id, bundle.name, str(bundle.path), embedder.dim)
            with cancel_on_interrupt() as cancel:
                summary = embed_library(db, embedder, cancel=cancel, progress=_embed_progress)
            _finish_progress()
    except expected_errors() as error:
        sys.stderr.write(f"slapdesk demo: embedding failed: {error}\n")
        return None
    sys.stdout.write(f"Embedded {summary.embedded} track(s).\n")
    for path, error in summary.errors:
        sys.stdout.write(f"  {path}: {error}\n")
    return summary.embedded


def _progress(done: int, total: int, relpath: str) -> None:
    # One rewritten line on a terminal; a line every 10 files (and the last) in a log.
    if sys.stderr.isatty():
        sys.stderr.write(f"\r  [{done}/{total}] {relpath[-60:]:<60}")
    elif done % 10 == 0 or done == total:
        sys.stderr.write(f"  [{done}/{total}] {relpath}\n")
    sys.stderr.flush()


def _embed_progress(p: object) -> None:
    _progress(p.done, p.total, p.message)  # type: ignore[attr-defined]


def _finish_progress() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\n")


def _print_build(report: DemoReport) -> None:
    kept = f" ({len(report.kept)} kept from an earlier run)" if report.kept else ""
    sys.stdout.write(f"{len(report.files)} demo track(s) in {report.folder}{kept}.\n")
    for path, error in report.errors:
        sys.stdout.write(f"  {path}: {error}\n")
    if report.cancelled:
        sys.stdout.write("Stopped; run the same command again to finish.\n")
