"""``slapdesk embed``: compute the active model's vectors for every track that lacks one."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from functools import cache, partial
from typing import TYPE_CHECKING

from slapdesk.commands.common import (
    EXIT_CANCELLED,
    EXIT_ERRORS,
    EXIT_OK,
    choose_model,
    expected_errors,
    fail,
    load_audio_embedder,
    open_library,
)
from slapdesk.commands.output import one_line
from slapdesk.library.tags.reasons import plain_reason

if TYPE_CHECKING:
    from engine.inference import Embedder
    from slapdesk.library.jobs.control import JobControl
    from slapdesk.library.jobs.embed import EmbedSummary
    from slapdesk.library.models import ModelBundle
    from slapdesk.library.store.database import Database

_DESCRIPTION = """\
Embed every indexed track that has no vector for the active model yet: K evenly spaced
windows per track are decoded in parallel and embedded in batches; the track vector is
their average. Window vectors are kept too. Safe to stop (Ctrl-C) and run again: what is
stored stays, nothing is done twice."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``embed``."""
    parser = subparsers.add_parser(
        "embed",
        help="compute audio vectors for search and tagging",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", metavar="NAME", help="bundle to use (default: the active one)")
    parser.add_argument("--device", help="cpu, cuda, cuda:1, mps (default: best available)")
    parser.add_argument("--batch", type=int, default=8, metavar="N", help="tracks per batch")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="threads that decode and, on a CPU, run the model "
                             "(default: one per CPU core, up to 4)")
    parser.add_argument("--moments", action="store_true",
                        help="then add window vectors every few seconds (find the moment "
                             "inside a track); resumable, like the first pass")
    parser.add_argument("--hop", type=float, metavar="S",
                        help="seconds between moment windows, remembered for this model "
                             "(default: the model's window length)")
    parser.add_argument("--retry-failed", action="store_true",
                        help="try again the files whose audio could not be decoded before "
                             "(unchanged files are otherwise skipped)")
    parser.add_argument("--json", action="store_true", help="print a JSON summary")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``slapdesk embed``."""
    if args.batch < 1 or (args.workers is not None and args.workers < 1):
        return fail("embed", "--batch and --workers must be at least 1")
    if getattr(args, "hop", None) is not None and not args.hop > 0:
        return fail("embed", "--hop must be a positive number of seconds")
    from slapdesk.commands.moments import report_moments, run_moment_pass
    from slapdesk.commands.terminal_job import terminal_job

    moments = None
    try:
        with open_library(args.library) as db:
            with terminal_job("track", "Embedding") as control:
                bundle = choose_model(args.library, args.model)
                # Loaded when a pass first has work, once for both passes.
                load_model = cache(partial(load_audio_embedder, bundle, args.device))
                summary = _embed_pending(db, bundle, args, control, load_model)
            if getattr(args, "moments", False) and not summary.cancelled:
                moments = run_moment_pass(db, bundle, args.device, args.hop, load_model)
    except expected_errors() as error:
        return fail("embed", str(error))
    _report(summary, as_json=args.json)
    if moments is not None:
        report_moments(moments, as_json=args.json)
    if summary.cancelled or (moments is not None and moments.cancelled):
        return EXIT_CANCELLED
    return EXIT_ERRORS if summary.errors or (moments and moments.errors) else EXIT_OK


def _embed_pending(db: Database, bundle: ModelBundle, args: argparse.Namespace,
                   control: JobControl, load_model: Callable[[], Embedder]) -> EmbedSummary:
    """Embed what lacks a vector; the model is loaded (``load_model()``) only for work."""
    from engine.bundle_info import read_bundle_info
    from slapdesk.library.jobs.embed import (
        EmbedSummary,
        count_failed_before,
        embed_library,
        pending_tracks,
        register_model,
    )
    from slapdesk.library.progress import Progress

    info = read_bundle_info(bundle.path)  # id and size without loading the weights
    register_model(db, info.model_id, bundle.name, str(bundle.path), info.cfg.head.embed_dim)
    retry = bool(getattr(args, "retry_failed", False))
    total = len(pending_tracks(db, info.model_id, retry_failed=retry))
    if total == 0:
        return EmbedSummary(failed_before=0 if retry else count_failed_before(db, info.model_id))
    # The bar shows at once: torch and the model take seconds to load before the first track.
    control.report(Progress(0, total, "loading the model…"), force=True)
    embedder = load_model()
    if control.cancelled:  # Ctrl-C while the model loaded
        return EmbedSummary(cancelled=True)
    return embed_library(db, embedder, cancel=control.cancel, progress=control.report,
                         batch_tracks=args.batch, decode_workers=args.workers,
                         retry_failed=retry)


def _report(summary: EmbedSummary, *, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps({
            "embedded": summary.embedded,
            "abstained": summary.abstained,
            "errors": [{"path": p, "error": e} for p, e in summary.errors],
            "failed_before": summary.failed_before,
            "cancelled": summary.cancelled,
        }) + "\n")
        return
    lines = [f"Embedded {summary.embedded} track(s)."]
    if summary.abstained:
        lines.append(f"{summary.abstained} of them hold only silence, noise or a test tone: "
                     "they get no tags and rank last in search.")  # fmt: skip
    if summary.errors:
        lines.append(f"{len(summary.errors)} file(s) could not be embedded:")
        lines += [f"  {one_line(str(path))}: {plain_reason(error)}"
                  for path, error in summary.errors]
    if summary.errors or summary.failed_before:
        skipped = (f"{summary.failed_before} file(s) that failed before were skipped; "
                   if summary.failed_before else "")
        lines.append(f"{skipped}`slapdesk search is:unreadable` lists them, and "
                     "`slapdesk embed --retry-failed` tries them again.")
    if summary.cancelled:
        lines.append("Stopped early; run slapdesk embed again to continue.")
    sys.stdout.write("\n".join(lines) + "\n")
