"""Command line: ``slapdesk [--library PATH] COMMAND ...``; no command opens the window.

Each command lives in ``slapdesk/commands/<name>.py`` and exposes ``add_parser(subparsers)``,
which registers its arguments and a ``run(args) -> int`` handler. Handlers turn the parsed
arguments into plain values at once; no Namespace travels below them.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sqlite3
import sys
from collections.abc import Sequence

from slapdesk import __version__
from slapdesk.commands.output import safe_output

# Command modules, in the order `--help` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "scan", "library", "embed", "search", "tag", "audit", "runs", "undo", "export", "models",
    "demo",
)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Build the top-level parser with every command, or only with the command ``only``.

    Each command module imports what its command needs; registering one command spares a
    quick command (``search``) the imports of all the others.
    """
    parser = argparse.ArgumentParser(
        prog="slapdesk",
        description=(
            "SlapDesk: find music by describing it, auto-tag your files, and train the "
            "model on your own collection, offline. Without a command, opens the app."
        ),
    )
    parser.add_argument("--version", action="version", version=f"slapdesk {__version__}")
    parser.add_argument(
        "--library",
        metavar="PATH",
        help="library database file (default: $SLAPDESK_LIBRARY, else the user data folder)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in (only,) if only in COMMAND_MODULES else COMMAND_MODULES:
        module = importlib.import_module(f"slapdesk.commands.{name}")
        module.add_parser(subparsers)
    return parser


def _global_options(argv: Sequence[str]) -> tuple[str | None, bool, list[str]]:
    """``--library`` and ``--verbose`` wherever they are, and every other token in order."""
    library, verbose, rest, others = None, False, list(argv), []
    while rest:
        token = rest.pop(0)
        if token == "--library" and rest:
            library = rest.pop(0)
        elif token.startswith("--library="):
            library = token.partition("=")[2]
        elif token in ("-v", "--verbose"):
            verbose = True
        else:
            others.append(token)
    return library, verbose, others


def named_command(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names, if its first token past the global options is one."""
    others = _global_options(argv)[2]
    return others[0] if others and others[0] in COMMAND_MODULES else None


def gui_folders(argv: Sequence[str]) -> tuple[str | None, list[str], bool] | None:
    """If ``argv`` asks for the window (no command, or only folders), say how to open it.

    Returns:
        ``(library, folders, verbose)``, or None when ``argv`` names a command or an option
        the window does not take (``--help``, ``--version``): argparse handles those.
    """
    library, verbose, positional = _global_options(argv)
    if any(token.startswith("-") for token in positional):
        return None
    commands = {name.replace("_", "-") for name in COMMAND_MODULES} | set(COMMAND_MODULES)
    if any(p in commands or not os.path.isdir(p) for p in positional):
        return None
    return library, positional, verbose


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """Parse ``argv``; a query's ``-term`` words (``search -drums``) stay part of the query.

    argparse takes any word that starts with "-" for an option it does not know; for commands
    with a query such words are the query language's negatives.
    """
    args, extra = parser.parse_known_args(argv)
    negatives = [w for w in extra if len(w) > 1 and w[0] == "-" and w[1] != "-"]
    if extra and getattr(args, "query", None) is not None and negatives == extra:
        args.query = [*args.query, *extra]
    elif extra:
        parser.parse_args(argv)  # says which arguments it does not know, and exits
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the process exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    window = gui_folders(argv)
    if window is not None:
        library, folders, verbose = window
        logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                            format="%(levelname)s %(name)s: %(message)s")
        from slapdesk.app import run_gui

        return run_gui(library, folders)
    parser = build_parser(named_command(argv))
    args = _parse(parser, argv)
    if args.command is None:  # only reached with arguments gui_folders() declined
        parser.print_help()
        return 0
    # Names and tags come from anyone's files: nothing printed may drive the terminal.
    with safe_output():
        logging.basicConfig(
            level=logging.DEBUG if args.verbose else logging.WARNING,
            format="%(levelname)s %(name)s: %(message)s",
        )
        return _run_command(args)


def _run_command(args: argparse.Namespace) -> int:
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        return 130
    except sqlite3.Error as error:  # a full disk, an I/O error, a read-only library file
        from slapdesk.commands.common import EXIT_USAGE, database_error_line, fail

        return fail(args.command, database_error_line(args.library, error), EXIT_USAGE)


if __name__ == "__main__":
    sys.exit(main())
