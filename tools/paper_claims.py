r"""Check SLAP's central claims against the CLAP baseline on SlapDesk's offline corpus.

Same towers (the default model's frozen musicnn audio encoder and MiniLM text encoder), same
data, same number of training samples; only the objective and the effective batch change:
SLAP reaches a batch by accumulating micro-batches of 16, CLAP uses true batches. For each run
the held-out figures come from ``slapdesk-train``'s own evaluation: text->audio R@10 and median
normalised rank, the modality gap (centroid distance and linear separability) and the peak
memory it recorded.

    python -m tools.paper_claims --manifest corpus_out/train_3500.jsonl \
        --val-manifest corpus_out/val_1000.jsonl --feature-cache runs/feature-cache \
        --out runs/claims --write docs/paper_claims.md

The frozen encoders' features are cached (``--feature-cache``), so the backbone runs once for
all six runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from engine.train import main as train_main

MICRO = 16  # SLAP's micro-batch: every effective batch is reached by accumulation


def _run(args: argparse.Namespace, objective: str, batch: int) -> dict:
    out = Path(args.out) / f"{objective}-{batch}"
    micro = MICRO if objective == "slap" else batch
    steps = max(1, round(args.epochs * args.clips / batch))
    argv = [
        "--model", args.model, "--objective", objective,
        "--manifest", args.manifest, "--val-manifest", args.val_manifest,
        "--val-max", str(args.val_max), "--freeze-text", "--freeze-audio-encoder",
        "--feature-cache", args.feature_cache, "--cache-windows", "1",
        "--batch-size", str(micro), "--accumulate", str(batch // micro),
        "--steps", str(steps), "--lr", str(args.lr), "--warmup-steps", str(max(1, steps // 20)),
        "--eval-every", "0", "--checkpoint-every", "0", "--workers", "0",
        "--device", args.device, "--seed", str(args.seed), "--out", str(out), "--no-progress",
    ]  # fmt: skip
    started = time.monotonic()
    code = train_main(argv)
    seconds = time.monotonic() - started
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in records if r.get("kind") == "eval"]
    peaks = [r["peak_mem_bytes"] for r in records if "peak_mem_bytes" in r]
    final = evals[-1] if evals else {}
    return {
        "objective": objective,
        "batch": batch,
        "micro": micro,
        "steps": steps,
        "exit": code,
        "seconds": seconds,
        "peak_mib": max(peaks) / 2**20 if peaks else float("nan"),
        **final,
    }


def _table(rows: list[dict]) -> str:
    head = (
        "| objective | effective batch | micro × accumulate | steps | t→a R@10 | t→a median "
        "nrank | a→t R@10 | gap (centroid) | linear sep. acc | peak RSS (MiB) |"
    )
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['objective'].upper()} | {r['batch']} | {r['micro']} × {r['batch'] // r['micro']}"
            f" | {r['steps']} | {r.get('t2a_R@10', float('nan')):.3f}"
            f" | {r.get('t2a_median_nrank', float('nan')):.4f}"
            f" | {r.get('a2t_R@10', float('nan')):.3f} | {r.get('modality_gap', float('nan')):.3f}"
            f" | {r.get('linear_separability', float('nan')):.3f} | {r['peak_mib']:,.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the six trainings and print (and optionally write) the comparison table."""
    p = argparse.ArgumentParser(prog="python -m tools.paper_claims", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="slapdesk-default")
    p.add_argument("--manifest", required=True)
    p.add_argument("--val-manifest", required=True)
    p.add_argument("--val-max", type=int, default=1000)
    p.add_argument("--feature-cache", required=True)
    p.add_argument("--batches", default="16,64,256")
    p.add_argument("--epochs", type=float, default=20.0, help="training passes, same for all")
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/claims")
    p.add_argument("--write", help="also write the table into this markdown file")
    args = p.parse_args(argv)
    args.clips = sum(1 for line in Path(args.manifest).read_text().splitlines() if line.strip())
    rows = []
    for objective in ("slap", "clap"):
        for batch in (int(b) for b in args.batches.split(",")):
            rows.append(_run(args, objective, batch))
            print(json.dumps(rows[-1]), flush=True)
    table = _table(rows)
    print(table)
    if args.write:
        Path(args.write).write_text(table + "\n", encoding="utf-8")
    return 0 if all(r["exit"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
