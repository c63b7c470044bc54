"""``slapdesk audit``: list the tags you already have that the audio disagrees with."""

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
    load_embedder,
    open_library,
)

if TYPE_CHECKING:
    from slapdesk.library.autotag.audit import AuditRow

_DESCRIPTION = """\
Tag audit: every embedded track with a value in FIELD is scored against the alternatives
(by default, every value of that field used across your library), by the zero-shot text
classifier and by your own labels (the other tracks carrying each value), calibrated.
Tracks are listed most-suspect first with the value the audio suggests instead.

The audit never changes a tag. To act on a row, write the value with your tagger, or
use the Audit view in the window (replace is journaled and undoable)."""

_EPILOG = """\
examples:
  slapdesk audit                          genres, most suspect first
  slapdesk audit --field mood --limit 50
  slapdesk audit --query "artist:miles" --json
  slapdesk audit --terms "rock, jazz, ambient"   compare against these values only"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``audit``."""
    from slapdesk.library.autotag.audit import METHODS

    parser = subparsers.add_parser(
        "audit",
        help="rank your existing tags by how much the audio disagrees (changes nothing)",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--field", default="genre", help="genre, mood or any tag name (genre)")
    parser.add_argument("--terms", help="comma-separated values to compare against "
                                        "(default: the field's values across the library)")
    parser.add_argument("--query", help="only list tracks this search finds")
    parser.add_argument("--method", default="both", choices=METHODS,
                        help="text (zero-shot), library (your own labels) or both (default)")
    parser.add_argument("--limit", type=int, default=20, metavar="N",
                        help="rows to list (default 20; 0 = all)")
    parser.add_argument("--json", action="store_true", help="one JSON object per row")
    parser.add_argument("--model", metavar="NAME", help="bundle to use (default: the active one)")
    parser.add_argument("--device", help="cpu, cuda, mps (default: best available)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``slapdesk audit``."""
    from slapdesk.library.autotag.audit import AuditError, audit_library

    if args.limit < 0:
        return fail("audit", "--limit must be 0 (all) or more")
    terms = [t.strip() for t in args.terms.split(",") if t.strip()] if args.terms else None
    try:
        with open_library(args.library) as db:
            bundle = choose_model(args.library, args.model)
            embedder = load_embedder(bundle, args.device)
            selected = None
            if args.query:
                from slapdesk.commands.search import run_query

                found = run_query(args.library, args.query, 1_000_000, args.model, args.device)
                selected = [r.track_id for r in found]
            rows = audit_library(
                db.conn, embedder.model_id, embedder.embed_text, field=args.field.strip().lower(),
                terms=terms, method=args.method, track_ids=selected,
            )
    except (*expected_errors(), AuditError) as error:
        return fail("audit", str(error))
    shown = rows if args.limit == 0 else rows[: args.limit]
    if args.json:
        for row in shown:
            sys.stdout.write(json.dumps(row.to_json(), ensure_ascii=False) + "\n")
    else:
        _print_table(shown, len(rows), args.field)
    return EXIT_OK


def _print_table(rows: list[AuditRow], total: int, field: str) -> None:
    suspect = sum(1 for row in rows if row.suspicion > 0)
    sys.stdout.write(
        f"{total} track(s) with a {field}; showing {len(rows)}, most suspect first "
        f"({suspect} shown where the audio prefers another value).\n"
    )
    for rank, row in enumerate(rows, start=1):
        name = " - ".join(x for x in (row.artist, row.title) if x) or row.path
        current = "; ".join(row.current)
        sys.stdout.write(
            f"{rank:3d}. {name}\n     {field}: {current} ({row.score:.2f})  "
            f"audio suggests: {row.suggested} ({row.suggested_score:.2f})\n"
            f"     {row.path}\n"
        )
