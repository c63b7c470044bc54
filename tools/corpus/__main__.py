"""Command line: ``python -m tools.corpus {synth,music21,recordings,eval-set,merge,stats,all}``.

Run ``python -m tools.corpus COMMAND --help`` for each command's options.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tools.corpus.build import BuildCfg, merge_manifests, run_jobs

DEFAULT_OUT = Path("corpus_out")

_EPILOG = """\
Output layout (under --out):
  audio/<source>/<split>/...flac   mono 16 kHz FLAC clips
  parts/<source>_<split>.jsonl     rows as they are rendered (resume state)
  train.jsonl, val.jsonl           training / validation manifests (merged from parts)
  eval_zeroshot.jsonl              independent zero-shot evaluation set (never train on it)
  errors.log                       clips that failed, with the reason

Every command is resumable: run it again and finished clips are skipped.
Typical full build (about 40-60 minutes on 2 cores):
  nice -n 10 python -m tools.corpus all --out /work/main/corpus_out --workers 2
"""


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help="corpus folder (default: ./corpus_out, git-ignored)")
    p.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    p.add_argument("--workers", type=int, default=2,
                   help="worker processes (default 2; the machine is shared)")
    p.add_argument("--seconds", type=float, default=10.0, help="clip length (default 10)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.corpus",
        description="Build SlapDesk's offline training corpus (captioned 10 s clips) and the "
                    "independent zero-shot evaluation set.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("synth", help="generated arrangements rendered with fluidsynth")
    _common(p)
    p.add_argument("--train", type=int, default=5000, help="train clips (FluidR3_GM)")
    p.add_argument("--val", type=int, default=1000,
                   help="validation clips (MuseScore General + TimGM6mb)")
    p = sub.add_parser("music21", help="music21's bundled corpus rendered with fluidsynth")
    _common(p)
    p.add_argument("--train", type=int, default=300, help="train clips (works not in val)")
    p.add_argument("--val", type=int, default=80, help="validation clips (other works)")
    p = sub.add_parser("recordings", help="real recordings from (non-reserved) Debian packages")
    _common(p)
    p.add_argument("--windows", type=int, default=6,
                   help="most 10 s windows per track (one per 30 s)")
    p = sub.add_parser("eval-set", help="zero-shot evaluation set from the RESERVED packages")
    _common(p)
    p.add_argument("--per-class", type=int, default=60, help="most clips per class")
    p = sub.add_parser("all", help="synth, music21, recordings and eval-set in turn")
    _common(p)
    p.add_argument("--train", type=int, default=5000, help="synth train clips")
    p.add_argument("--val", type=int, default=1000, help="synth validation clips")
    p = sub.add_parser("merge", help="rewrite train/val/eval manifests from parts/")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p = sub.add_parser("stats", help="counts per source and split, sizes")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return parser


def _cfg(args: argparse.Namespace) -> BuildCfg:
    return BuildCfg(out=args.out.resolve(), seed=args.seed, workers=max(1, args.workers),
                    seconds=args.seconds)


def _synth(cfg: BuildCfg, n_train: int, n_val: int) -> list[dict]:
    from tools.corpus import synth

    return [run_jobs(synth.jobs("train", n_train, cfg.seed), cfg, "synth/train"),
            run_jobs(synth.jobs("val", n_val, cfg.seed), cfg, "synth/val")]


def _music21(cfg: BuildCfg, n_train: int, n_val: int) -> list[dict]:
    from tools.corpus import m21

    return [run_jobs(m21.jobs(n_train, n_val, cfg.seed), cfg, "music21")]


def _recordings(cfg: BuildCfg, windows: int) -> list[dict]:
    from tools.corpus import recordings

    return [run_jobs(recordings.jobs(windows, cfg.out / "cache"), cfg, "recordings")]


def _evalset(cfg: BuildCfg, per_class: int) -> list[dict]:
    from tools.corpus import evalset

    return [run_jobs(evalset.jobs(per_class, cfg.seed), cfg, "eval-set")]


def stats(out: Path) -> dict:
    """Counts per split and source, plus audio size on disk."""
    from tools.corpus.build import SPLIT_FILES, read_rows

    result: dict = {}
    for split, name in SPLIT_FILES.items():
        rows = read_rows(out / name)
        per_source: dict[str, int] = {}
        for r in rows:
            per_source[r["source"]] = per_source.get(r["source"], 0) + 1
        result[split] = {"clips": len(rows), "by_source": per_source}
    size = sum(f.stat().st_size for f in (out / "audio").rglob("*.flac")) if (
        out / "audio").is_dir() else 0
    result["audio_mb"] = round(size / 1e6, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command in ("merge", "stats"):
        out = args.out.resolve()
        if args.command == "merge":
            sys.stdout.write(json.dumps(merge_manifests(out)) + "\n")
        else:
            sys.stdout.write(json.dumps(stats(out), indent=2) + "\n")
        return 0
    cfg = _cfg(args)
    report: list[dict] = []
    if args.command in ("synth", "all"):
        report += _synth(cfg, args.train, args.val)
    if args.command == "music21":
        report += _music21(cfg, args.train, args.val)
    if args.command in ("recordings", "all"):
        report += _recordings(cfg, getattr(args, "windows", 6))
    if args.command == "all":
        report += _music21(cfg, 300, 80)
    if args.command in ("eval-set", "all"):
        report += _evalset(cfg, getattr(args, "per_class", 60))
    counts = merge_manifests(cfg.out)
    sys.stdout.write(json.dumps({"runs": report, "manifests": counts}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
