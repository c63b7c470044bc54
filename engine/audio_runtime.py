"""Where the audio side runs: the device, chosen without torch where that is sure, and torch.

An embedder loaded for audio only (``Embedder.from_bundle(..., audio_only=True)``) runs the
cached ONNX graph on a CPU without torch; these helpers keep torch out until something needs it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from engine.audio_bundle import AudioWeights
    from engine.audio_model import AudioSide

# Device files of the GPU drivers torch could use on Linux (NVIDIA, AMD ROCm, WSL).
_GPU_DEVICE_FILES = ("/dev/nvidiactl", "/proc/driver/nvidia", "/dev/kfd", "/dev/dxg")


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run torch's intra-op work on ``count`` threads inside the block, then restore."""
    import torch

    before = torch.get_num_threads()
    if before == count:
        yield
        return
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def lazy_device(device: str | torch.device | None) -> Any:
    """``device`` resolved and checked: a ``torch.device``, or "cpu" when that is sure.

    "cpu" (a string, torch not imported) when the CPU is asked for, or when no device is
    asked for on a Linux machine without a GPU driver (torch would choose the CPU there too).
    """
    if "torch" not in sys.modules:
        if isinstance(device, str) and device == "cpu":
            return "cpu"
        if device in (None, "auto") and sys.platform.startswith("linux") and not any(
            os.path.exists(p) for p in _GPU_DEVICE_FILES
        ):
            return "cpu"
    from engine.device import resolve_device

    return resolve_device(device)


def build_audio_side(weights: AudioWeights, device: Any) -> AudioSide:
    """The torch model of a bundle's checked audio weights (imports torch)."""
    from engine.audio_model import load_audio_side

    return load_audio_side(weights, device)
