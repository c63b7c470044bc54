"""``python -m tools.validation``: the team's real-music validation suite (docs/validation.md).

``build --out DIR`` renders the clips and writes ``DIR/validation.jsonl``; ``run BUNDLE DIR``
embeds them with a model bundle and prints every figure.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from pathlib import Path

import numpy as np

from tools.validation import sources

log = logging.getLogger("tools.validation")
MANIFEST = "validation.jsonl"


def build(out: Path) -> int:
    """Render every validation clip (resumable) and write ``out/validation.jsonl``."""
    rows = [*sources.game_rows(), *sources.sample_rows(), *sources.control_rows()]
    kept, failed = [], 0
    for row in rows:
        try:
            sources.render(row, out)
        except (RuntimeError, OSError, ValueError) as exc:
            failed += 1
            log.warning("skipped %s: %s", row["audio"], exc)
            continue
        kept.append({k: v for k, v in row.items() if k != "render"})
    text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in kept)
    (out / MANIFEST).write_text(text, encoding="utf-8")
    kinds: dict[str, int] = {}
    for r in kept:
        kinds[r["labels"]["kind"]] = kinds.get(r["labels"]["kind"], 0) + 1
    sys.stdout.write(f"{len(kept)} clips ({kinds}), {failed} skipped -> {out / MANIFEST}\n")
    return 0


def evaluate(bundle: str, folder: Path, device: str = "cpu", memo: Path | None = None) -> dict:
    """Embed the suite's clips with ``bundle`` and compute every figure.

    ``memo``: a folder memoising the audio tower's outputs (``tools.validation.feature_memo``).
    """
    from tools.validation import metrics
    from tools.validation.feature_memo import embedder as make_embedder

    rows = [json.loads(line) for line in (folder / MANIFEST).read_text("utf-8").splitlines()]
    embedder = make_embedder(bundle, device, memo)
    start = time.perf_counter()
    result = embedder.embed_audio([str(folder / r["audio"]) for r in rows], batch_size=8,
                                  keep_windows=False)
    seconds = time.perf_counter() - start
    if result.errors:
        raise RuntimeError(f"clips failed to embed: {result.errors[:3]}")
    vectors = np.asarray(result.tracks, dtype=np.float32)
    queries = metrics.query_precision(vectors, rows, embedder.embed_text)
    scored = [q["precision"] for q in queries if not math.isnan(q["precision"])]
    return {
        "bundle": bundle,
        "model_id": embedder.model_id if hasattr(embedder, "model_id") else None,
        "clips": len(rows),
        "embed_seconds": seconds,
        "zero_shot": metrics.zero_shot(vectors, rows, embedder.embed_text),
        "queries": queries,
        "query_precision_at_5": float(np.mean(scored)),
        "autotag": metrics.autotag(vectors, rows, embedder.embed_text,
                                   abstain=list(result.abstain)),
    }


def report_text(report: dict) -> str:
    """The figures as Markdown."""
    from tools.zeroshot_eval import markdown

    lines = [f"# validation: {report['bundle']} ({report['clips']} clips, embedded in "
             f"{report['embed_seconds']:.1f} s)", ""]
    lines += [markdown(r) + "\n" for r in report["zero_shot"]]
    lines += [f"**query precision@5**: {report['query_precision_at_5']:.3f} over "
              f"{len(report['queries'])} queries", "",
              "| query | relevant | hits in top 5 | precision@5 |", "|---|---:|---:|---:|"]
    lines += [f"| {q['query']} | {q['relevant']} | {q['hits']} | {q['precision']:.2f} |"
              for q in report["queries"]]
    tags = report["autotag"]
    lines += ["", f"**auto-tag** at threshold {tags['threshold']} (top {tags['top_k']}):", ""]
    for name in ("genre", "instrument"):
        t = tags[name]
        lines.append(f"- {name}: precision {t['precision']:.3f} ({t['proposals']} proposals), "
                     f"recall {t['recall']:.3f} ({t['clips']} labelled clips)")
    lines += [f"- non-music controls tagged: "
              f"{sum(bool(v) for v in tags['nonmusic'].values())} of {len(tags['nonmusic'])} "
              f"{json.dumps(tags['nonmusic'])}",
              f"- marked at embedding time (never tagged): {len(tags.get('abstained', {}))} "
              f"{json.dumps(tags.get('abstained', {}))}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Build the suite or score a bundle on it."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    p = argparse.ArgumentParser(prog="python -m tools.validation", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="render the clips and write validation.jsonl")
    b.add_argument("--out", type=Path, default=Path("validation_out"))
    r = sub.add_parser("run", help="score a model bundle on the built suite")
    r.add_argument("bundle")
    r.add_argument("folder", type=Path, nargs="?", default=Path("validation_out"))
    r.add_argument("--device", default="cpu")
    r.add_argument("--json", type=Path, help="also write the full report here")
    r.add_argument("--feature-memo", type=Path, metavar="DIR",
                   help="memoise the audio tower's outputs in DIR (validation/feature_memo.py)")
    args = p.parse_args(argv)
    if args.command == "build":
        return build(args.out)
    report = evaluate(args.bundle, args.folder, args.device, args.feature_memo)
    sys.stdout.write(report_text(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
