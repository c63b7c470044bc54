"""``slapdesk tag``: propose genre / mood / instrument tags from the sound, then write them."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from slapdesk.commands.common import (
    EXIT_CANCELLED,
    EXIT_ERRORS,
    EXIT_OK,
    cancel_on_interrupt,
    choose_model,
    expected_errors,
    fail,
    load_text_model,
    open_library,
)
from slapdesk.commands.output import one_line

if TYPE_CHECKING:
    from slapdesk.library.autotag.proposals import TrackProposals
    from slapdesk.library.store.database import Database
    from slapdesk.library.tags.journal import RunResult
    from slapdesk.library.tags.plan import PlannedChange

_DESCRIPTION = """\
Zero-shot auto-tagging: every embedded track is scored against a vocabulary (each term
read through several prompts), scores are calibrated per term so one threshold fits all,
and the strongest terms above the threshold are proposed.

Without --apply nothing is written: a table shows each file's current value and the
proposals with their scores. With --apply the proposals are written into the files'
tags, journaled first, verified, and undoable with `slapdesk undo`."""

_EPILOG = """\
write policies (--policy):
  own-fields  only SlapDesk's own field (SLAPDESK_GENRE, ...); your tags untouched (default)
  fill-empty  also the standard GENRE / MOOD, where the file has none
  merge       also the standard field: your values first, then new ones
  replace     also the standard field, replaced by the proposals

examples:
  slapdesk tag --vocab genre                      review genre proposals
  slapdesk tag --vocab mood --apply --policy fill-empty
  slapdesk tag --terms "lofi, vaporwave, synthwave" --field genre --threshold 0.3
  slapdesk tag --vocab instrument --query "artist:miles" --apply"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``tag``."""
    parser = subparsers.add_parser(
        "tag",
        help="propose tags from the sound and write them (reviewed, undoable)",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--vocab", help="vocabulary name (genre, mood, instrument, yours) or .toml")
    source.add_argument("--terms", help='your own comma-separated terms, e.g. "lofi, vaporwave"')
    parser.add_argument("--field", default="genre", help="field --terms fill (default genre)")
    parser.add_argument("--query", help="only tracks this search finds (filters and text)")
    parser.add_argument("--top-k", type=int, default=3, metavar="K", help="most terms per track")
    parser.add_argument(
        "--threshold", type=float, default=0.15, metavar="P",
        help="minimum calibrated score, 0-1 (default 0.15)",
    )
    parser.add_argument("--policy", default="own-fields",
                        choices=("own-fields", "fill-empty", "merge", "replace"))
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="only show proposals (default)")
    mode.add_argument("--apply", action="store_true", help="write the proposals into the files")
    parser.add_argument("--json", action="store_true", help="print proposals as JSON lines")
    parser.add_argument("--model", metavar="NAME", help="bundle to use (default: the active one)")
    parser.add_argument("--device", help="cpu, cuda, mps (default: best available)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``slapdesk tag``."""
    from slapdesk.library.autotag.proposals import (
        NotEmbeddedError,
        planned_changes,
        propose_for_library,
    )
    from slapdesk.library.autotag.vocabulary import (
        VocabularyError,
        inline_vocabulary,
        load_vocabulary,
    )
    from slapdesk.library.tags.journal import JournalBusyError

    if args.top_k < 1 or not 0.0 <= args.threshold <= 1.0:
        return fail("tag", "--top-k must be at least 1 and --threshold between 0 and 1")
    try:
        vocabulary = (
            load_vocabulary(args.vocab) if args.vocab else inline_vocabulary(args.terms, args.field)
        )
        with open_library(args.library) as db:
            bundle = choose_model(args.library, args.model)
            embedder = load_text_model(bundle, args.device)
            selected = _selected_ids(args.library, args.query, args.model, args.device)
            found = propose_for_library(
                db, embedder.model_id, embedder.embed_text, vocabulary,
                top_k=args.top_k, threshold=args.threshold, track_ids=selected,
            )
            _show(found, vocabulary.field, as_json=args.json)
            if not args.apply:
                return EXIT_OK
            # Tags go to the field the vocabulary fills (SLAPDESK_GENRE for "--terms ...").
            changes = planned_changes(found, vocabulary.field)
            result = _apply(db, changes, args.policy, embedder.model_id, vocabulary.field)
    except (*expected_errors(), VocabularyError, NotEmbeddedError, JournalBusyError) as error:
        return fail("tag", str(error))
    _report(result)
    if result.cancelled:
        return EXIT_CANCELLED
    return EXIT_ERRORS if result.failed else EXIT_OK


def _selected_ids(
    library: str | None, query: str | None, model: str | None, device: str | None
) -> list[int] | None:
    if not query:
        return None
    from slapdesk.commands.search import run_query

    return [r.track_id for r in run_query(library, query, 1_000_000, model, device)]


def _apply(
    db: Database, changes: list[PlannedChange], policy: str, model_id: str, vocab: str
) -> RunResult:
    from slapdesk.library.tags.journal import apply_changes

    with cancel_on_interrupt() as cancel:
        return apply_changes(
            db, changes, policy, model_id=model_id, vocab=vocab, cancel=cancel
        )


def _show(found: list[TrackProposals], field: str, *, as_json: bool) -> None:
    if as_json:
        for item in found:
            sys.stdout.write(json.dumps({
                "id": item.track_id,
                "path": str(item.path),
                "current": list(item.current),
                "proposed": [{"tag": p.term, "score": round(p.score, 4)} for p in item.proposals],
            }, ensure_ascii=False) + "\n")
        return
    with_proposals = [item for item in found if item.proposals]
    sys.stdout.write(
        f"{len(with_proposals)} of {len(found)} track(s) get {field} proposals:\n"
    )
    for item in with_proposals:
        current = "; ".join(item.current) or "-"
        proposed = ", ".join(f"{p.term} ({p.score:.2f})" for p in item.proposals)
        name = one_line(item.path.name)
        sys.stdout.write(f"  {name}\n    now: {current}\n    proposed: {proposed}\n")


def _report(result: RunResult) -> None:
    lines = [
        f"Run {result.run_id}: wrote {len(result.written)} file(s), "
        f"{len(result.unchanged)} already had these tags."
    ]
    for path, reason in result.skipped:
        lines.append(f"  skipped {one_line(str(path))}: {reason}")
    for path, reason in result.failed:
        lines.append(f"  FAILED {one_line(str(path))}: {reason}")
    if result.written:
        lines.append(f"Undo with: slapdesk undo {result.run_id}")
    sys.stdout.write("\n".join(lines) + "\n")
