"""Peak memory and throughput against effective batch size: SLAP (accumulated) vs CLAP (true).

SLAP has no negatives, so a large effective batch is micro-batches accumulated: memory stays
that of one micro-batch. CLAP's InfoNCE needs the whole batch at once (its negatives), so its
memory grows with the batch. Each (objective, batch) runs in its own process through the real
trainer's ``train_step`` (accumulation, clipping, AMP, EMA update included), and the table
compares them side by side.

Memory: CUDA ``max_memory_allocated`` on a GPU; on CPU the process's peak resident set
(``VmHWM``) above its resident set once the model and optimizer are built.

    python tests/bench/bench_train_memory.py                      # CPU, tiny config
    python tests/bench/bench_train_memory.py --device cuda --model default-small --amp bf16
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CAPTIONS = ("a low sine tone", "pulsing square wave, high pitch", "a steady bell sound")


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _trainer(args: argparse.Namespace, micro: int):
    from engine.config import TrainCfg
    from engine.trainer import Trainer

    cfg = TrainCfg(
        model=args.model,
        objective=args.objective,
        synthetic=args.batch,
        batch_size=micro,
        accumulate=args.batch // micro,
        steps=args.steps,
        freeze_text=args.freeze_text,
        amp=args.amp,
        device=args.device,
        workers=0,
        val_fraction=0.0,
        progress=False,
        out=tempfile.mkdtemp(prefix="bench-train-"),
    )
    return Trainer(cfg)


def _timed_steps(trainer, micro_batches: list[dict], steps: int, device) -> list[float]:
    import torch

    times = []
    for _ in range(steps):
        start = time.perf_counter()
        trainer.train_step(micro_batches)
        trainer.step += 1
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    return times[1:] or times  # the first step pays for allocation and kernel choice


def measure(args: argparse.Namespace) -> dict:
    """Run in the child process: build a trainer, time its steps, report peak memory."""
    import torch

    torch.set_num_threads(args.threads)
    micro = args.micro if args.objective == "slap" else args.batch
    trainer = _trainer(args, micro)
    device = trainer.dist.device
    samples = trainer.model_cfg.frontend.clip_samples
    gen = torch.Generator().manual_seed(0)
    batch = {
        "waveform": 0.1 * torch.randn(micro, samples, generator=gen),
        "captions": [CAPTIONS[i % len(CAPTIONS)] for i in range(micro)],
        "failures": [],
    }
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    base_kib = _rss_kib("VmRSS")
    timed = _timed_steps(trainer, [batch] * (args.batch // micro), args.steps, device)
    if device.type == "cuda":
        peak = extra = torch.cuda.max_memory_allocated(device)
    else:
        peak = _rss_kib("VmHWM") * 1024
        extra = peak - base_kib * 1024
    return {
        "objective": args.objective,
        "batch": args.batch,
        "micro": micro,
        "accumulate": args.batch // micro,
        "peak_bytes": peak,
        "extra_bytes": extra,
        "samples_per_s": args.batch * len(timed) / sum(timed),
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
    }


def _run_child(args: argparse.Namespace, objective: str, batch: int) -> dict:
    cmd = [
        sys.executable, __file__, "--child", "--objective", objective, "--batch", str(batch),
        "--micro", str(args.micro), "--model", args.model, "--device", args.device,
        "--steps", str(args.steps), "--amp", args.amp, "--threads", str(args.threads),
    ]  # fmt: skip
    if args.freeze_text:
        cmd.append("--freeze-text")
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    for line in result.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
    reason = "out of memory" if "out of memory" in result.stderr.lower() else tail[0]
    return {"objective": objective, "batch": batch, "error": reason[:60]}


def _table(rows: list[dict], cpu: bool) -> str:
    mem = "peak RSS above start" if cpu else "peak allocated"
    head = (
        f"| objective | effective batch | micro × accumulate | {mem} (MiB) | × vs 64 | samples/s |"
    )
    lines = [head, "|---|---:|---:|---:|---:|---:|"]
    first: dict[str, float] = {}
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['objective']} | {r['batch']} | | {r['error']} | | |")
            continue
        mib = (r["extra_bytes"] if cpu else r["peak_bytes"]) / 2**20
        first.setdefault(r["objective"], mib)
        ratio = mib / first[r["objective"]] if first[r["objective"]] else float("nan")
        lines.append(
            f"| {r['objective']} | {r['batch']} | {r['micro']} × {r['accumulate']} | "
            f"{mib:,.0f} | {ratio:.2f} | {r['samples_per_s']:,.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Parse arguments; run every configuration in a child process; print the table."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--device", default="cpu")
    p.add_argument("--model", default="slap_test", help="model config (slap_test: tiny CPU)")
    p.add_argument("--micro", type=int, default=64, help="SLAP micro-batch")
    p.add_argument("--batches", default="64,128,256,512,1024,2048", help="effective batches")
    p.add_argument("--steps", type=int, default=3, help="steps per setting (first untimed)")
    p.add_argument("--amp", default="auto", choices=("auto", "bf16", "fp16", "off"))
    p.add_argument("--freeze-text", action="store_true", help="cache the text tower")
    p.add_argument("--threads", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    p.add_argument("--objectives", default="slap,clap")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--objective", default="slap", help=argparse.SUPPRESS)
    p.add_argument("--batch", type=int, default=64, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print("RESULT " + json.dumps(measure(args)), flush=True)
        return
    rows = []
    for objective in args.objectives.split(","):
        for batch in (int(b) for b in args.batches.split(",")):
            row = _run_child(args, objective, batch)
            print(json.dumps(row), file=sys.stderr, flush=True)
            rows.append(row)
    device = next((r["device"] for r in rows if "device" in r), args.device)
    print(f"\nmodel {args.model}, device {device}, SLAP micro-batch {args.micro}, amp {args.amp}")
    print(_table(rows, cpu=args.device == "cpu"))
    slap = [r for r in rows if r["objective"] == "slap" and "error" not in r]
    if len(slap) >= 2:
        key = "extra_bytes" if args.device == "cpu" else "peak_bytes"
        growth = slap[-1][key] / slap[0][key]
        verdict = "meets" if growth <= 1.1 else "misses"
        print(
            f"\nSLAP peak memory {slap[0]['batch']} -> {slap[-1]['batch']}: ×{growth:.2f} "
            f"({verdict} the ×1.1 target)"
        )


if __name__ == "__main__":
    main()
