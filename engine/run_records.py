"""What a training run writes for people and the window: metrics.jsonl and the model card.

The training panel tails ``metrics.jsonl`` while the run goes on, so every record is one line
flushed at once; the model card is the Markdown a bundle carries about its data and recipe.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path
from typing import Any

import torch

from engine.atomic_files import write_text_atomically
from engine.config import SlapCfg, TrainCfg


def peak_memory_bytes(device: torch.device) -> int:
    """CUDA ``max_memory_allocated`` on a GPU, else the process's peak resident set size."""
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


class MetricsLog:
    """``metrics.jsonl``: one JSON object per line, flushed at once (the GUI tails it)."""

    def __init__(self, path: Path, enabled: bool, truncate_after: int | None = None) -> None:
        """Open ``path`` for appending; on resume, drop lines from after the checkpoint."""
        self.path = path
        self.file = None
        if not enabled:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        if truncate_after is not None and path.exists():
            kept = [
                line
                for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip() and json.loads(line).get("step", 0) <= truncate_after
            ]
            # Atomic: a crash while trimming must not lose the lines of the steps kept.
            write_text_atomically(path, "".join(line + "\n" for line in kept))
        self.file = path.open("a", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        """Append one record."""
        if self.file is not None:
            self.file.write(json.dumps(record) + "\n")
            self.file.flush()

    def close(self) -> None:
        """Close the file."""
        if self.file is not None:
            self.file.close()


def model_card(
    cfg: TrainCfg, model_cfg: SlapCfg, data: str, metrics: dict[str, float], steps: int
) -> str:
    """Markdown for the bundle's ``model_card.md``: data, recipe, measured figures."""
    lines = [
        f"# {model_cfg.name} ({model_cfg.objective.upper()})",
        "",
        "## Data",
        data,
        "",
        "## Recipe",
        f"- {steps} optimizer steps, effective batch {cfg.batch_size} × {cfg.accumulate} "
        "× processes",
        f"- AdamW lr {cfg.lr:g} (warm-up {cfg.warmup_steps}, cosine to {cfg.min_lr:g}), "
        f"weight decay {cfg.weight_decay:g}, gradient clip {cfg.grad_clip:g}",
        f"- audio tower {model_cfg.audio.name}"
        + (" (frozen)" if cfg.freeze_audio_encoder else "")
        + f", text tower {model_cfg.text.source}"
        + (" (frozen)" if cfg.freeze_text else ""),
        f"- seed {cfg.seed}" + (f", initialised from {cfg.init}" if cfg.init else ""),
        "",
        "## Held-out figures",
    ]
    if metrics:
        lines += [f"- {name}: {value:.4g}" for name, value in sorted(metrics.items())]
    else:
        lines.append("- none (no validation clips)")
    return "\n".join(lines) + "\n"
