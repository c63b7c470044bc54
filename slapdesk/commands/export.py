"""``slapdesk export --m3u8 FILE "QUERY"``: save search results as a playlist."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from slapdesk.commands.common import EXIT_ERRORS, EXIT_OK, expected_errors, fail
from slapdesk.commands.output import one_line
from slapdesk.commands.search import QUERY_HELP, add_query_arguments, run_query
from slapdesk.library.playlists import PlaylistEntry, PlaylistReport, export_m3u8
from slapdesk.library.search.ranking import SearchResult


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``export``."""
    parser = subparsers.add_parser(
        "export",
        help="save search results as an M3U8 playlist",
        description="Run a search and write its results as an extended M3U8 playlist.",
        epilog=QUERY_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--m3u8", required=True, metavar="FILE", help="playlist file to write")
    add_query_arguments(parser)
    parser.set_defaults(run=run)


def write_playlist(path: Path, results: Sequence[SearchResult]) -> PlaylistReport:
    """Write the results as an M3U8 playlist; says what was written and what left out."""
    entries = [
        PlaylistEntry(
            path=result.path,
            duration=result.duration,
            title=" - ".join(x for x in (result.artist, result.title) if x),
        )
        for result in results
    ]
    return export_m3u8(path.expanduser().resolve(), entries)


def run(args: argparse.Namespace) -> int:
    """Run ``slapdesk export``."""
    try:
        results = run_query(args.library, " ".join(args.query), args.limit, args.model,
                            args.device)
        report = write_playlist(Path(args.m3u8), results)
    except expected_errors() as error:
        return fail("export", str(error))
    except OSError as error:
        return fail("export", f"cannot write {args.m3u8}: {error.strerror or error}")
    sys.stdout.write(f"Wrote {report.written} track(s) to {args.m3u8}\n")
    if not report.left_out:
        return EXIT_OK
    sys.stdout.write(f"Left out {len(report.left_out)} whose names a player would misread:\n")
    for path, why in report.left_out:
        sys.stdout.write(f"  {one_line(path)}: {why}\n")
    return EXIT_ERRORS
