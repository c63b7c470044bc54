"""Two processes under torchrun on the gloo backend: DDP trains and rank 0 alone writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch.distributed as dist

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed is not built in")
def test_two_process_gloo_run_writes_one_bundle(tmp_path: Path) -> None:
    out = tmp_path / "ddp"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
        "--standalone", "-m", "engine.train",
        "--synthetic", "32", "--model", "slap_test", "--steps", "2", "--batch-size", "4",
        "--accumulate", "2", "--val-max", "4", "--device", "cpu", "--workers", "0",
        "--no-progress", "--out", str(out),
    ]  # fmt: skip
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    bundles = sorted(p.parent.relative_to(out) for p in out.rglob("config.json"))
    assert bundles == [Path("bundle")]
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if r["kind"] == "step"] == [1, 2]
    assert [r["kind"] for r in records].count("eval") == 1
    # Effective batch = micro 4 × accumulate 2 × 2 processes; 32 clips: 4 steps per epoch.
    assert all(r["epoch"] == 0 for r in records if r["kind"] == "step")
    assert len(list((out / "checkpoints").glob("*.json"))) == 1
