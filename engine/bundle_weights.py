"""A bundle's weights: a stable id of them, tied tensors stored once, reading model.safetensors.

Importable without torch: the id can be computed over numpy arrays too (the audio-only load
path checks a bundle that way, ``engine.audio_bundle``), and gives the same id as over the
same tensors in torch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from safetensors import SafetensorError, safe_open

from engine.bundle_info import BundleError
from engine.config import SlapCfg

if TYPE_CHECKING:
    import torch

# numpy dtype -> the name torch gives the same dtype, as the id hashes it.
_TORCH_NAMES = {
    "float64": "torch.float64", "float32": "torch.float32", "float16": "torch.float16",
    "int64": "torch.int64", "int32": "torch.int32", "int16": "torch.int16", "int8": "torch.int8",
    "uint8": "torch.uint8", "bool": "torch.bool",
}  # fmt: skip


def _entry(value: Any) -> tuple[str, tuple[int, ...], np.ndarray]:
    """(dtype as torch names it, shape, raw little-endian bytes) of a tensor or an array."""
    if isinstance(value, np.ndarray):
        name = _TORCH_NAMES.get(value.dtype.name)
        if name is None or value.dtype.byteorder == ">":
            raise TypeError(f"no torch dtype for numpy {value.dtype}")
        return name, tuple(value.shape), np.ascontiguousarray(value).reshape(-1).view(np.uint8)
    import torch

    tensor = value.detach().to("cpu").contiguous()
    raw = tensor.reshape(-1).view(torch.uint8).numpy()
    return str(tensor.dtype), tuple(tensor.shape), raw


def weights_hash(state: Mapping[str, torch.Tensor | np.ndarray], cfg: SlapCfg | None = None) -> str:
    """Return a stable 16-hex-digit id of the weights (and the configuration, when given).

    Names, dtypes, shapes and raw bytes are hashed in sorted-name order, so the id does not
    depend on file layout, device or dict order. torch tensors and numpy arrays holding the
    same values give the same id.
    """
    digest = hashlib.sha256()
    if cfg is not None:
        digest.update(json.dumps(cfg.to_dict(), sort_keys=True).encode())
    for name in sorted(state):
        dtype, shape, raw = _entry(state[name])
        digest.update(f"{name}|{dtype}|{shape}|".encode())
        digest.update(raw.data)
    return digest.hexdigest()[:16]


def split_shared(state: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Keep one copy of tensors that share memory (tied weights); return them + the aliases."""
    kept: dict[str, torch.Tensor] = {}
    aliases: dict[str, str] = {}
    seen: dict[tuple, str] = {}
    for name in sorted(state):
        tensor = state[name].detach()
        key = (
            tensor.device.type,
            tensor.untyped_storage().data_ptr() if tensor.numel() else id(tensor),
            tensor.storage_offset(),
            tuple(tensor.shape),
            tensor.stride(),
            tensor.dtype,
        )
        if key in seen:
            aliases[name] = seen[key]
            continue
        seen[key] = name
        # safetensors wants contiguous tensors that own their memory.
        kept[name] = tensor.to("cpu").contiguous().clone()
    return kept, aliases


def read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    """Read a safetensors file, restoring aliases; BundleError for a damaged file."""
    if not path.is_file():
        raise BundleError(f"{path.name} is missing from {path.parent}")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            meta = handle.metadata() or {}
            state = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        size = path.stat().st_size
        raise BundleError(
            f"{path} is damaged or truncated ({size} bytes) and cannot be read as safetensors: "
            f"{exc}"
        ) from exc
    aliases = json.loads(meta.get("aliases", "{}"))
    for alias, source in aliases.items():
        if source not in state:
            raise BundleError(f"{path}: alias {alias!r} points at missing tensor {source!r}")
        state[alias] = state[source]
    return state
