"""Model bundles: a folder with everything needed to embed, and nothing that needs unpickling.

Layout::

    config.json        format_version, the SlapCfg ("model"), engine version, model_id,
                       created (UTC ISO 8601), metrics, and where the text encoder comes from
    model.safetensors  online weights only (towers, projectors, predictors; no EMA targets)
    text_encoder/      only for a text tower read from a local folder: its config + tokenizer
    model_card.md      data, recipe and measured figures, for people

:func:`save_bundle` writes a temporary folder and swaps it in with ``os.replace``;
:func:`load_bundle` checks every file and every tensor shape and raises :class:`BundleError`
naming the file and the problem.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors import SafetensorError
from safetensors.torch import save_file

from engine.atomic_files import fsync_dir, fsync_tree

# Re-exported: engine.bundle stays the one place to import the bundle API from.
from engine.bundle_info import (
    BUNDLED_TEXT_SOURCE,
    CARD_FILE,
    CONFIG_FILE,
    FORMAT_VERSION,
    TEXT_DIR,
    WEIGHTS_FILE,
    BundleError,
    BundleInfo,
    buildable_cfg,
    read_bundle_info,
    stored_cfg,
    text_reference,
)
from engine.bundle_weights import read_safetensors, split_shared, weights_hash
from engine.config import SlapCfg, TextEncoderCfg
from engine.device import resolve_device

if TYPE_CHECKING:
    from engine.model import ClapModel, SlapModel
    from engine.towers.text import TextEncoder

log = logging.getLogger(__name__)

# Files of a Hugging Face folder that describe the model and tokenizer (weights come from
# model.safetensors, so the folder's own weight files are not copied).
_TEXT_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".onnx")


@dataclass
class Bundle:
    """A loaded bundle: the model (eval mode, on its device) and its description."""

    model: SlapModel | ClapModel
    info: BundleInfo

    @property
    def model_id(self) -> str:
        """Stable hash of configuration + online weights."""
        return self.info.model_id

    @property
    def cfg(self) -> SlapCfg:
        """The model configuration."""
        return self.info.cfg


def engine_version() -> str:
    """Version of the installed distribution that carries the engine."""
    try:
        return metadata.version("slapdesk")
    except metadata.PackageNotFoundError:
        return "0+unknown"


# ---------------------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------------------
def _external_towers(model: SlapModel | ClapModel, cfg: SlapCfg) -> dict[str, str]:
    """Weight-name prefixes that equal a packaged model's weights exactly: prefix -> source."""
    from engine.towers import build_text_encoder

    if not cfg.text.source.startswith("packaged:") or cfg.text.random_init is not None:
        return {}
    packaged = build_text_encoder(cfg.text).state_dict()
    ours = model.text_encoder.state_dict()
    if packaged.keys() != ours.keys() or not all(
        torch.equal(packaged[k].cpu(), ours[k].cpu()) for k in packaged
    ):
        return {}  # fine-tuned text tower: its weights are stored
    return {"text_encoder.": cfg.text.source}


def model_id_of(model: SlapModel | ClapModel) -> str:
    """The id :func:`save_bundle` gives ``model``: hash of its stored config + online weights."""
    return weights_hash(model.online_state_dict(), stored_cfg(model.cfg))


def _copy_text_files(source: Path, dest: Path) -> None:
    """Copy a Hugging Face folder's config and tokenizer files (not its weights)."""
    if not source.is_dir():
        raise BundleError(f"text encoder folder {source} does not exist")
    for item in source.rglob("*"):
        if item.is_file() and not item.name.endswith(_TEXT_WEIGHT_SUFFIXES):
            target = dest / item.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(item, target)


def _swap_in(tmp: Path, folder: Path) -> None:
    """Replace ``folder`` by ``tmp`` (os.replace cannot replace a non-empty folder directly)."""
    old = None
    if folder.exists():
        if not (folder / CONFIG_FILE).is_file() and any(folder.iterdir()):
            raise BundleError(f"{folder} exists and is not a model bundle; not overwriting it")
        old = folder.with_name(f".{folder.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(folder, old)
    os.replace(tmp, folder)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    fsync_dir(folder.parent)


def _config_json(
    cfg: SlapCfg, model_id: str, metrics: dict[str, Any] | None, text_ref: str,
    external: dict[str, str],
) -> str:
    """The text of a bundle's ``config.json``."""
    config = {
        "format_version": FORMAT_VERSION,
        "model": cfg.to_dict(),
        "engine_version": engine_version(),
        "model_id": model_id,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "metrics": dict(metrics or {}),
        "text_encoder": text_ref,
        "external_weights": external,
    }
    return json.dumps(config, indent=2) + "\n"


def save_bundle(
    model: SlapModel | ClapModel,
    folder: str | os.PathLike[str],
    card_text: str,
    metrics: dict[str, Any] | None = None,
    *,
    reference_packaged: bool = True,
) -> str:
    """Write ``model`` as a bundle folder, atomically (temp folder + ``os.replace``).

    Args:
        model: A SLAP or CLAP model (unwrapped from DDP / torch.compile); its targets are
            not stored.
        folder: The bundle folder; an existing bundle there is replaced as a whole.
        card_text: Markdown for ``model_card.md`` (data, recipe, measured figures).
        metrics: Measured figures to record in ``config.json``.
        reference_packaged: A text tower whose weights are exactly those of the packaged
            model it names (a frozen tower) is stored as that reference, not as 90 MB of
            copies; the model id still covers them, so a different package is detected.

    Returns:
        The bundle's model id (stable hash of configuration + weights).

    Raises:
        BundleError: If ``folder`` holds something that is not a bundle, or the text
            encoder's folder is missing.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Unwrap DistributedDataParallel (.module) and torch.compile (._orig_mod).
    for attr in ("module", "_orig_mod"):
        model = getattr(model, attr, model)
    cfg: SlapCfg = model.cfg
    state = model.online_state_dict()
    text_ref = text_reference(cfg.text)
    cfg_to_store = stored_cfg(cfg)
    model_id = weights_hash(state, cfg_to_store)
    external = _external_towers(model, cfg) if reference_packaged else {}
    for prefix in external:
        state = {k: v for k, v in state.items() if not k.startswith(prefix)}
    tmp = folder.with_name(f".{folder.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.mkdir()
    try:
        kept, aliases = split_shared(state)
        save_file(kept, str(tmp / WEIGHTS_FILE), metadata={"aliases": json.dumps(aliases)})
        if text_ref == f"{TEXT_DIR}/":
            _copy_text_files(_resolve_text_source(cfg.text.source, folder), tmp / TEXT_DIR)
        config = _config_json(cfg_to_store, model_id, metrics, text_ref, external)
        (tmp / CONFIG_FILE).write_text(config, encoding="utf-8")
        (tmp / CARD_FILE).write_text(card_text, encoding="utf-8")
        fsync_tree(tmp)
        _swap_in(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("saved model bundle %s (model id %s)", folder, model_id)
    return model_id


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------
def _resolve_text_source(source: str, folder: Path) -> Path:
    if source == BUNDLED_TEXT_SOURCE:
        return folder / TEXT_DIR
    return Path(source).expanduser()


def _text_skeleton(text_cfg: TextEncoderCfg) -> TextEncoder | None:
    """The text tower's architecture and tokenizer, without reading pretrained weights.

    A bundle's model.safetensors holds every text weight, so the packaged or bundled model's
    own weight file need not be read (or even exist). None for a random-init test tower.
    """
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    from engine.towers import TextEncoder
    from engine.towers.text import resolve_text_source

    if text_cfg.random_init is not None:
        return None
    folder = resolve_text_source(text_cfg.source)
    config = AutoConfig.from_pretrained(str(folder), local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    model = AutoModel.from_config(config)
    return TextEncoder(model, tokenizer, text_cfg.pooling, text_cfg.max_length, text_cfg.source)


def _check_weights(
    expected: dict[str, torch.Tensor], state: dict[str, torch.Tensor], path: Path
) -> None:
    missing = sorted(expected.keys() - state.keys())
    unexpected = sorted(state.keys() - expected.keys())
    wrong = [
        f"{k}: file {tuple(state[k].shape)}, config {tuple(expected[k].shape)}"
        for k in sorted(expected.keys() & state.keys())
        if state[k].shape != expected[k].shape
    ]
    problems = []
    if missing:
        problems.append(f"{len(missing)} tensors missing (e.g. {', '.join(missing[:3])})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected tensors (e.g. {', '.join(unexpected[:3])})")
    if wrong:
        problems.append(f"{len(wrong)} shapes differ ({'; '.join(wrong[:3])})")
    if problems:
        raise BundleError(f"{path} does not fit config.json: " + "; ".join(problems))


def load_bundle(
    folder: str | os.PathLike[str],
    device: str | torch.device | None = None,
    *,
    with_target: bool = True,
) -> Bundle:
    """Load and validate a bundle.

    Args:
        folder: The bundle folder.
        device: Where to put the model; None picks CUDA, then MPS, else CPU.
        with_target: SLAP only: build EMA targets (equal to the online weights) for further
            training; inference passes False and saves their memory.

    Returns:
        The :class:`Bundle`: model in eval mode (targets, for SLAP, equal to the online
        weights) and its info.

    Raises:
        BundleError: For a missing, damaged or mismatching file, naming it and the problem.
    """
    from engine.model import build_model
    from engine.towers import MissingModelError

    info = read_bundle_info(folder)
    weights_path = info.folder / WEIGHTS_FILE
    state = read_safetensors(weights_path)
    external = info.external_weights
    try:
        # A tower stored by reference is built with the packaged weights; others as skeletons.
        text = None if "text_encoder." in external else _text_skeleton(info.cfg.text)
        model = build_model(buildable_cfg(info), with_target=with_target, text_encoder=text)
    except (ValueError, KeyError, TypeError, OSError, MissingModelError, SafetensorError) as exc:
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise BundleError(f"{info.folder / CONFIG_FILE}: cannot build the model: {detail}") from exc
    model.cfg = info.cfg  # the configuration as stored: the model id is computed from it
    expected = model.online_state_dict()
    from_package = {k: v for k, v in expected.items() if k.startswith(tuple(external))}
    _check_weights({k: v for k, v in expected.items() if k not in from_package}, state,
                   weights_path)
    model.load_online_state_dict({**from_package, **state})
    actual_id = model_id_of(model)
    if actual_id != info.model_id:
        raise BundleError(
            f"{weights_path} does not match the model_id in config.json "
            f"({actual_id} != {info.model_id}): the file was changed or damaged"
            + (
                f", or the packaged model it refers to ({', '.join(external.values())}) is "
                "not the version it was trained with"
                if external
                else ""
            )
        )
    model.eval()
    model.to(resolve_device(device))
    return Bundle(model=model, info=info)
