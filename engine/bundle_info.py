"""A model bundle's description (``config.json``), read without torch.

Everything that only needs the configuration (listing models, picking the vectors of a model,
the text-query path) reads it here, so that it pays for neither torch nor the weights.
:mod:`engine.bundle` loads and saves the weights.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.config import SlapCfg, TextEncoderCfg

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "model_card.md"
TEXT_DIR = "text_encoder"
# cfg.text.source of a bundle whose tokenizer/config files live in its own text_encoder/.
BUNDLED_TEXT_SOURCE = "bundle:text_encoder"


class BundleError(Exception):
    """A model bundle or weights file is missing, damaged or does not fit its configuration."""


@dataclass(frozen=True)
class BundleInfo:
    """What ``config.json`` says about a bundle (cheap: no weights are read)."""

    folder: Path  # the bundle folder
    cfg: SlapCfg  # the model configuration, text source resolved to a usable path
    model_id: str  # stable hash of configuration + online weights
    format_version: int  # bundle format
    engine_version: str  # engine that wrote it
    created: str  # UTC ISO 8601 time of writing
    metrics: dict[str, Any]  # measured figures (retrieval etc.), free form
    text_encoder: str  # "packaged:minilm", "random_init" or "text_encoder/" (bundled files)
    # weight-name prefix -> packaged model whose weights it uses (not stored in the file)
    external_weights: dict[str, str] = field(default_factory=dict)


def read_bundle_info(folder: str | os.PathLike[str]) -> BundleInfo:
    """Read and check a bundle's ``config.json`` without loading weights.

    Raises:
        BundleError: If the folder or ``config.json`` is missing, unreadable, of an unknown
            format version, or describes no valid model.
    """
    folder = Path(folder)
    path = folder / CONFIG_FILE
    if not folder.is_dir():
        raise BundleError(f"model bundle folder {folder} does not exist")
    if not path.is_file():
        raise BundleError(f"{CONFIG_FILE} is missing from {folder}: not a model bundle")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(config, dict):
        raise BundleError(f"{path} does not hold a JSON object")
    version = config.get("format_version")
    if version != FORMAT_VERSION:
        raise BundleError(
            f"{path}: bundle format_version {version!r} is not supported "
            f"(this engine reads version {FORMAT_VERSION})"
        )
    try:
        cfg = SlapCfg.from_dict(config["model"])
        model_id = str(config["model_id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleError(f"{path}: bad or missing model configuration: {exc!r}") from exc
    # The weights come from model.safetensors, never from an initial checkpoint.
    cfg = dataclasses.replace(cfg, audio=dataclasses.replace(cfg.audio, init_from=None))
    _check_references(folder, cfg, path)
    if cfg.text.source == BUNDLED_TEXT_SOURCE and cfg.text.random_init is None:
        text_dir = folder / TEXT_DIR
        if not text_dir.is_dir():
            raise BundleError(f"{TEXT_DIR}/ is missing from {folder} (config.json needs it)")
        cfg = dataclasses.replace(cfg, text=dataclasses.replace(cfg.text, source=str(text_dir)))
    return BundleInfo(
        folder=folder,
        cfg=cfg,
        model_id=model_id,
        format_version=version,
        engine_version=str(config.get("engine_version", "")),
        created=str(config.get("created", "")),
        metrics=dict(config.get("metrics") or {}),
        text_encoder=str(config.get("text_encoder", cfg.text.source)),
        external_weights=_external_weights(config),
    )


PACKAGED_PREFIX = "packaged:"


def _inside(folder: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def local_weights_path(folder: Path, spec: str) -> Path:
    """The file a bundle's ``audio.params.weights`` names: relative to the bundle folder."""
    return (folder / Path(spec).expanduser()).resolve()


def _check_references(folder: Path, cfg: SlapCfg, path: Path) -> None:
    """A bundle may read only its own files and packaged resources, never any other file.

    Raises:
        BundleError: the text encoder's source or the audio tower's ``weights`` lies outside
            the bundle folder (symlinks resolved).
    """
    text = cfg.text.source
    if cfg.text.random_init is None and not (
        text.startswith(PACKAGED_PREFIX) or text == BUNDLED_TEXT_SOURCE
    ):
        raise BundleError(
            f"{path}: the text encoder source {text!r} is not allowed: a bundle uses a packaged "
            f"model or its own {TEXT_DIR}/ folder"
        )
    if text == BUNDLED_TEXT_SOURCE and not _inside(folder, folder / TEXT_DIR):
        raise BundleError(f"{path}: {TEXT_DIR}/ points outside the bundle folder")
    weights = cfg.audio.params.get("weights")
    if (
        isinstance(weights, str)
        and not weights.startswith(PACKAGED_PREFIX)
        and not _inside(folder, local_weights_path(folder, weights))
    ):
        raise BundleError(
            f"{path}: the audio weights {weights!r} lie outside the bundle folder; a bundle "
            "may only name its own files or packaged resources"
        )


def _external_weights(config: dict[str, Any]) -> dict[str, str]:
    external = config.get("external_weights") or {}
    return {str(k): str(v) for k, v in external.items()} if isinstance(external, dict) else {}


def text_reference(text: TextEncoderCfg) -> str:
    """How the bundle finds its text tower: packaged, random, or its own copied files."""
    if text.random_init is not None:
        return "random_init"
    if text.source.startswith("packaged:") or text.source == BUNDLED_TEXT_SOURCE:
        return text.source if text.source != BUNDLED_TEXT_SOURCE else f"{TEXT_DIR}/"
    return f"{TEXT_DIR}/"


def stored_cfg(cfg: SlapCfg) -> SlapCfg:
    """The configuration as a bundle stores it: self-contained, no paths outside the bundle.

    A text tower read from a local folder becomes ``"bundle:text_encoder"`` (its files are
    copied into the bundle) and ``audio.init_from`` is dropped (model.safetensors holds the
    trained weights; the initial checkpoint need not exist where the bundle is used).
    """
    text = cfg.text
    if text_reference(text) == f"{TEXT_DIR}/":
        text = dataclasses.replace(text, source=BUNDLED_TEXT_SOURCE)
    audio = dataclasses.replace(cfg.audio, init_from=None)
    return dataclasses.replace(cfg, text=text, audio=audio)


def buildable_cfg(info: BundleInfo) -> SlapCfg:
    """The configuration to build from: audio weights named in the bundle read from it.

    ``read_bundle_info`` has checked that such a file lies inside the bundle folder; the
    path is made absolute so it does not depend on the working directory.
    """
    weights = info.cfg.audio.params.get("weights")
    if not isinstance(weights, str) or weights.startswith(PACKAGED_PREFIX):
        return info.cfg
    params = {**info.cfg.audio.params, "weights": str(local_weights_path(info.folder, weights))}
    return dataclasses.replace(info.cfg, audio=dataclasses.replace(info.cfg.audio, params=params))
