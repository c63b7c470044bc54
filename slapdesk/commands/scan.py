"""``slapdesk scan PATH...``: index music folders (incrementally) into the library."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from slapdesk.commands.common import recover_writes
from slapdesk.commands.output import one_line
from slapdesk.commands.terminal_job import terminal_job
from slapdesk.library.scan.report import ScanReport
from slapdesk.library.scan.scanner import ScanCfg, run_scan
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
        library=args.library, model=None, device=None, batch=8, workers=None, json=args.json,
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
        recover_writes(db)
        if not paths:
            paths = [display(row[0]) for row in db.execute("SELECT path FROM folders")]
            if not paths:
                sys.stderr.write(
                    "slapdesk scan: the library has no folders yet; name one, "
                    "e.g. slapdesk scan ~/Music\n"
                )
                return EXIT_USAGE
        with terminal_job("file", leave=False) as control:
            report = run_scan(db, paths, cancel=control.cancel, cfg=cfg,
                              on_progress=control.report)
    if as_json:
        sys.stdout.write(json.dumps(report.to_json(), ensure_ascii=False) + "\n")
    else:
        _print_summary(report, library)
    if report.cancelled:
        return EXIT_CANCELLED
    return EXIT_FILE_ERRORS if report.errors else EXIT_OK


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
            out.write(f"  {one_line(display(error.path))}: {error.reason}\n")
    if report.cancelled:
        out.write("Interrupted: run the same command again to finish the scan.\n")
    out.write(f"Library: {library}\n")
