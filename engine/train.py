"""``python -m engine.train``: pretrain or fine-tune SLAP (or the CLAP baseline); evaluate a bundle.

Examples::

    python -m engine.train --manifest captions.csv --out runs/mine --batch-size 32 --accumulate 8
    python -m engine.train --manifest musiccaps.csv --manifest songdescriber.jsonl --freeze-text
    python -m engine.train --init resources/models/default --manifest ft.jsonl --steps 2000
    torchrun --nproc-per-node 4 -m engine.train --manifest captions.csv --out runs/big
    python -m engine.train eval runs/mine/bundle --manifest test.csv

The installed ``slapdesk-train`` command is this one plus ``--library`` (the app writes the
library as a manifest first; see ``slapdesk.train``). The command line becomes a frozen
:class:`engine.config.TrainCfg` at once; nothing below this module sees argparse.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from engine.config import TrainCfg

log = logging.getLogger("engine.train")

_DEFAULTS = TrainCfg()
# The CPU default's model when none is named: its towers are pretrained (MSD musicnn,
# MiniLM), so freezing them costs little; default-small's audio tower starts from scratch.
CPU_MODEL = "slapdesk-default"


def _add_train_args(p: argparse.ArgumentParser) -> None:
    _add_model_args(p)
    _add_data_args(p)
    _add_optimisation_args(p)
    _add_run_args(p)


def _add_model_args(p: argparse.ArgumentParser) -> None:
    d = _DEFAULTS
    g = p.add_argument_group("model")
    g.add_argument(
        "--model",
        help=f"config name in engine/model_configs or JSON (default: {d.model}; on a CPU "
        f"without --full, {CPU_MODEL})",
    )
    g.add_argument(
        "--full",
        action="store_true",
        help="on a CPU too, train the towers (by default a CPU run trains the heads only, "
        "on cached features of frozen pretrained towers; a GPU run trains everything)",
    )
    g.add_argument("--objective", choices=("slap", "clap"), help="override the objective")
    g.add_argument("--init", metavar="BUNDLE", help="fine-tune this model bundle")
    g.add_argument("--freeze-text", action="store_true", help="freeze + cache the text tower")
    g.add_argument(
        "--freeze-audio-encoder",
        action="store_true",
        help="freeze the audio encoder and cache its features of fixed windows (heads only)",
    )
    g.add_argument(
        "--feature-cache",
        metavar="DIR",
        help="keep the frozen encoder's features in DIR and reuse them in later runs",
    )
    g.add_argument(
        "--cache-windows",
        type=int,
        metavar="K",
        help="fixed windows per clip to cache (default: the model config's n_windows)",
    )


def _add_data_args(p: argparse.ArgumentParser) -> None:
    d = _DEFAULTS
    g = p.add_argument_group("data")
    g.add_argument(
        "--manifest",
        action="append",
        help="CSV/JSONL with audio and caption columns (repeat to train on several)",
    )
    g.add_argument("--synthetic", type=int, default=0, metavar="N", help="N generated toy clips")
    g.add_argument("--val-manifest", help="validation manifest (default: a fixed split)")
    g.add_argument("--val-fraction", type=float, default=d.val_fraction)
    g.add_argument("--val-max", type=int, default=d.val_max, help="most held-out clips scored")
    g.add_argument("--workers", type=int, default=d.workers, help="decode processes per GPU")
    g.add_argument("--no-spec-augment", dest="spec_augment", action="store_false")


def _add_optimisation_args(p: argparse.ArgumentParser) -> None:
    d = _DEFAULTS
    g = p.add_argument_group("optimisation")
    g.add_argument("--batch-size", type=int, default=d.batch_size, help="micro-batch per device")
    g.add_argument("--accumulate", type=int, default=d.accumulate, help="micro-batches per step")
    g.add_argument("--steps", type=int, default=d.steps, help="optimizer steps (0: use --epochs)")
    g.add_argument("--epochs", type=float, default=d.epochs)
    g.add_argument("--lr", type=float, default=d.lr)
    g.add_argument("--min-lr", type=float, default=d.min_lr)
    g.add_argument("--weight-decay", type=float, default=d.weight_decay)
    g.add_argument("--warmup-steps", type=int, default=d.warmup_steps)
    g.add_argument("--grad-clip", type=float, default=d.grad_clip, help="0 = off")
    g.add_argument("--amp", choices=("auto", "bf16", "fp16", "off"), default=d.amp)
    g.add_argument("--max-nonfinite", type=int, default=d.max_nonfinite)


def _add_run_args(p: argparse.ArgumentParser) -> None:
    d = _DEFAULTS
    g = p.add_argument_group("run")
    g.add_argument("--device", default=d.device, help="auto, cpu, cuda, cuda:N, mps")
    g.add_argument("--seed", type=int, default=d.seed)
    g.add_argument("--out", default=d.out, help="run folder")
    g.add_argument(
        "--resume",
        nargs="?",
        const="latest",
        metavar="CHECKPOINT",
        help="continue from the newest checkpoint in OUT (or this checkpoint JSON)",
    )
    g.add_argument("--eval-every", type=int, default=d.eval_every, help="0: at the end only")
    g.add_argument("--checkpoint-every", type=int, default=d.checkpoint_every)
    g.add_argument("--keep-checkpoints", type=int, default=d.keep_checkpoints)
    g.add_argument("--no-progress", dest="progress", action="store_false")


def _train_cfg(ns: argparse.Namespace) -> TrainCfg:
    fields = TrainCfg.__dataclass_fields__
    given = {k: v for k, v in vars(ns).items() if k in fields and v is not None}
    cfg = TrainCfg(**given)
    problems = []
    if cfg.batch_size < 1 or cfg.accumulate < 1:
        problems.append("--batch-size and --accumulate must be at least 1")
    sources = sum(bool(x) for x in (cfg.manifest, cfg.synthetic))
    if sources > 1 or (sources == 0 and not cfg.resume):
        problems.append("give training data: one or more --manifest, or --synthetic N")
    if not 0.0 <= cfg.val_fraction < 1.0:
        problems.append("--val-fraction must be in [0, 1)")
    if problems:
        raise SystemExit("slapdesk-train: " + "; ".join(problems))
    return cfg


def _pretrained_audio(cfg: TrainCfg) -> bool:
    """Whether the run's audio tower starts from trained weights (a bundle or packaged)."""
    from engine.run_parts import model_config
    from engine.towers.registry import starts_pretrained

    return bool(cfg.init) or starts_pretrained(model_config(cfg).audio)


def device_default(cfg: TrainCfg, *, model_named: bool, full: bool) -> tuple[TrainCfg, str]:
    """What a run trains where it runs, unless told: all of it on a GPU, the heads on a CPU.

    Backpropagating through the towers on a CPU takes hours for a few hundred steps; training
    only the heads on features of frozen towers, computed once and cached, takes minutes. So
    on a CPU, without ``--full`` (or ``--resume``, whose checkpoint decides): no named model
    means ``CPU_MODEL`` (pretrained audio and text towers), both towers are frozen, and an
    audio tower that starts from random weights stays trainable (frozen, it would teach the
    heads nothing).

    Returns:
        The configuration to run, and one line saying what the CPU default chose ("" when
        it chose nothing).
    """
    from engine.device import resolve_device

    if full or cfg.resume or resolve_device(cfg.device).type != "cpu":
        return cfg, ""
    if not model_named and not cfg.init:
        cfg = dataclasses.replace(cfg, model=CPU_MODEL)
    name = cfg.init or cfg.model
    if _pretrained_audio(cfg):
        cfg = dataclasses.replace(cfg, freeze_text=True, freeze_audio_encoder=True)
        return cfg, (
            f"no GPU: training the heads only, on cached features of {name}'s frozen audio "
            "and text towers; --full trains the towers too (slow on a CPU)"
        )
    cfg = dataclasses.replace(cfg, freeze_text=True)
    return cfg, (
        f"no GPU: the text tower is frozen; {name}'s audio tower starts from random weights, "
        f"so it trains too (slow on a CPU; --model {CPU_MODEL} trains only the heads)"
    )


def _install_stop_handlers(cancel: threading.Event) -> dict[signal.Signals, Any]:
    """SIGINT / SIGTERM ask the loop to checkpoint and stop; a second signal aborts.

    Returns:
        The handlers they replace, for ``main`` to put back when the run ends.
    """
    if threading.current_thread() is not threading.main_thread():
        return {}

    def handler(signum: int, _frame: Any) -> None:
        if cancel.is_set():  # asked twice: stop now, without a checkpoint
            raise KeyboardInterrupt
        log.warning("stop requested: saving a checkpoint after this step")
        cancel.set()

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return previous


# What --resume takes from the command line; everything else comes from the checkpoint.
_RUNTIME_FIELDS = ("resume", "out", "device", "workers", "progress")


def resolve_resume(cfg: TrainCfg) -> TrainCfg:
    """With ``--resume``, the run's configuration as it was started (from its checkpoint).

    Only where to run (``--device``, ``--workers``, ``--no-progress``) comes from the new
    command line, so ``slapdesk-train --out RUN --resume`` alone continues a run exactly.
    """
    from engine.training_checkpoint import find_resume_checkpoint

    path = find_resume_checkpoint(cfg.resume, cfg.out) if cfg.resume else None
    if path is None:
        return cfg
    saved = json.loads(path.read_text(encoding="utf-8")).get("train", {})
    fields = TrainCfg.__dataclass_fields__
    merged = {k: v for k, v in saved.items() if k in fields}
    merged.update({k: getattr(cfg, k) for k in _RUNTIME_FIELDS})
    resumed = TrainCfg(**merged)
    ignored = [
        f"--{k.replace('_', '-')}"
        for k in fields
        if k not in _RUNTIME_FIELDS
        and getattr(cfg, k) != getattr(_DEFAULTS, k)
        and getattr(cfg, k) != getattr(resumed, k)
    ]
    if ignored:
        log.warning("--resume continues the run as it was started; ignoring %s", ", ".join(ignored))
    return resumed


def run_train(cfg: TrainCfg, cancel: threading.Event | None = None) -> int:
    """Train as ``cfg`` says; returns the process exit code (0, or 130 when stopped)."""
    import torch

    from engine.trainer import EXIT_INTERRUPTED, Trainer, TrainingError

    try:
        trainer = Trainer(resolve_resume(cfg), cancel)
        return trainer.run()
    except (TrainingError, ValueError, OSError) as exc:
        log.error("%s", exc)
        return 1
    except torch.OutOfMemoryError as exc:
        log.error(
            "out of memory (%s): lower --batch-size and raise --accumulate to keep the "
            "effective batch, or use --amp bf16 / --freeze-text",
            str(exc).splitlines()[0],
        )
        return 1
    except KeyboardInterrupt:
        log.error("stopped at once (second interrupt): no checkpoint of the last steps")
        return EXIT_INTERRUPTED
    finally:
        _shutdown_distributed()


def _shutdown_distributed() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def run_eval(argv: Sequence[str]) -> int:
    """``slapdesk-train eval BUNDLE --manifest M``: print retrieval and gap figures as JSON."""
    p = argparse.ArgumentParser(prog="slapdesk-train eval", description=run_eval.__doc__)
    p.add_argument("bundle", help="model bundle folder")
    p.add_argument("--manifest", required=True, help="CSV/JSONL with audio and caption columns")
    p.add_argument("--device", default="auto")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=0, help="seed of the separability split")
    ns = p.parse_args(list(argv))
    import torch

    from engine.bundle import BundleError, load_bundle
    from engine.data import ClipDataset, ManifestError, read_manifest
    from engine.device import resolve_device
    from engine.evaluate import gap_metrics, retrieval_metrics
    from engine.features import embed_eval_set

    try:
        device = resolve_device(ns.device)
        model = load_bundle(ns.bundle, device=device, with_target=False).model
        data = read_manifest(ns.manifest)
    except (BundleError, ManifestError, ValueError) as exc:
        log.error("%s", exc)
        return 1
    if len(data.clips) < 2:
        log.error("%s: fewer than two usable clips", ns.manifest)
        return 1
    source = ClipDataset(data.clips, model.cfg.frontend)
    with torch.inference_mode():
        audio, text, owner, bad = embed_eval_set(model, source, device, workers=ns.workers)
    for item in [*data.bad, *bad]:
        log.warning("skipped %s", item)
    metrics: dict[str, Any] = retrieval_metrics(audio, text, owner)
    metrics.update(gap_metrics(audio, text, seed=ns.seed))
    metrics["skipped"] = len(data.bad) + len(bad)
    sys.stdout.write(json.dumps(metrics, indent=1, sort_keys=True) + "\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The training command line (``eval`` has its own, see :func:`run_eval`)."""
    parser = argparse.ArgumentParser(
        prog="slapdesk-train",
        description="Train SLAP (or the CLAP baseline) on manifests of audio and captions. "
        "'slapdesk-train eval BUNDLE --manifest M' scores a bundle.",
    )
    _add_train_args(parser)
    return parser


def train_from_args(ns: argparse.Namespace) -> int:
    """Train as the parsed command line says, stopping cleanly on SIGINT / SIGTERM."""
    try:
        cfg, note = device_default(_train_cfg(ns), model_named=ns.model is not None,
                                   full=ns.full)
    except ValueError as exc:  # an unknown --model or --device
        log.error("%s", exc)
        return 1
    if note:
        log.info("%s", note)
    cancel = threading.Event()
    previous = _install_stop_handlers(cancel)
    try:
        return run_train(cfg, cancel)
    finally:
        # An embedding caller (tests, the app) keeps its own Ctrl-C and SIGTERM behaviour.
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def setup_logging() -> None:
    """Log lines as the training panel and the terminal read them."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m engine.train`` (and, through the app, ``slapdesk-train``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    setup_logging()
    if args[:1] == ["eval"]:
        return run_eval(args[1:])
    return train_from_args(build_parser().parse_args(args))


if __name__ == "__main__":
    sys.exit(main())
