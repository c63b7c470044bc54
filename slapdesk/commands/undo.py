"""``slapdesk undo [RUN]``: restore the tags a run wrote (default: the last run)."""

from __future__ import annotations

import argparse
import os
import sys

from slapdesk.commands.common import (
    EXIT_CANCELLED,
    EXIT_ERRORS,
    EXIT_OK,
    cancel_on_interrupt,
    fail,
    open_library,
)
from slapdesk.commands.output import one_line
from slapdesk.library.store.database import LibraryError
from slapdesk.library.store.stats import display
from slapdesk.library.tags.journal import (
    JournalBusyError,
    NothingLeftToUndoError,
    NothingToUndoError,
    RunResult,
    undo,
)

_DESCRIPTION = """\
Put back the tags a tagging run changed, exactly as they were. Without RUN, the most recent
run with changes still applied is undone; `slapdesk runs` lists them. The undo is written
as safely as the run was (journal first, verified rewrite), and is itself a run, so
`slapdesk undo` right after an undo redoes it.

A file changed on disk since the run (by size or modification time, or whose tag holds
something else now) is skipped and named, never overwritten."""

_EPILOG = """\
exit status: 0 restored (or RUN was undone already); 1 some files skipped or failed
(listed); 2 no run to undo or unusable library; 130 interrupted (the rest of the run stays
applied; undo it again)."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``undo``."""
    parser = subparsers.add_parser(
        "undo",
        help="restore the tags the last (or a given) tagging run changed",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run_id", nargs="?", type=int, metavar="RUN", help="the run to undo")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``slapdesk undo`` from parsed arguments."""
    try:
        with open_library(args.library) as db, cancel_on_interrupt() as cancel:
            result = undo(db, args.run_id, cancel=cancel)
    except NothingLeftToUndoError as done:
        # Undoing a named run twice (say, again after a crash) leaves it undone: success.
        sys.stdout.write(f"Nothing to do: {done}.\n")
        return EXIT_OK
    except (LibraryError, NothingToUndoError, JournalBusyError) as error:
        return fail("undo", str(error))
    sys.stdout.write(format_result(result))
    if result.cancelled:
        return EXIT_CANCELLED
    return EXIT_ERRORS if result.failed or result.skipped else EXIT_OK


def format_result(result: RunResult) -> str:
    """A short report: counts, then one line per skipped or failed file."""
    lines = [
        f"Undo run {result.run_id}: restored {len(result.written)} file(s)"
        + (f", {len(result.skipped)} skipped" if result.skipped else "")
        + (f", {len(result.failed)} failed" if result.failed else "")
        + (" (interrupted)" if result.cancelled else "")
    ]
    for path, reason in result.skipped:
        lines.append(f"  skipped {one_line(display(os.fsencode(path)))}: {reason}")
    for path, reason in result.failed:
        lines.append(f"  failed  {one_line(display(os.fsencode(path)))}: {reason}")
    return "\n".join(lines) + "\n"
