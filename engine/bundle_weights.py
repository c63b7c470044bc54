"""A bundle's weights: a stable id of them, tied tensors stored once, reading model.safetensors."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open

from engine.bundle_info import BundleError
from engine.config import SlapCfg


def weights_hash(state: dict[str, torch.Tensor], cfg: SlapCfg | None = None) -> str:
    """Return a stable 16-hex-digit id of the weights (and the configuration, when given).

    Names, dtypes, shapes and raw bytes are hashed in sorted-name order, so the id does not
    depend on file layout, device or dict order.
    """
    digest = hashlib.sha256()
    if cfg is not None:
        digest.update(json.dumps(cfg.to_dict(), sort_keys=True).encode())
    for name in sorted(state):
        tensor = state[name].detach().to("cpu").contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
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
