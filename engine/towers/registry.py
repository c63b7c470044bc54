"""The audio tower registry: name -> factory(frontend, **params) -> nn.Module with ``out_dim``."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Callable
from typing import Any, TypeVar

from torch import nn

from engine.config import AudioEncoderCfg, AudioFrontendCfg

logger = logging.getLogger(__name__)

AudioFactory = Callable[..., nn.Module]
F = TypeVar("F", bound=AudioFactory)

_REGISTRY: dict[str, AudioFactory] = {}
# Per tower: the parameters that name its starting weights, and what each defaults to.
_WEIGHT_PARAMS: dict[str, dict[str, str | None]] = {}
# A tower that says nothing: a "weights" parameter, random when not given.
_PLAIN_WEIGHTS: dict[str, str | None] = {"weights": None}
# Modules of this package that hold no towers (everything else is imported to register).
_NOT_TOWERS = {"registry", "init_from", "text"}
_discovered = False


def register_audio_encoder(
    name: str, weight_params: dict[str, str | None] | None = None
) -> Callable[[F], F]:
    """Register an audio tower factory (a class or function) under ``name``.

    The factory is called as ``factory(frontend: AudioFrontendCfg, **cfg.params)`` and must
    return an ``nn.Module`` whose ``forward(mel [B, n_mels, T]) -> [B, out_dim]`` and which
    has an ``out_dim: int`` attribute.

    Args:
        name: registry key used in model configs, e.g. ``"cnn-small"``.
        weight_params: the factory's parameters that name trained weights to start from,
            each with its default (None: random weights unless given); the default is
            ``{"weights": None}``. ``starts_pretrained`` reads it.

    Returns:
        A decorator that registers and returns the factory unchanged.
    """

    def decorator(factory: F) -> F:
        if name in _REGISTRY and _REGISTRY[name] is not factory:
            raise ValueError(f"audio encoder {name!r} is registered twice")
        _REGISTRY[name] = factory
        _WEIGHT_PARAMS[name] = dict(weight_params or _PLAIN_WEIGHTS)
        return factory

    return decorator


def _discover() -> None:
    """Import every tower module of this package once, so that each registers itself."""
    global _discovered
    if _discovered:
        return
    package = importlib.import_module("engine.towers")
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_") or info.name in _NOT_TOWERS:
            continue
        try:
            importlib.import_module(f"engine.towers.{info.name}")
        except ImportError as exc:
            # An optional tower whose dependency is missing must not break the others.
            logger.warning("audio tower module %s not available: %s", info.name, exc)
    _discovered = True


def audio_encoder_names() -> list[str]:
    """Names of every registered audio tower."""
    _discover()
    return sorted(_REGISTRY)


def starts_pretrained(cfg: AudioEncoderCfg) -> bool:
    """Whether the tower ``cfg`` describes starts from trained weights, without building it.

    True with ``init_from``, or when any of the tower's weight parameters (given, or by its
    default) names a file; an unknown tower counts as random.
    """
    _discover()
    if cfg.init_from:
        return True
    defaults = _WEIGHT_PARAMS.get(cfg.name, _PLAIN_WEIGHTS)
    return any(cfg.params.get(key, default) for key, default in defaults.items())


def build_audio_encoder(cfg: AudioEncoderCfg, frontend: AudioFrontendCfg) -> nn.Module:
    """Build the audio tower ``cfg.name`` (and initialise it from ``cfg.init_from`` if set).

    Args:
        cfg: registry name, constructor keyword arguments, optional checkpoint.
        frontend: the log-mel settings the tower will see (``n_mels`` above all).

    Returns:
        The tower; ``forward(mel [B, n_mels, T]) -> [B, out_dim]``.

    Raises:
        ValueError: unknown tower name.
        InitError: ``init_from`` is unreadable or does not fit the tower.
    """
    _discover()
    if cfg.name not in _REGISTRY:
        raise ValueError(
            f"unknown audio encoder {cfg.name!r}; known: {', '.join(sorted(_REGISTRY))}"
        )
    params: dict[str, Any] = dict(cfg.params)
    module = _REGISTRY[cfg.name](frontend, **params)
    if not isinstance(getattr(module, "out_dim", None), int):
        raise TypeError(f"audio encoder {cfg.name!r} has no integer out_dim")
    if cfg.init_from:
        from engine.towers.init_from import init_audio_encoder_from

        report = init_audio_encoder_from(module, cfg.init_from, strict=True)
        logger.info("initialised %s from %s: %s", cfg.name, cfg.init_from, report.summary())
    return module
