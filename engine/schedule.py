"""Schedules as pure functions of the optimizer step (DINO / nanoGPT style).

``step`` counts optimizer steps (not micro-batches), starting at 0; ``total_steps`` is the
number of optimizer steps of the whole run.
"""

from __future__ import annotations

import math
from typing import Literal

TauSchedule = Literal["constant", "cosine", "linear"]


def _progress(step: int, total_steps: int) -> float:
    """Fraction of training done, clamped to [0, 1]."""
    if total_steps <= 1:
        return 1.0
    return min(max(step / (total_steps - 1), 0.0), 1.0)


def cosine_tau(step: int, total_steps: int, tau_start: float, tau_end: float = 1.0) -> float:
    """BYOL's schedule: τ rises from ``tau_start`` to ``tau_end`` along a half cosine."""
    p = _progress(step, total_steps)
    return tau_end - (tau_end - tau_start) * (math.cos(math.pi * p) + 1.0) / 2.0


def linear_tau(step: int, total_steps: int, tau_start: float, tau_end: float = 1.0) -> float:
    """τ moves linearly from ``tau_start`` at step 0 to ``tau_end`` at the last step."""
    p = _progress(step, total_steps)
    return tau_start + (tau_end - tau_start) * p


def ema_tau(
    step: int,
    total_steps: int,
    tau: float = 0.95,
    schedule: TauSchedule = "constant",
    tau_end: float = 1.0,
) -> float:
    """EMA momentum for optimizer step ``step``.

    Args:
        step: Optimizer step, from 0.
        total_steps: Optimizer steps in the run (ignored by "constant").
        tau: The constant τ, or the start value of a schedule (SLAP's default: 0.95).
        schedule: "constant", "cosine" or "linear".
        tau_end: Final τ of the cosine and linear schedules.

    Returns:
        τ in [0, 1].

    Raises:
        ValueError: For an unknown schedule.
    """
    if schedule == "constant":
        return tau
    if schedule == "cosine":
        return cosine_tau(step, total_steps, tau, tau_end)
    if schedule == "linear":
        return linear_tau(step, total_steps, tau, tau_end)
    raise ValueError(f"unknown EMA schedule {schedule!r}; use constant, cosine or linear")


def warmup_cosine_lr(
    step: int, base_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0
) -> float:
    """Learning rate: linear warm-up from 0, then cosine decay to ``min_lr``.

    Args:
        step: Optimizer step, from 0.
        base_lr: Peak learning rate, reached at the end of warm-up.
        warmup_steps: Steps of linear warm-up (0 for none).
        total_steps: Optimizer steps in the run; ``min_lr`` from then on.
        min_lr: Floor of the cosine decay.

    Returns:
        The learning rate for this step.
    """
    if step < warmup_steps:
        # (step + 1) so the very first step already learns something.
        return base_lr * (step + 1) / warmup_steps
    if step >= total_steps:
        return min_lr
    decay_steps = max(total_steps - warmup_steps, 1)
    p = (step - warmup_steps) / decay_steps
    return min_lr + (base_lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * p))
