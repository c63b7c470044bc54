"""``slapdesk export --m3u8 FILE "QUERY"``: save search results as a playlist."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from engine.bundle import BundleError
from slapdesk.commands.common import EXIT_OK, fail
from slapdesk.commands.search import QUERY_HELP, add_query_arguments, run_query
from slapdesk.library.bundles import ModelChoiceError
from slapdesk.library.db import LibraryError
from slapdesk.library.query import QueryError
from slapdesk.library.search import SearchError, SearchResult


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


def m3u8_text(results: Sequence[SearchResult], playlist_dir: Path | None = None) -> str:
    """Extended M3U8: #EXTINF with seconds and "artist - title", paths relative when possible."""
    lines = ["#EXTM3U"]
    for result in results:
        seconds = -1 if result.duration is None else round(result.duration)
        label = " - ".join(x for x in (result.artist, result.title) if x)
        label = label or Path(result.path).stem
        lines.append(f"#EXTINF:{seconds},{label}")
        path = result.path
        if playlist_dir is not None:
            try:
                path = os.path.relpath(result.path, playlist_dir)
            except ValueError:
                path = result.path  # another drive on Windows: keep it absolute
        lines.append(path)
    return "\n".join(lines) + "\n"


def write_playlist(path: Path, results: Sequence[SearchResult]) -> None:
    """Write atomically, so a crash never leaves half a playlist."""
    path = path.expanduser().resolve()
    text = m3u8_text(results, path.parent)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", errors="surrogateescape") as out:
            out.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def run(args: argparse.Namespace) -> int:
    """Run ``slapdesk export``."""
    try:
        results = run_query(args.library, " ".join(args.query), args.limit, args.model,
                            args.device)
        write_playlist(Path(args.m3u8), results)
    except (LibraryError, ModelChoiceError, BundleError, SearchError, QueryError) as error:
        return fail("export", str(error))
    except OSError as error:
        return fail("export", f"cannot write {args.m3u8}: {error.strerror or error}")
    sys.stdout.write(f"Wrote {len(results)} track(s) to {args.m3u8}\n")
    return EXIT_OK
