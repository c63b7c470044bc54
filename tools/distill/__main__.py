"""``python -m tools.distill``: teach SLAP what the musicnn taggers hear (docs/validation.md).

Steps: ``thresholds`` picks each teacher's tag threshold on validation data (never the
reserved packages); ``captions`` writes the training manifest with the teachers' captions
(and fills the trainer's feature cache); then ``slapdesk-train --model slapdesk-distil
--freeze-text --freeze-audio-encoder --feature-cache DIR`` trains the heads. The exact
commands are in docs/validation.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from engine.towers.musicnn import tag_names
from tools.distill.compose import (
    Limits,
    choose_threshold,
    compose_row,
    confident,
    per_tag_thresholds,
)
from tools.distill.teachers import WEIGHTS, teacher_tags
from tools.distill.wording import CONCEPTS, FAMILY_OF, concept, kind

DEFAULTS = {"model": "slapdesk-distil", "feature_cache": "runs/feature-cache", "windows": 1}
GENRE_STYLES = {"electronic": {"electronic"}, "house": {"house"}, "techno": {"techno"},
                "hip hop": {"hip hop"}, "dance": {"house", "rave"}}


def _rows(manifest: Path) -> dict[str, dict]:
    """Manifest rows by resolved audio path (the key TeacherTags uses)."""
    rows = {}
    for line in manifest.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        rows[str((manifest.parent / row["audio"]).resolve())] = row
    return rows


def _truth(name: str, labels: dict) -> bool | None:
    """Whether grounded labels make a concept true (None: they do not say)."""
    families = set(labels.get("instrument_families", ()))
    if labels.get("instrument_family"):
        families.add(labels["instrument_family"])
    if not families:
        return None
    k = kind(name)
    if k == "instrument":
        return bool(FAMILY_OF.get(name, set()) & families)
    if k == "vocals":
        singing = "choir" in families
        return (not singing) if name == "instrumental" else singing and name in ("choir",
                                                                                 "vocals")
    if k == "genre" and "style" not in labels and name in GENRE_STYLES:
        return bool(GENRE_STYLES[name] & set(labels.get("styles", ())))
    return None


def _checkable(manifests: list[Path], teacher: str, args: argparse.Namespace
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(probability, truth, tag index) of every pair the grounded labels decide."""
    probs, truth, tags_of = [], [], []
    for manifest in manifests:
        rows = _rows(manifest)
        tags = teacher_tags(manifest, args.model, args.feature_cache, args.windows)
        for path, row_probs in zip(tags.paths, tags.probs[teacher], strict=True):
            labels = rows[str(Path(path).resolve())].get("labels", {})
            for index, (tag, p) in enumerate(zip(tags.names[teacher], row_probs, strict=True)):
                t = _truth(concept(tag), labels)
                if t is not None:
                    probs.append(p)
                    truth.append(t)
                    tags_of.append(index)
    return np.array(probs), np.array(truth, dtype=bool), np.array(tags_of)


def thresholds(manifests: list[Path], args: argparse.Namespace) -> dict:
    """Per teacher: one threshold over its checkable tags, and one per well-checked tag.

    A tag with at least ``--min-positive`` true checkable pairs gets its own threshold (the
    lowest reaching the target, or never said when none does); the others use the teacher's.
    """
    out: dict = {"target_precision": args.target, "sources": [str(m) for m in manifests]}
    for teacher in ("msd", "mtt"):
        probs, truth, tags_of = _checkable(manifests, teacher, args)
        chosen = choose_threshold(probs[:, None], truth[:, None], args.target)
        chosen["checkable_pairs"] = len(probs)
        if args.per_tag:
            chosen["per_tag"] = per_tag_thresholds(probs, truth, tags_of,
                                                   tag_names(WEIGHTS[teacher]), args.target,
                                                   args.min_positive)
        out[teacher] = chosen
    return out


def limits_of(chosen: dict) -> Limits:
    """The caption thresholds a ``thresholds`` JSON states (per tag where it has them)."""
    out: Limits = {}
    for teacher in ("msd", "mtt"):
        per_tag = chosen[teacher].get("per_tag")
        if per_tag:
            out[teacher] = {"*": chosen[teacher]["threshold"],
                            **{tag: v["threshold"] for tag, v in per_tag.items()}}
        else:
            out[teacher] = chosen[teacher]["threshold"]
    return out


def captions(args: argparse.Namespace) -> dict:
    """Write the teacher-captioned manifest; return counts of the concepts used."""
    chosen = json.loads(Path(args.thresholds).read_text(encoding="utf-8"))
    limits = limits_of(chosen)
    manifest = Path(args.manifest[0])
    rows = _rows(manifest)
    tags = teacher_tags(manifest, args.model, args.feature_cache, args.windows)
    used: Counter[str] = Counter()
    lines = []
    for i, path in enumerate(tags.paths):
        row = rows[str(Path(path).resolve())]
        names = confident({t: tags.probs[t][i] for t in tags.probs}, tags.names, limits)
        new = compose_row(row, names, args.classical_without_game)
        weight = max([args.weight, *(w for c, w in args.weight_concept
                                     if c in new["teacher_concepts"])])
        if weight != 1:
            new["weight"] = weight  # engine.data: drawn this many times per epoch
        used.update(new["teacher_concepts"])
        lines.append(json.dumps(new, sort_keys=True))
    out = Path(args.out)
    if out.resolve().parent != manifest.resolve().parent:
        raise ValueError("write the captioned manifest beside its source (relative audio paths)")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with_tags = sum(1 for line in lines if json.loads(line)["teacher_concepts"])
    return {"clips": len(lines), "with_teacher_captions": with_tags,
            "concepts": dict(used.most_common())}


def _concept_weight(text: str) -> tuple[str, int]:
    """``classical=3`` -> ("classical", 3)."""
    name, _, number = text.rpartition("=")
    if name not in CONCEPTS or not number.isdigit() or int(number) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: want CONCEPT=N (a known concept, N >= 1)")
    return name, int(number)


def main(argv: list[str] | None = None) -> int:
    """Choose thresholds or write the captioned manifest."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    p = argparse.ArgumentParser(prog="python -m tools.distill", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=("thresholds", "captions"))
    p.add_argument("--manifest", action="append", required=True, type=Path)
    p.add_argument("--out", required=True)
    p.add_argument("--thresholds", help="the JSON `thresholds` wrote (for `captions`)")
    p.add_argument("--target", type=float, default=0.7, help="precision a caption tag needs")
    p.add_argument("--per-tag", action="store_true",
                   help="also choose a threshold per tag the labels check often enough")
    p.add_argument("--min-positive", type=int, default=10,
                   help="true checkable pairs a tag needs for its own threshold")
    p.add_argument("--weight", type=int, default=1,
                   help="`captions`: draw these clips this many times per training epoch")
    p.add_argument("--classical-without-game", action="store_true",
                   help="`captions`: classical recordings keep no caption naming their game")
    p.add_argument("--weight-concept", type=_concept_weight, action="append", default=[],
                   metavar="CONCEPT=N", help="`captions`: weight N for the clips whose "
                   "captions say CONCEPT (e.g. classical=3); the largest weight wins")
    p.add_argument("--model", default=DEFAULTS["model"])
    p.add_argument("--feature-cache", default=DEFAULTS["feature_cache"])
    p.add_argument("--windows", type=int, default=DEFAULTS["windows"],
                   help="fixed windows per clip (= slapdesk-train --cache-windows)")
    args = p.parse_args(argv)
    result = thresholds(args.manifest, args) if args.command == "thresholds" else captions(args)
    Path(args.out if args.command == "thresholds" else args.out + ".stats.json").write_text(
        json.dumps(result, indent=1), encoding="utf-8")
    sys.stdout.write(json.dumps({k: v for k, v in result.items() if k != "curve"}, indent=1)[:4000]
                     + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
