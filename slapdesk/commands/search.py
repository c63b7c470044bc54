"""``slapdesk search "QUERY"``: find tracks by describing them, with filters."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from slapdesk.commands.common import (
    EXIT_OK,
    choose_model,
    expected_errors,
    fail,
    load_text_model,
    open_library,
)
from slapdesk.commands.moments import moment_text
from slapdesk.commands.output import one_line
from slapdesk.library.search.query_language import parse_query
from slapdesk.library.search.ranking import SearchError, SearchResult

if TYPE_CHECKING:
    from slapdesk.library.jobs.search import Ranking
    from slapdesk.library.models import ModelBundle

QUERY_HELP = """\
query language:
  mellow acoustic guitar       describe the sound (matched against the audio)
  -drums  -"heavy metal"       push results away from a description
  artist:miles  album:blue  genre:jazz  mood:calm  title:...  path:...
  year>1990  year<=2000  bpm<100  duration<5m  duration>=3:30
  like:PATH  like:#ID          more like this track (combine with text:
                               like:song.mp3 more acoustic)
  like:#ID@1:30                more like the moment at 1:30 of that track
  is:broken  is:silent         the tracks with a problem (also is:unreadable,
                               is:damaged; is:problem lists them all)
Free text also matches your tags (artist, album, title, ...); both ranks are fused."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``search``."""
    parser = subparsers.add_parser(
        "search",
        help="find tracks by describing what you want to hear",
        description="Search the library by sound and by tags.",
        epilog=QUERY_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_query_arguments(parser)
    parser.add_argument("--json", action="store_true", help="one JSON object per result line "
                                                           "(with its best moments)")
    parser.add_argument("--moments", action="store_true",
                        help="print where in each track it matches (mm:ss–mm:ss)")
    parser.set_defaults(run=run)


def add_query_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments shared with ``export``: the query, --limit, --model, --device."""
    # "*", not "+": a query may be only "-terms", which the command line hands over itself.
    parser.add_argument("query", nargs="*", help="what to look for (quote it or not)")
    parser.add_argument("--limit", type=int, default=20, metavar="N", help="results (default 20)")
    parser.add_argument("--model", metavar="NAME", help="bundle to use (default: the active one)")
    parser.add_argument("--device", help="cpu, cuda, mps (default: best available)")


def run_query(
    library: str | None, query: str, limit: int, model: str | None, device: str | None
) -> list[SearchResult]:
    """Open the library and model, run one query, return the ranked results.

    Raises:
        Exception: one of ``expected_errors()``, for the caller to report.
    """
    return rank_query(library, query, limit, model, device).results


def rank_query(
    library: str | None, query: str, limit: int, model: str | None, device: str | None
) -> Ranking:
    """Open the library and model, run one query, return the ranking with its match labels.

    Raises:
        Exception: one of ``expected_errors()``, for the caller to report.
    """
    from slapdesk.library.jobs.search import rank_tracks

    parsed = parse_query(query)
    if parsed.is_empty:
        raise SearchError("The query is empty: describe a sound, or filter (artist:..., year>...).")
    with open_library(library) as db:
        bundle = _bundle(library, parsed.has_similarity, model)
        model_id = bundle.model_id if bundle is not None else ""
        ranking = rank_tracks(db.conn, parsed, limit, model_id,
                              lambda: load_text_model(bundle, device).embed_text,
                              window_seconds=_window_seconds(bundle))
    if model_id and not ranking.by_sound:
        sys.stderr.write(
            "note: the library has no vectors for this model yet, so only tags are searched; "
            "run slapdesk embed to search by sound.\n"
        )
    return ranking


def _window_seconds(bundle: ModelBundle | None) -> float | None:
    """The model's window length, read from its config (no weights loaded)."""
    if bundle is None:
        return None
    from engine.bundle_info import BundleError, read_bundle_info

    try:
        return read_bundle_info(bundle.path).cfg.frontend.clip_seconds
    except BundleError:
        return None


def _bundle(library: str | None, needs_model: bool, model: str | None) -> ModelBundle | None:
    """The model to rank by sound with (None: tags only, as when no model is installed)."""
    from slapdesk.library.models import ModelChoiceError

    if not needs_model:
        return None
    try:
        return choose_model(library, model)
    except ModelChoiceError:
        if model:
            raise
        return None


def run(args: argparse.Namespace) -> int:
    """Run ``slapdesk search``."""
    if args.limit < 1:
        return fail("search", "--limit must be at least 1")
    try:
        ranking = rank_query(args.library, " ".join(args.query), args.limit, args.model,
                             args.device)
    except expected_errors() as error:
        return fail("search", str(error))
    results = ranking.results
    if args.json:
        for result in results:
            row = {**result.to_json(), "match": ranking.labels.get(result.track_id, "")}
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        return EXIT_OK
    if not results:
        sys.stdout.write("No matching tracks.\n")
        return EXIT_OK
    if ranking.note:
        sys.stdout.write(ranking.note + "\n")
    for rank, result in enumerate(results, start=1):
        name = " - ".join(x for x in (result.artist, result.title) if x) or result.path
        label = ranking.labels.get(result.track_id, "")
        match = f"  [{label}]" if label else ""
        sys.stdout.write(f"{rank:3d}. {one_line(name)}{match}\n     {one_line(result.path)}\n")
        if args.moments:
            sys.stdout.write(moment_text(result))
    return EXIT_OK
