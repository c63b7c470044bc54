"""Device choice shared by inference and training: explicit, or CUDA, then MPS, then CPU."""

from __future__ import annotations

import torch


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """Return the device to run on.

    Args:
        device: "cpu", "cuda", "cuda:1", "mps", a ``torch.device``, or None / "auto" for the
            best available (CUDA, then Apple MPS, else CPU).

    Returns:
        A ``torch.device``.

    Raises:
        ValueError: If an explicitly requested CUDA or MPS device is not available.
    """
    if device is None or device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but torch sees no CUDA device")
    if resolved.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(f"device {device!r} asked for, but MPS is not available")
    return resolved
