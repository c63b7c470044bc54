"""``slapdesk scan PATH...``: index music folders (incrementally) into the library."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from slapdesk.library.progress import Progress
from slapdesk.library.scan.report import ScanReport
from slapdesk.library.scan.scanner import ScanCfg, scan
from slapdesk.library.store.database import Database, LibraryError
from slapdesk.library.store.paths import resolve_library_path
from slapdesk.library.store.stats import display

EXIT_OK, EXIT_FILE_ERRORS, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130

_DESCRIPTION = """\
Add music folders to the library and index every audio file in them: path, size,
duration, codec, sample rate, channels and the tags (title, artist, album, album artist,
genre, mood, year, track number, comment, BPM).

Scanning again is fast: only new or changed files (by size and modification time) are
read, files that disappeared leave the library, and a file you moved or renamed keeps its
place (and its embeddings). Files that cannot be read are listed with the reason; the scan
goes on. Press Ctrl-C to stop: what was indexed stays, and the next scan continues."""

_EPILOG = """\
exit status: 0 all files indexed; 1 some files could not be read (listed);
2 bad arguments or unusable library; 130 interrupted.

examples:
  slapdesk scan ~/Music                 index (or update) a folder
  slapdesk scan                         rescan every folder already in the library
  slapdesk --library /tmp/l.sqlite scan --json ~/Music"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``scan``."""
    parser = subparsers.add_parser(
        "scan",
        help="add music folders to the library and index them",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="folders (or single files) to index; none: rescan the library's folders",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help='print {"added", "updated", "removed", "unchanged", "errors": [{"path", "error"}]}',
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="processes reading tags (default: one per CPU; 0: no extra processes)",
    )
    parser.add_argument(
        "--embed",
        action="store_true",
        help="then embed new tracks with the active model (as `slapdesk embed`)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``slapdesk scan`` from parsed arguments."""
    if args.workers is not None and args.workers < 0:
        sys.stderr.write("slapdesk scan: --workers must be 0 or more\n")
        return EXIT_USAGE
    status = scan_command(
        resolve_library_path(args.library),
        list(args.paths),
        as_json=bool(args.json),
        cfg=ScanCfg(workers=args.workers),
    )
    if not args.embed or status in (EXIT_USAGE, EXIT_CANCELLED):
        return status
    from slapdesk.commands import embed

    # The same job as `slapdesk embed`, with its defaults; a file error in either counts.
    embedded = embed.run(argparse.Namespace(
        library=args.library, model=None, device=None, batch=8, workers=2, json=args.json,
    ))
    return max(status, embedded) if embedded != EXIT_CANCELLED else embedded


def scan_command(library: Path, paths: list[str], *, as_json: bool, cfg: ScanCfg) -> int:
    """Scan ``paths`` into the library file ``library`` and print the summary.

    Returns:
        The exit status (see the epilog of ``slapdesk scan --help``).
    """
    try:
        db = Database(library)
    except LibraryError as error:
        sys.stderr.write(f"slapdesk scan: {error}\n")
        return EXIT_USAGE
    with db:
        if not paths:
            paths = [display(row[0]) for row in db.execute("SELECT path FROM folders")]
            if not paths:
                sys.stderr.write(
                    "slapdesk scan: the library has no folders yet; name one, "
                    "e.g. slapdesk scan ~/Music\n"
                )
                return EXIT_USAGE
        cancel = threading.Event()
        with _ctrl_c_cancels(cancel):
            report = _run_with_bar(db, paths, cancel, cfg)
    if as_json:
        sys.stdout.write(json.dumps(report.to_json(), ensure_ascii=False) + "\n")
    else:
        _print_summary(report, library)
    if report.cancelled:
        return EXIT_CANCELLED
    return EXIT_FILE_ERRORS if report.errors else EXIT_OK


@contextmanager
def _ctrl_c_cancels(cancel: threading.Event) -> Iterator[None]:
    """First Ctrl-C: stop after the current batch (committed); second: stop at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_interrupt(signum: int, frame: object) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        sys.stderr.write("\nStopping after the current batch (Ctrl-C again to quit now)...\n")

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _run_with_bar(
    db: Database, paths: list[str], cancel: threading.Event, cfg: ScanCfg
) -> ScanReport:
    generator = scan(db, paths, cancel=cancel, cfg=cfg)
    bar = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=0, unit="file", file=sys.stderr, dynamic_ncols=True, leave=False)
    try:
        while True:
            try:
                progress = next(generator)
            except StopIteration as stop:
                return stop.value
            if bar is not None:
                _update_bar(bar, progress)
    finally:
        if bar is not None:
            bar.close()


def _update_bar(bar: object, progress: Progress) -> None:
    bar.total = progress.total or None  # type: ignore[attr-defined]
    bar.n = progress.done  # type: ignore[attr-defined]
    bar.set_description_str(progress.message.split(":")[0], refresh=False)  # type: ignore[attr-defined]
    bar.refresh()  # type: ignore[attr-defined]


def _print_summary(report: ScanReport, library: Path) -> None:
    out = sys.stdout
    moved = f" ({report.moved:,} moved)" if report.moved else ""
    state = "Stopped" if report.cancelled else "Scanned"
    out.write(
        f"{state} in {report.seconds:.1f} s: {report.added:,} added, {report.updated:,} "
        f"updated{moved}, {report.removed:,} removed, {report.unchanged:,} unchanged.\n"
    )
    if report.errors:
        noun = "file or folder" if len(report.errors) == 1 else "files or folders"
        out.write(f"{len(report.errors):,} {noun} could not be indexed fully:\n")
        for error in report.errors:
            out.write(f"  {display(error.path)}: {error.error}\n")
    if report.cancelled:
        out.write("Interrupted: run the same command again to finish the scan.\n")
    out.write(f"Library: {library}\n")
