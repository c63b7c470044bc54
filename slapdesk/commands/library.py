"""``slapdesk library``: what the library holds."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from slapdesk.commands.common import ReportedError, read_library, recover_before_reading
from slapdesk.commands.output import one_line
from slapdesk.library.store.paths import resolve_library_path
from slapdesk.library.store.stats import LibrarySummary, display, format_duration, summarise


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``library``."""
    parser = subparsers.add_parser(
        "library",
        help="show what the library holds (tracks, formats, duration, folders, problems)",
        description=(
            "Show the library file, how many tracks it holds in which formats, their total "
            "duration, the scanned folders, and the files that could not be read."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--problems",
        type=int,
        default=20,
        metavar="N",
        help="list at most N files with errors (default 20)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``slapdesk library`` from parsed arguments."""
    library = resolve_library_path(args.library)
    recover_before_reading(library)
    try:
        summary = read_library("library", args.library,
                               lambda conn: summarise(conn, max_problems=max(args.problems, 0)))
    except ReportedError as reported:
        return reported.code
    if args.json:
        sys.stdout.write(json.dumps(_as_json(summary, library), ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(_as_text(summary, library))
    return 0


def _as_json(summary: LibrarySummary, library: Path) -> dict[str, object]:
    return {
        "library": str(library),
        "tracks": summary.tracks,
        "readable": summary.readable,
        "total_seconds": round(summary.total_seconds, 3),
        "formats": summary.formats,
        "folders": [{"path": display(f.path), "tracks": f.tracks} for f in summary.folders],
        "problem_count": summary.problem_count,
        "problems": [
            {"path": display(path), "status": status, "error": error}
            for path, status, error in summary.problems
        ],
    }


def _as_text(summary: LibrarySummary, library: Path) -> str:
    lines = [
        f"Library:  {library}",
        f"Tracks:   {summary.tracks:,} ({summary.readable:,} readable)",
        f"Duration: {format_duration(summary.total_seconds)}",
        "Formats:  "
        + (", ".join(f"{name} {count:,}" for name, count in summary.formats.items()) or "none"),
        f"Folders:  {len(summary.folders)}",
    ]
    for folder in summary.folders:
        when = (
            dt.datetime.fromtimestamp(folder.last_scan_at).strftime("%Y-%m-%d %H:%M")
            if folder.last_scan_at
            else "never finished"
        )
        name = one_line(display(folder.path))
        lines.append(f"  {name}  ({folder.tracks:,} tracks, scanned {when})")
    lines.append(f"Files with errors: {summary.problem_count:,}")
    for path, status, error in summary.problems:
        lines.append(f"  {one_line(display(path))}: {error or status}")
    if summary.problem_count > len(summary.problems):
        lines.append(f"  ... and {summary.problem_count - len(summary.problems):,} more")
    return "\n".join(lines) + "\n"
