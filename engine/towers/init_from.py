"""Initialise an audio tower from someone else's weights file (e.g. LAION-CLAP's), with a report.

:func:`read_state_dict` is the engine's one reader of weights it did not write itself (its own
bundles and training checkpoints have formats of their own). Only safetensors files and pickles
that load with ``torch.load(weights_only=True)`` are read: a pickle that needs arbitrary code is
refused, never executed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

logger = logging.getLogger(__name__)

# Prefixes under which audio towers live in known checkpoints, tried in this order:
# LAION-CLAP ("audio_branch."), then the usual wrappers of our own and others' models.
AUDIO_PREFIXES = ("audio_branch.", "audio_encoder.", "audio.encoder.", "audio.", "encoder.", "")
# Wrappers added by DistributedDataParallel / torch.compile around whole models.
_WRAPPER_PREFIXES = ("module.", "_orig_mod.")


class InitError(Exception):
    """A checkpoint could not be read, or does not fit the tower (the message says why)."""


@dataclass
class KeyReport:
    """What happened to each parameter when a tower was initialised from a file."""

    prefix: str = ""  # prefix stripped from the checkpoint's keys
    loaded: list[str] = field(default_factory=list)  # tower keys set from the file
    missing: list[str] = field(default_factory=list)  # tower keys the file lacks
    unexpected: list[str] = field(default_factory=list)  # file keys (under prefix) not in the tower
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(
        default_factory=list
    )  # (key, file shape, tower shape)
    ignored: list[str] = field(default_factory=list)  # file keys the tower knowingly skips

    @property
    def ok(self) -> bool:
        """True when every tower key was loaded and nothing else was found."""
        return bool(self.loaded) and not (self.missing or self.unexpected or self.mismatched)

    def summary(self) -> str:
        """One line: counts and the first few problem keys."""
        parts = [f"prefix {self.prefix!r}", f"{len(self.loaded)} loaded"]
        for name in ("missing", "unexpected", "mismatched", "ignored"):
            keys = getattr(self, name)
            if keys:
                shown = ", ".join(str(k) for k in keys[:5]) + (", ..." if len(keys) > 5 else "")
                parts.append(f"{len(keys)} {name} ({shown})")
        return "; ".join(parts)


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read tensors from a safetensors file or a weights-only pickle.

    Args:
        path: ``.safetensors``, or ``.pt`` / ``.ckpt`` / ``.bin`` loadable with
            ``torch.load(weights_only=True)``.

    Returns:
        A flat name -> tensor mapping (a nested ``state_dict`` / ``model`` entry is unwrapped).

    Raises:
        InitError: missing file, unreadable file, or a pickle that is not weights-only.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise InitError(f"{path}: checkpoint file not found")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            state: Any = load_file(str(path))
        except Exception as exc:  # safetensors raises several error types for damaged files
            raise InitError(f"{path}: not a valid safetensors file ({exc})") from exc
    else:
        try:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
        except Exception as exc:  # UnpicklingError, RuntimeError, EOFError, ...
            raise InitError(
                f"{path}: refused: it does not load with torch.load(weights_only=True), and "
                f"unpickling arbitrary objects could run code ({type(exc).__name__}). Convert it "
                "to safetensors in a trusted environment first."
            ) from exc
    for key in ("state_dict", "model", "module"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict):
        raise InitError(f"{path}: holds {type(state).__name__}, not a state dict")
    tensors = {k: v for k, v in state.items() if isinstance(k, str) and torch.is_tensor(v)}
    if not tensors:
        raise InitError(f"{path}: contains no tensors")
    return {_strip_wrappers(k): v for k, v in tensors.items()}


def _strip_wrappers(key: str) -> str:
    changed = True
    while changed:
        changed = False
        for wrapper in _WRAPPER_PREFIXES:
            if key.startswith(wrapper):
                key, changed = key[len(wrapper) :], True
    return key


def _best_prefix(state: dict[str, torch.Tensor], own: set[str], prefix: str | None) -> str:
    if prefix is not None:
        return prefix
    scores = {
        p: sum(1 for k in state if k.startswith(p) and k[len(p) :] in own) for p in AUDIO_PREFIXES
    }
    return max(AUDIO_PREFIXES, key=lambda p: (scores[p], -AUDIO_PREFIXES.index(p)))


def init_audio_encoder_from(
    module: nn.Module, path: str | Path, *, strict: bool = False, prefix: str | None = None
) -> KeyReport:
    """Copy matching tensors from a checkpoint into ``module`` and report every key.

    Keys are matched after stripping DDP/compile wrappers and the audio prefix (found
    automatically: LAION-CLAP keeps its HTS-AT under ``audio_branch.``). Front-end tensors
    a tower lists in ``init_ignore_prefixes`` (LAION's STFT and mel weights) are ignored.

    Args:
        module: the tower to initialise (changed in place).
        path: safetensors file or weights-only pickle.
        strict: raise :class:`InitError` unless every key matched (``report.ok``).
        prefix: the prefix to strip; None finds it.

    Returns:
        The :class:`KeyReport`.

    Raises:
        InitError: unreadable file, or ``strict`` and the keys do not match.
    """
    state = read_state_dict(path)
    own = module.state_dict()
    chosen = _best_prefix(state, set(own), prefix)
    ignore = tuple(getattr(module, "init_ignore_prefixes", ()))
    report = KeyReport(prefix=chosen)
    to_load: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if not key.startswith(chosen):
            continue
        name = key[len(chosen) :]
        if name.startswith(ignore):
            report.ignored.append(name)
        elif name not in own:
            report.unexpected.append(name)
        elif tuple(value.shape) != tuple(own[name].shape):
            report.mismatched.append((name, tuple(value.shape), tuple(own[name].shape)))
        else:
            to_load[name] = value
    report.loaded = sorted(to_load)
    report.missing = sorted(set(own) - set(to_load) - {m[0] for m in report.mismatched})
    if strict and not report.ok:
        raise InitError(f"{path} does not fit {type(module).__name__}: {report.summary()}")
    module.load_state_dict(to_load, strict=False)
    return report
