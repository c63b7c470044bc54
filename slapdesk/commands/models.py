"""``slapdesk models [list|import DIR|use NAME]``: the model bundles and the active one.

Each library keeps its own active model (in its database), shared with the window; a library
that has not chosen one uses the user's default (``active_model`` in settings.toml), which
``models use`` sets when there is no library yet.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from slapdesk.commands.common import (
    EXIT_OK,
    choose_model,
    expected_errors,
    fail,
    model_dirs,
    open_library,
)


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
    try:
        if args.action == "import":
            return _import(args.library, Path(args.folder), args.name)
        if args.action == "use":
            return _use(args.library, args.name)
        return _list(args.library)
    except (*expected_errors(), ValueError) as error:
        return fail("models", str(error))


def _import(library: str | None, folder: Path, name: str | None) -> int:
    from slapdesk.library.models import import_bundle

    models_dir, _ = model_dirs(library)
    bundle = import_bundle(folder, models_dir, name)
    sys.stdout.write(f"Imported {bundle.name} ({bundle.model_id[:12]}) into {bundle.path}.\n")
    return EXIT_OK


def _use(library: str | None, name: str) -> int:
    import dataclasses

    from engine.bundle import load_bundle
    from slapdesk.library.jobs.active_model import choose_for_library
    from slapdesk.library.jobs.embed import pending_tracks
    from slapdesk.library.store.paths import resolve_library_path
    from slapdesk.settings import load_settings, save_settings, settings_path

    bundle = choose_model(library, name)
    load_bundle(bundle.path, device="cpu", with_target=False)  # a bundle that cannot load: no
    path = resolve_library_path(library)
    if not path.is_file():
        settings = settings_path()
        save_settings(dataclasses.replace(load_settings(settings), active_model=str(bundle.path)),
                      settings)
        sys.stdout.write(f"No library at {path} yet: {bundle.name} is now the model of every "
                         "library that has not chosen one.\n")
        return EXIT_OK
    with open_library(library) as db:
        choose_for_library(db, str(bundle.path))
        missing = len(pending_tracks(db, bundle.model_id))
    sys.stdout.write(f"Active model of {path}: {bundle.name}.\n")
    if missing:
        sys.stdout.write(f"{missing} track(s) need vectors for it: run slapdesk embed.\n")
    return EXIT_OK


def _list(library: str | None) -> int:
    from slapdesk.library.models import list_bundles

    models_dir, runs_dir = model_dirs(library)
    bundles = list_bundles(models_dir, runs_dir)
    if not bundles:
        sys.stdout.write("No model bundles installed. Import one: slapdesk models import DIR\n")
        return EXIT_OK
    try:
        active_id = choose_model(library, None).model_id
    except expected_errors():
        active_id = None
    for bundle in bundles:
        mark = "*" if bundle.model_id and bundle.model_id == active_id else " "
        state = f"  ({bundle.problem})" if bundle.problem else ""
        sys.stdout.write(
            f"{mark} {bundle.name:<20} {bundle.kind:<9} audio={bundle.architecture or '?':<12} "
            f"id={bundle.model_id[:12]}{state}\n"
        )
    return EXIT_OK
