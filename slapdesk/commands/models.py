"""``slapdesk models [list|import DIR|use NAME]``: the model bundles and the active one."""

from __future__ import annotations

import argparse
import sys

from slapdesk.commands.common import EXIT_OK, expected_errors, fail, open_library


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``models``."""
    parser = subparsers.add_parser(
        "models",
        help="list, import and choose model bundles",
        description=(
            "Model bundles turn audio and text into vectors. SlapDesk ships a default one; "
            "import bundles trained elsewhere, or train your own with slapdesk-train."
        ),
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.add_parser("list", help="list bundles (the default)")
    importer = actions.add_parser("import", help="check a bundle folder and add it")
    importer.add_argument("folder", help="a bundle folder (config.json, model.safetensors, ...)")
    importer.add_argument("--name", help="name to list it under (default: the folder's name)")
    chooser = actions.add_parser("use", help="make a bundle the library's active model")
    chooser.add_argument("name", help="a name from `slapdesk models`, or a bundle folder")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``slapdesk models``."""
    from slapdesk.library.bundles import import_model

    try:
        if args.action == "import":
            entry = import_model(args.folder, args.name)
            sys.stdout.write(f"Imported {entry.name} ({entry.info.model_id}).\n")
            return EXIT_OK
        if args.action == "use":
            return _use(args.library, args.name)
        return _list(args.library)
    except expected_errors() as error:
        return fail("models", str(error))


def _use(library: str | None, name: str) -> int:
    from slapdesk.library.bundles import find_model, use_model

    entry = find_model(name)
    with open_library(library, must_exist=False) as db:
        use_model(db, entry)
        missing = db.execute(
            "SELECT COUNT(*) FROM tracks t WHERE status != 'error' AND NOT EXISTS (SELECT 1 FROM "
            "embeddings e WHERE e.track_id = t.id AND e.model_id = ?)",
            (entry.info.model_id,),
        ).fetchone()[0]
    sys.stdout.write(f"Active model: {entry.name}.\n")
    if missing:
        sys.stdout.write(f"{missing} track(s) need vectors for it: run slapdesk embed.\n")
    return EXIT_OK


def _list(library: str | None) -> int:
    from slapdesk.library.bundles import ModelChoiceError, active_model, list_models
    from slapdesk.library.db import LibraryError

    entries = list_models()
    active_id = None
    try:
        with open_library(library) as db:
            active_id = active_model(db).info.model_id
    except (LibraryError, ModelChoiceError):
        pass  # no library yet: nothing is marked active
    if not entries:
        sys.stdout.write("No model bundles installed. Import one: slapdesk models import DIR\n")
        return EXIT_OK
    for entry in entries:
        mark = "*" if entry.info.model_id == active_id else " "
        cfg = entry.info.cfg
        sys.stdout.write(
            f"{mark} {entry.name:<20} {entry.origin:<8} {cfg.objective:<5} "
            f"audio={cfg.audio.name} dim={cfg.head.embed_dim} id={entry.info.model_id[:12]}\n"
        )
    return EXIT_OK
