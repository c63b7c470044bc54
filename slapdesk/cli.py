"""Command line: ``slapdesk [--library PATH] COMMAND ...``; no command opens the window.

Each command lives in ``slapdesk/commands/<name>.py`` and exposes ``add_parser(subparsers)``,
which registers its arguments and a ``run(args) -> int`` handler. Handlers turn the parsed
arguments into plain values at once; no Namespace travels below them.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from slapdesk import __version__

# Command modules, in the order `--help` lists them.
COMMAND_MODULES: tuple[str, ...] = ("scan", "library")


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every available command."""
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
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"slapdesk.commands.{name}")
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
