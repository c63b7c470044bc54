"""``slapdesk-train``: the engine's trainer, plus ``--library`` to train on a SlapDesk library.

``--library FILE`` writes the library as a training manifest into the run folder
(``OUT/library-manifest.jsonl``: one row per track, captions composed from its tags) and then
trains on it like on any ``--manifest``. Everything else is ``python -m engine.train`` as it
is: the engine reads manifests and never the app's database, and this module is the bridge.

Examples::

    slapdesk-train --library ~/.local/share/SlapDesk/library.sqlite --freeze-text --out runs/mine
    slapdesk-train --init resources/models/default --library LIB --manifest extra.csv --steps 500

A resumed run (``--resume``) trains on the manifest written when it started; give
``--library`` again to rewrite it from the library as it is now. Under ``torchrun`` every rank
writes the same manifest atomically, so each one reads a whole file.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from engine import train as engine_train
from slapdesk.library.jobs.training_manifest import MANIFEST_NAME, write_training_manifest
from slapdesk.library.store.database import LibraryError

log = logging.getLogger("slapdesk.train")


def build_parser() -> argparse.ArgumentParser:
    """The engine's training command line with ``--library`` added."""
    parser = engine_train.build_parser()
    parser.description = (
        "Train SLAP (or the CLAP baseline) on manifests of audio and captions, or on a SlapDesk "
        "library (captions from the tracks' tags). "
        "'slapdesk-train eval BUNDLE --manifest M' scores a bundle."
    )
    parser.add_argument(
        "--library",
        metavar="FILE",
        help=f"SlapDesk library file: its tagged tracks become OUT/{MANIFEST_NAME}",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``slapdesk-train`` and ``python -m slapdesk.train``."""
    args = list(sys.argv[1:] if argv is None else argv)
    engine_train.setup_logging()
    if args[:1] == ["eval"]:
        return engine_train.run_eval(args[1:])
    ns = build_parser().parse_args(args)
    if ns.library:
        try:
            written = write_training_manifest(ns.library, Path(ns.out) / MANIFEST_NAME)
        except (LibraryError, OSError) as exc:
            log.error("cannot turn the library into a training manifest: %s", exc)
            return 1
        ns.manifest = [*(ns.manifest or []), str(written.path)]
    return engine_train.train_from_args(ns)


if __name__ == "__main__":
    sys.exit(main())
