"""Tag audit quality: plant wrong labels in a labelled library and see where the audit ranks them.

A validation library is labelled clips: generated demo styles (``--demo N`` tracks per style,
rendered by slapdesk.library.demo.synth) or a manifest (``--manifest eval_zeroshot.jsonl
--label instrument_family``, the reserved real recordings). ``--fraction`` of the tracks (10 %
by default) get a wrong label, drawn uniformly from the other classes; every audit method then
ranks the library, and the planted errors' mean rank (1 = top) and precision@k at k = number
planted are printed, with chance (k / N) beside them. Several seeds give a spread.

    python tests/bench/bench_audit.py --demo 12
    python tests/bench/bench_audit.py --manifest corpus_out/eval_zeroshot.jsonl \
        --label instrument_family --classes drums,flute,reed,guitar,"synth pad"
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from engine.inference import Embedder  # noqa: E402
from slapdesk.library.autotag.audit import (  # noqa: E402
    METHODS,
    TEXT_WEIGHT,
    combined_probs,
    label_matrix,
    suspicion_order,
)
from slapdesk.library.autotag.vocabulary import Vocabulary  # noqa: E402
from slapdesk.resources import resource_path  # noqa: E402


def demo_items(per_style: int, seconds: float, sample_rate: int) -> tuple[list, list[str]]:
    """Generated tracks: ``per_style`` of every demo style, labelled with the style."""
    from slapdesk.library.demo.synth import STYLES, render

    audio, labels = [], []
    for style_index, (name, style) in enumerate(sorted(STYLES.items())):
        for k in range(per_style):
            rng = np.random.default_rng([style_index, k])
            tempo = int(rng.integers(style.tempo[0], style.tempo[1] + 1))
            audio.append(render(style, tempo, seconds, rng, sample_rate))
            labels.append(name)
    return audio, labels


def manifest_items(manifest: Path, label: str, classes: set[str] | None, per_class: int):
    """Clips of a JSONL manifest with ``labels[label]`` (at most ``per_class`` each)."""
    taken: dict[str, int] = {}
    paths, labels = [], []
    for line in manifest.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        value = row.get("labels", {}).get(label)
        if value is None or (classes and value not in classes):
            continue
        if taken.get(value, 0) >= per_class:
            continue
        taken[value] = taken.get(value, 0) + 1
        paths.append(str(manifest.parent / row["audio"]))
        labels.append(value)
    return paths, labels


def embed(embedder: Embedder, items: list, cache: Path | None) -> np.ndarray:
    """Track vectors, cached on disk by a digest of the model id and the inputs."""
    digest = hashlib.sha1(embedder.model_id.encode())
    for item in items:
        digest.update(item.tobytes() if isinstance(item, np.ndarray) else item.encode())
    key = digest.hexdigest()[:16]
    if cache is not None and (cache / f"{key}.npy").is_file():
        return np.load(cache / f"{key}.npy")
    started = time.process_time()
    result = embedder.embed_audio(items, batch_size=8, keep_windows=False)
    if result.errors:
        raise SystemExit(f"cannot embed: {result.errors[:3]}")
    print(f"embedded {len(items)} tracks in {time.process_time() - started:.0f} CPU-s",
          file=sys.stderr)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        np.save(cache / f"{key}.npy", result.tracks)
    return result.tracks


def plant(labels: list[str], fraction: float, seed: int) -> tuple[list[str], np.ndarray]:
    """Relabel ``fraction`` of the tracks with a wrong class; return labels and planted rows."""
    rng = np.random.default_rng(seed)
    classes = sorted(set(labels))
    count = max(1, round(fraction * len(labels)))
    rows = np.sort(rng.choice(len(labels), size=count, replace=False))
    planted = list(labels)
    for row in rows:
        wrong = [c for c in classes if c != labels[row]]
        planted[row] = wrong[int(rng.integers(len(wrong)))]
    return planted, rows


def evaluate(vectors, labels, embedder, method: str, fraction: float, seed: int,
             text_weight: float = TEXT_WEIGHT) -> dict:
    """Mean rank and precision@k of the planted errors for one method and one seed."""
    planted_labels, rows = plant(labels, fraction, seed)
    terms = tuple(sorted(set(labels)))
    carries = label_matrix([[v] for v in planted_labels], terms)
    vocabulary = Vocabulary(name="label", field="label", terms=terms)
    probs = combined_probs(vectors, carries, vocabulary, embedder.embed_text, method, text_weight)
    order = [row for row, _, _ in suspicion_order(probs, carries)]
    rank_of = {row: rank for rank, row in enumerate(order, start=1)}
    ranks = [rank_of[int(r)] for r in rows]
    k = len(rows)
    hits = len(set(order[:k]) & {int(r) for r in rows})
    fixed = sum(terms[best] == labels[row] for row, best, _ in suspicion_order(probs, carries)
                if row in set(rows.tolist()))
    return {"mean_rank": float(np.mean(ranks)), "precision_at_k": hits / k, "k": k,
            "suggested_right": fixed / k}


def main(argv: list[str] | None = None) -> int:
    """Run the planted-error benchmark and print one table."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", default=str(resource_path("models", "default")))
    parser.add_argument("--demo", type=int, metavar="N", help="generated tracks per demo style")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of a demo track")
    parser.add_argument("--manifest", type=Path, help="labelled JSONL manifest")
    parser.add_argument("--label", default="instrument_family", help="label key in the manifest")
    parser.add_argument("--classes", help="comma-separated classes to keep (default all)")
    parser.add_argument("--per-class", type=int, default=40)
    parser.add_argument("--fraction", type=float, default=0.10)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--text-weight", type=float, default=TEXT_WEIGHT,
                        help="weight of the text expert in 'both'")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/slapdesk-bench-cache"))
    args = parser.parse_args(argv)
    embedder = Embedder.from_bundle(args.bundle, device="cpu")
    if args.demo:
        items, labels = demo_items(args.demo, args.seconds, embedder.cfg.frontend.sample_rate)
        source = f"demo styles, {args.demo} per style, {args.seconds:.0f} s"
    elif args.manifest:
        classes = {c.strip() for c in args.classes.split(",")} if args.classes else None
        items, labels = manifest_items(args.manifest, args.label, classes, args.per_class)
        source = f"{args.manifest.name} [{args.label}]"
    else:
        parser.error("give --demo N or --manifest PATH")
    vectors = embed(embedder, items, args.cache)
    print(f"{source}: {len(labels)} tracks, {len(set(labels))} classes, "
          f"{args.fraction:.0%} planted, seeds 0-{args.seeds - 1}")
    k = max(1, round(args.fraction * len(labels)))
    print(f"chance: precision@k {k / len(labels):.3f}, mean rank {(len(labels) + 1) / 2:.1f}")
    print("| method | k | mean rank | precision@k (min-max) | suggestion = true label |")
    print("|---|---:|---:|---:|---:|")
    for method in METHODS:
        runs = [evaluate(vectors, labels, embedder, method, args.fraction, s, args.text_weight)
                for s in range(args.seeds)]
        precision = [r["precision_at_k"] for r in runs]
        print(f"| {method} | {runs[0]['k']} | {np.mean([r['mean_rank'] for r in runs]):.1f} | "
              f"{np.mean(precision):.3f} ({min(precision):.2f}-{max(precision):.2f}) | "
              f"{np.mean([r['suggested_right'] for r in runs]):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
