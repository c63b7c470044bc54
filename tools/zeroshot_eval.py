"""Zero-shot accuracy of a model bundle on real recordings nobody here made or trained on.

The clips come from the Debian packages reserved for independent validation
(``python -m tools.corpus eval-set`` writes ``eval_zeroshot.jsonl``): freepats instrument
samples, hydrogen drum kits, sonic-pi samples, Wesnoth and Frets on Fire music. Nothing is
fitted to them. Each class is read through the app's own tagging prompts
(``slapdesk.library.autotag.scoring``: vocabulary terms x prompt templates, averaged); a clip is
assigned the class whose best term scores highest. Accuracy is reported per class, overall,
balanced, and against chance (1 / number of classes).

    python -m tools.zeroshot_eval resources/models/default corpus_out/eval_zeroshot.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from engine.inference import Embedder
from slapdesk.library.autotag.scoring import Calibration, build_classifier
from slapdesk.library.autotag.vocabulary import Vocabulary
from tools.validation.feature_memo import embedder as make_embedder

# Eval class -> terms of the app's instrument / genre vocabularies that name it.
INSTRUMENT_TERMS: dict[str, tuple[str, ...]] = {
    "drums": ("drums",),
    "guitar": ("acoustic guitar", "electric guitar"),
    "bass": ("bass",),
    "reed": ("saxophone", "clarinet"),
    "piano": ("piano",),
    "strings": ("strings", "violin", "cello"),
    "brass": ("brass", "trumpet"),
    "flute": ("flute",),
    "mallet percussion": ("bells",),
    "organ": ("organ",),
    "synth pad": ("synth pad",),
    "synth lead": ("synthesizer",),
}
GENRE_TERMS: dict[str, tuple[str, ...]] = {
    "classical": ("classical", "orchestral"),
    "metal": ("metal",),
    "soundtrack": ("soundtrack",),
}


def _load(manifest: Path, label: str, classes: dict, per_class: int) -> list[tuple[Path, str]]:
    taken: Counter[str] = Counter()
    items = []
    for line in manifest.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        value = row.get("labels", {}).get(label)
        if value in classes and taken[value] < per_class:
            taken[value] += 1
            items.append((manifest.parent / row["audio"], value))
    return items


def classify(
    vectors: np.ndarray, truths: list[str], task: str, classes: dict[str, tuple[str, ...]],
    embed_text: Callable[[list[str]], np.ndarray],
) -> dict:
    """Zero-shot accuracy of unit-norm clip ``vectors`` whose true classes are ``truths``.

    Each class is read through the app's prompts for its ``classes`` terms; a clip goes to the
    class whose best term scores highest, on raw cosines and on the app's calibrated scores.
    """
    terms = tuple(t for ts in classes.values() for t in ts)
    classifier = build_classifier(Vocabulary(task, task, terms), embed_text)
    raw = vectors @ classifier.vectors.T
    calibrated = Calibration.fit(raw).apply(raw)
    names = list(classes)
    owner = np.array([names.index(c) for c, ts in classes.items() for _ in ts])

    def predict(scores: np.ndarray) -> list[str]:
        per_class = np.stack([scores[:, owner == i].max(axis=1) for i in range(len(names))], 1)
        return [names[i] for i in per_class.argmax(axis=1)]

    report = {"task": task, "clips": len(truths), "chance": 1 / len(names)}
    for kind, scores in (("raw", raw), ("calibrated", calibrated)):
        hits: dict[str, list[bool]] = defaultdict(list)
        for truth, guess in zip(truths, predict(scores), strict=True):
            hits[truth].append(truth == guess)
        per = {c: float(np.mean(h)) for c, h in hits.items()}
        report[kind] = {
            "accuracy": float(np.mean([h for hs in hits.values() for h in hs])),
            "balanced": float(np.mean(list(per.values()))),
            "per_class": {c: (round(per[c], 3), len(hits[c])) for c in names if c in hits},
        }
    return report


def _task(
    embedder: Embedder, manifest: Path, label: str, classes: dict[str, tuple[str, ...]],
    per_class: int,
) -> dict:
    items = _load(manifest, label, classes, per_class)
    result = embedder.embed_audio([str(p) for p, _ in items], batch_size=8)
    failed = {path for path, _ in result.errors}
    truths = [c for p, c in items if str(p) not in failed]
    return classify(result.tracks, truths, label, classes, embedder.embed_text)


def markdown(report: dict) -> str:
    """The per-class accuracy table of a :func:`classify` report, as Markdown."""
    lines = [
        f"**{report['task']}**: {report['clips']} clips, {len(report['raw']['per_class'])} "
        f"classes, chance {report['chance']:.3f}",
        "",
        "| class | clips | accuracy (raw cosine) | accuracy (calibrated) |",
        "|---|---:|---:|---:|",
    ]
    for name, (acc, count) in report["raw"]["per_class"].items():
        calibrated = report["calibrated"]["per_class"][name][0]
        lines.append(f"| {name} | {count} | {acc:.3f} | {calibrated:.3f} |")
    for key in ("accuracy", "balanced"):
        lines.append(
            f"| **{key}** | | {report['raw'][key]:.3f} ({report['raw'][key] / report['chance']:.1f}"
            f"× chance) | {report['calibrated'][key]:.3f} "
            f"({report['calibrated'][key] / report['chance']:.1f}× chance) |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Evaluate a bundle on the reserved real recordings and print the tables."""
    p = argparse.ArgumentParser(prog="python -m tools.zeroshot_eval", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bundle", help="model bundle folder")
    p.add_argument("manifest", help="eval_zeroshot.jsonl")
    p.add_argument("--per-class", type=int, default=40, help="most clips per class")
    p.add_argument("--device", default="cpu")
    p.add_argument("--json", help="also write the full report here")
    p.add_argument("--feature-memo", metavar="DIR",
                   help="memoise the audio tower's outputs in DIR (validation/feature_memo.py)")
    args = p.parse_args(argv)
    embedder = make_embedder(args.bundle, args.device, args.feature_memo)
    manifest = Path(args.manifest)
    reports = [
        _task(embedder, manifest, "instrument_family", INSTRUMENT_TERMS, args.per_class),
        _task(embedder, manifest, "genre", GENRE_TERMS, args.per_class),
    ]
    for report in reports:
        print(markdown(report) + "\n")
    if args.json:
        Path(args.json).write_text(json.dumps(reports, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
