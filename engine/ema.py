"""EMA target networks (BYOL / DINO style): a frozen deep copy moved toward the online network.

``target = τ · target + (1 − τ) · online`` once per optimizer step, in place, for parameters
and floating-point buffers alike; integer buffers (counters, position ids) are copied.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


def make_target(online: nn.Module) -> nn.Module:
    """Return a deep copy of ``online`` (parameters and buffers) that takes no gradient."""
    target = copy.deepcopy(online)
    for param in target.parameters():
        param.requires_grad_(False)
    return target


def _pairs(
    target: nn.Module, online: nn.Module, kind: str
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Match the target's tensors of ``kind`` ("parameters" or "buffers") to the online ones."""
    target_items = dict(getattr(target, f"named_{kind}")())
    online_items = dict(getattr(online, f"named_{kind}")())
    if target_items.keys() != online_items.keys():
        missing = sorted(online_items.keys() ^ target_items.keys())
        raise ValueError(f"target and online {kind} differ: {missing[:5]}")
    return [(target_items[name], online_items[name]) for name in online_items]


@torch.no_grad()
def ema_update_(target: nn.Module, online: nn.Module, tau: float) -> None:
    """Move ``target`` toward ``online`` in place: t ← τ·t + (1 − τ)·o.

    Args:
        target: The EMA copy (from :func:`make_target`).
        online: The network being trained.
        tau: Momentum in [0, 1]; 1 keeps the target, 0 copies the online network.

    Raises:
        ValueError: If ``tau`` is outside [0, 1] or the two modules do not match.
    """
    if not 0.0 <= tau <= 1.0:
        raise ValueError(f"EMA tau must be in [0, 1], not {tau}")
    params = _pairs(target, online, "parameters")
    if params:
        t_params = [t for t, _ in params]
        o_params = [o.detach().to(t.dtype) for t, o in params]
        # lerp_(end, w): t + w * (end - t) = (1 - w) * t + w * end, with w = 1 - tau.
        torch._foreach_lerp_(t_params, o_params, 1.0 - tau)
    for t_buf, o_buf in _pairs(target, online, "buffers"):
        if t_buf.is_floating_point():
            t_buf.lerp_(o_buf.to(t_buf.dtype), 1.0 - tau)
        else:
            t_buf.copy_(o_buf)


@torch.no_grad()
def copy_into_(target: nn.Module, online: nn.Module) -> None:
    """Make ``target`` an exact copy of ``online`` again (parameters and buffers)."""
    for t, o in _pairs(target, online, "parameters") + _pairs(target, online, "buffers"):
        t.copy_(o)
