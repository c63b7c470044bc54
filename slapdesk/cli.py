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
import sys
from collections.abc import Sequence

from slapdesk import __version__

# Command modules, in the order `--help` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "scan", "library", "embed", "search", "tag", "audit", "runs", "undo", "export", "models",
    "demo",
)


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


def gui_folders(argv: Sequence[str]) -> tuple[str | None, list[str], bool] | None:
    """If ``argv`` asks for the window (no command, or only folders), say how to open it.

    Returns:
        ``(library, folders, verbose)``, or None when ``argv`` names a command or an option
        the window does not take (``--help``, ``--version``): argparse handles those.
    """
    library, verbose, rest = None, False, list(argv)
    positional: list[str] = []
    while rest:
        token = rest.pop(0)
        if token == "--library" and rest:
            library = rest.pop(0)
        elif token.startswith("--library="):
            library = token.partition("=")[2]
        elif token in ("-v", "--verbose"):
            verbose = True
        elif token.startswith("-"):
            return None
        else:
            positional.append(token)
    commands = {name.replace("_", "-") for name in COMMAND_MODULES} | set(COMMAND_MODULES)
    if any(p in commands or not os.path.isdir(p) for p in positional):
        return None
    return library, positional, verbose


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
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if args.command is None:  # only reached with arguments gui_folders() declined
        parser.print_help()
        return 0
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
