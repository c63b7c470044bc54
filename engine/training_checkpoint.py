"""Training checkpoints: safetensors for every tensor, JSON for everything else; never pickle.

A checkpoint is two files in the run's ``checkpoints/`` folder:
``step-000120.safetensors`` (model state with the EMA targets, optimizer tensors, RNG states)
and ``step-000120.json`` (format version, step, data position, config, optimizer
hyper-parameters, Python / NumPy RNG state). Each file is written to a temporary name, fsynced
and renamed; the JSON goes last and names its tensor file, so a checkpoint exists exactly when
its JSON does: a crash mid-write leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from engine.atomic_files import replace_file, temp_path, write_text_atomically

FORMAT_VERSION = 1
_NAME = re.compile(r"^step-(\d+)\.json$")


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, incomplete or of an unknown format."""


@dataclass
class Checkpoint:
    """A loaded checkpoint: JSON metadata and the flat tensor dictionary."""

    meta: dict[str, Any]
    tensors: dict[str, torch.Tensor]
    path: Path  # the JSON file

    @property
    def step(self) -> int:
        """Optimizer steps done when it was written."""
        return int(self.meta["step"])


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The plain module under DDP (``.module``) and ``torch.compile`` (``._orig_mod``)."""
    while True:
        if isinstance(model, torch.nn.parallel.DistributedDataParallel):
            model = cast(torch.nn.Module, model.module)
        elif hasattr(model, "_orig_mod"):
            model = cast(torch.nn.Module, model._orig_mod)
        else:
            return model


# ----------------------------------------------------------------------------- RNG


def rng_state() -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Python, NumPy, torch (and CUDA) generator states as (JSON part, tensor part)."""
    version, internal, gauss = random.getstate()
    np_state = np.random.get_state(legacy=False)
    meta = {
        "python": [version, list(internal), gauss],
        "numpy": {k: v for k, v in np_state.items() if k != "state"}
        | {"pos": int(np_state["state"]["pos"])},
    }
    tensors = {
        "rng/torch": torch.get_rng_state(),
        "rng/numpy_key": torch.from_numpy(np_state["state"]["key"].astype(np.int64)),
    }
    if torch.cuda.is_available():
        for i, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng/cuda/{i}"] = state
    return meta, tensors


def restore_rng(meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
    """Put back the generator states saved by :func:`rng_state`."""
    version, internal, gauss = meta["python"]
    random.setstate((version, tuple(internal), gauss))
    np_meta = dict(meta["numpy"])
    key = tensors["rng/numpy_key"].numpy().astype(np.uint32)
    np_meta["state"] = {"key": key, "pos": np_meta.pop("pos")}
    np.random.set_state(np_meta)
    torch.set_rng_state(tensors["rng/torch"])
    cuda = sorted(k for k in tensors if k.startswith("rng/cuda/"))
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([tensors[k] for k in cuda])


# ----------------------------------------------------------------------------- optimizer


def flatten_optimizer(optimizer: torch.optim.Optimizer) -> tuple[dict, dict[str, torch.Tensor]]:
    """Optimizer state as (JSON part: param groups + scalars, tensor part: per-param tensors)."""
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, entries in state["state"].items():
        for name, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim/{pid}/{name}"] = value
            else:
                scalars.setdefault(str(pid), {})[name] = value
    return {"param_groups": state["param_groups"], "scalars": scalars}, tensors


def unflatten_optimizer(meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> dict:
    """Rebuild an optimizer ``state_dict`` from :func:`flatten_optimizer`'s two parts."""
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("optim/"):
            _, pid, name = key.split("/", 2)
            state.setdefault(int(pid), {})[name] = value
    for pid, entries in meta.get("scalars", {}).items():
        state.setdefault(int(pid), {}).update(entries)
    return {"state": state, "param_groups": meta["param_groups"]}


# ----------------------------------------------------------------------------- files


def save_checkpoint(
    folder: str | Path,
    step: int,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    meta: dict[str, Any],
    scaler: torch.amp.GradScaler | None = None,
    keep: int = 2,
) -> Path:
    """Write ``step-NNNNNN.safetensors`` + ``.json`` atomically; keep the newest ``keep``.

    Args:
        folder: the run's checkpoint folder (created).
        step: optimizer steps done.
        model: the model (DDP / compiled wrappers are unwrapped); its state dict includes
            the EMA targets.
        optimizer: the optimizer.
        meta: JSON-ready extras (config, data position, counters).
        scaler: the fp16 gradient scaler, if any.
        keep: how many checkpoints to keep (0 keeps all).

    Returns:
        The JSON file's path.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"step-{step:06d}"
    opt_meta, opt_tensors = flatten_optimizer(optimizer)
    rng_meta, rng_tensors = rng_state()
    tensors = {f"model/{k}": v for k, v in unwrap(model).state_dict().items()}
    tensors.update(opt_tensors)
    tensors.update(rng_tensors)
    # safetensors refuses tensors that share memory; contiguous copies on the CPU never do.
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    tensor_file = folder / f"{stem}.safetensors"
    tmp = temp_path(tensor_file)
    try:
        save_file(tensors, str(tmp), metadata={"format_version": str(FORMAT_VERSION)})
        replace_file(tmp, tensor_file)
    finally:
        tmp.unlink(missing_ok=True)
    document = {
        "format_version": FORMAT_VERSION,
        "step": step,
        "tensors_file": f"{stem}.safetensors",
        "optimizer": opt_meta,
        "scaler": scaler.state_dict() if scaler is not None and scaler.is_enabled() else None,
        "rng": rng_meta,
        **meta,
    }
    # Last, and naming its tensor file: a checkpoint exists exactly when its JSON does.
    write_text_atomically(folder / f"{stem}.json", json.dumps(document, indent=1))
    if keep > 0:
        for old in list_checkpoints(folder)[:-keep]:
            old.unlink(missing_ok=True)
            old.with_suffix(".safetensors").unlink(missing_ok=True)
    return folder / f"{stem}.json"


def list_checkpoints(folder: str | Path) -> list[Path]:
    """Complete checkpoints (JSON present) in ``folder``, oldest first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def latest_checkpoint(folder: str | Path) -> Path | None:
    """The newest complete checkpoint in ``folder``, or ``None``."""
    found = list_checkpoints(folder)
    return found[-1] if found else None


def find_resume_checkpoint(resume: str, out: str | Path) -> Path | None:
    """The checkpoint ``--resume`` names: "latest" in ``out/checkpoints``, a folder or a JSON."""
    where = Path(out) / "checkpoints" if resume == "latest" else Path(resume)
    path = latest_checkpoint(where) if where.is_dir() else where
    return path if path is not None and path.is_file() else None


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint's JSON and tensors (on the CPU).

    Args:
        path: the ``step-NNNNNN.json`` file, or a folder (its newest checkpoint).

    Raises:
        CheckpointError: nothing found, the tensor file is missing, or the format is unknown.
    """
    path = Path(path)
    if path.is_dir():
        newest = latest_checkpoint(path)
        if newest is None:
            raise CheckpointError(f"{path}: no checkpoint in this folder")
        path = newest
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: cannot read checkpoint: {exc}") from exc
    if meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{path}: unknown format_version {meta.get('format_version')!r}")
    tensor_path = path.with_name(meta["tensors_file"])
    if not tensor_path.is_file():
        raise CheckpointError(f"{path}: tensor file {tensor_path.name} is missing")
    return Checkpoint(meta, load_file(str(tensor_path)), path)


def restore_training_state(
    ckpt: Checkpoint,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    scaler: torch.amp.GradScaler | None = None,
    rng: bool = True,
) -> None:
    """Load model (with targets), optimizer, scaler and RNG states from ``ckpt`` in place."""
    model_state = {k[6:]: v for k, v in ckpt.tensors.items() if k.startswith("model/")}
    unwrap(model).load_state_dict(model_state)
    if optimizer is not None:
        optimizer.load_state_dict(unflatten_optimizer(ckpt.meta["optimizer"], ckpt.tensors))
    if scaler is not None and ckpt.meta.get("scaler"):
        scaler.load_state_dict(ckpt.meta["scaler"])
    if rng:
        restore_rng(ckpt.meta["rng"], ckpt.tensors)
