"""The SLAP engine: audio front-end, towers, heads, losses, training and inference.

This package never imports Qt or ``slapdesk``: training servers use it alone.

The public API is importable from here (``from engine import Embedder, build_model``); the
names are resolved lazily so that ``import engine.config`` stays cheap (no torch import).
"""

from __future__ import annotations

import importlib
from typing import Any

# Public name -> module that defines it.
_EXPORTS = {
    "AudioEncoderCfg": "engine.config",
    "AudioFrontendCfg": "engine.config",
    "HeadCfg": "engine.config",
    "SlapCfg": "engine.config",
    "TextEncoderCfg": "engine.config",
    "ClapModel": "engine.model",
    "SlapModel": "engine.model",
    "build_model": "engine.model",
    "clap_loss": "engine.loss",
    "slap_loss": "engine.loss",
    "ema_tau": "engine.schedule",
    "warmup_cosine_lr": "engine.schedule",
    "resolve_device": "engine.device",
    "Bundle": "engine.bundle",
    "BundleError": "engine.bundle",
    "BundleInfo": "engine.bundle",
    "load_bundle": "engine.bundle",
    "read_bundle_info": "engine.bundle",
    "read_state_dict": "engine.towers.init_from",
    "save_bundle": "engine.bundle",
    "AudioEmbeddings": "engine.inference",
    "Embedder": "engine.inference",
}

__all__ = sorted(_EXPORTS)  # resolved on first use by __getattr__


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
