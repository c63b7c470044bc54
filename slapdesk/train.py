"""``slapdesk-train``: the engine's trainer, plus ``--library`` to train on a SlapDesk library.

``--library FILE`` writes the library as a training manifest into the run folder
(``OUT/library-manifest.jsonl``: one row per track, captions composed from its tags) and then
trains on it like on any ``--manifest``. Everything else is ``python -m engine.train`` as it
is: the engine reads manifests and never the app's database, and this module is the bridge.

Examples::

    slapdesk-train --library ~/.local/share/SlapDesk/library.sqlite --freeze-text --out runs/mine
    slapdesk-train --init default --library LIB --manifest extra.csv --steps 500

``--init`` takes a model's name as ``slapdesk models`` lists it (beside ``--library``'s
library, or the default one) as well as a bundle folder.

A resumed run (``--resume``) trains on the manifest written when it started; give
``--library`` again to rewrite it from the library as it is now. Under ``torchrun`` every rank
writes the same manifest atomically, so each one reads a whole file.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from engine import train as engine_train
from slapdesk.library.jobs.training_manifest import MANIFEST_NAME, write_training_manifest
from slapdesk.library.jobs.training_progress import evaluation_cadence, evaluation_plan
from slapdesk.library.models import ModelChoiceError
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
    parser.add_argument(
        "--auto-eval",
        action="store_true",
        help="choose --val-fraction and --eval-every from the number of clips: about 10%% "
        "held out (20 to 500 clips), evaluated 10 times; no held-out set below 60 clips",
    )
    return parser


def _clip_keys(ns: argparse.Namespace) -> list[str]:
    """The keys the trainer splits the run's clips by (one per clip of every manifest)."""
    from engine.data import ManifestError, read_manifest

    keys: list[str] = []
    for manifest in ns.manifest or []:
        # A manifest that cannot be read counts nothing: the trainer reports it when it reads it.
        with contextlib.suppress(ManifestError):
            keys += [clip.key for clip in read_manifest(manifest, check_files=False).clips]
    return keys


def exact_val_fraction(keys: Sequence[str], held_out: int) -> float:
    """The ``--val-fraction`` that holds out exactly ``held_out`` of these clips.

    The trainer holds out the clips whose key hashes below the fraction, so a nominal 10% of
    90 clips gives anything from 5 to 15; the threshold just above the ``held_out``-th smallest
    hash gives exactly that many (the same clips every run).
    """
    from engine.data import split_fraction

    if held_out <= 0 or not keys:
        return 0.0
    fractions = sorted(split_fraction(key) for key in keys)
    return math.nextafter(fractions[min(held_out, len(fractions)) - 1], 1.0)


def apply_evaluation_plan(ns: argparse.Namespace) -> None:
    """``--auto-eval``: set the held-out split and evaluation cadence from the data's size."""
    if ns.synthetic or ns.val_manifest:  # these bring their own held-out clips
        ns.eval_every = evaluation_cadence(ns.steps or 0)
        log.info("evaluation: on the separate held-out clips every %d steps", ns.eval_every)
        return
    keys = _clip_keys(ns)
    plan = evaluation_plan(len(keys), ns.steps or 0)
    log.info("evaluation: %s", plan.note)
    ns.val_fraction = exact_val_fraction(keys, plan.held_out)
    ns.eval_every = plan.eval_every


def resolve_init(init: str, library: str | None) -> str:
    """``--init``: a model's name as ``slapdesk models`` lists it, or a bundle folder.

    Raises:
        ModelChoiceError: no model of that name and no bundle folder at that path.
    """
    from slapdesk.library.models import find_bundle
    from slapdesk.library.store.paths import data_dir_for, resolve_library_path

    data = data_dir_for(resolve_library_path(library))
    return str(find_bundle(init, data / "models", data / "runs").path)


def _lower_priority() -> None:
    """Run at the lower priority the window asks for (its training panel sets the variable)."""
    from slapdesk.library.jobs.training import NICE_ENV

    try:
        niceness = int(os.environ.get(NICE_ENV, "0"))
        if niceness > 0:
            os.nice(niceness)
    except (ValueError, OSError, AttributeError) as exc:  # no os.nice on Windows
        log.info("running at normal priority: %s", exc)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``slapdesk-train`` and ``python -m slapdesk.train``."""
    args = list(sys.argv[1:] if argv is None else argv)
    engine_train.setup_logging()
    _lower_priority()
    if args[:1] == ["eval"]:
        return engine_train.run_eval(args[1:])
    ns = build_parser().parse_args(args)
    if ns.init and not ns.resume:
        try:
            ns.init = resolve_init(ns.init, ns.library)
        except ModelChoiceError as exc:
            log.error("--init: %s", exc)
            return 1
    if ns.library:
        try:
            written = write_training_manifest(ns.library, Path(ns.out) / MANIFEST_NAME)
        except (LibraryError, OSError) as exc:
            log.error("cannot turn the library into a training manifest: %s", exc)
            return 1
        ns.manifest = [*(ns.manifest or []), str(written.path)]
    if ns.auto_eval and not ns.resume:
        apply_evaluation_plan(ns)
    return engine_train.train_from_args(ns)


if __name__ == "__main__":
    sys.exit(main())
