"""``slapdesk runs``: the tagging runs in the journal (what ``slapdesk undo`` restores)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from slapdesk.commands.common import ReportedError, read_library, recover_before_reading
from slapdesk.library.store.paths import resolve_library_path
from slapdesk.library.tags.runs import RunInfo, list_runs

_DESCRIPTION = """\
List the tagging runs, newest first: when, which vocabulary, which write policy, how many
files, and how many field changes were applied, failed or undone. An undo is a run too
(policy "undo"), so it can be undone in turn."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``runs``."""
    parser = subparsers.add_parser(
        "runs",
        help="list tagging runs (what `slapdesk undo` can restore)",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--limit", type=int, default=20, metavar="N", help="show the N newest (default 20)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object per run")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``slapdesk runs`` from parsed arguments."""
    recover_before_reading(resolve_library_path(args.library))
    try:
        runs = read_library("runs", args.library, lambda conn: list_runs(conn, max(args.limit, 0)))
    except ReportedError as reported:
        return reported.code
    if args.json:
        for info in runs:
            sys.stdout.write(json.dumps(_as_json(info), ensure_ascii=False) + "\n")
        return 0
    sys.stdout.write(format_runs(runs))
    return 0


def _as_json(info: RunInfo) -> dict[str, object]:
    return {
        "run": info.run_id,
        "created_at": info.created_at,
        "vocab": info.vocab,
        "policy": info.policy,
        "status": info.status,
        "model_id": info.model_id,
        "files": info.files,
        **info.counts,
        "undo_of": info.undo_of,
    }


def format_runs(runs: list[RunInfo]) -> str:
    """The runs as an aligned text table (or a hint when there are none)."""
    if not runs:
        return "No tagging runs yet. Write tags with `slapdesk tag --apply`.\n"
    header = ("RUN", "DATE", "VOCAB", "POLICY", "STATUS", "FILES", "APPLIED", "FAILED", "UNDONE")
    rows = [header]
    for info in runs:
        when = dt.datetime.fromtimestamp(info.created_at).strftime("%Y-%m-%d %H:%M:%S")
        policy = f"undo of {info.undo_of}" if info.undo_of is not None else info.policy or "-"
        rows.append(
            (
                str(info.run_id), when, info.vocab or "-", policy, info.status, str(info.files),
                str(info.counts["applied"]), str(info.counts["failed"]),
                str(info.counts["undone"]),
            )
        )  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join(lines) + "\n"
