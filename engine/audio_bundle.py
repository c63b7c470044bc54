"""A bundle's audio weights, read and checked without torch or transformers.

Embedding audio needs the audio tower and its head only. :func:`read_audio_weights` reads
``model.safetensors`` into numpy and checks the bundle's model id over every weight, as
``engine.bundle.load_bundle`` does, without building the text tower: a text tower stored by
reference (the packaged MiniLM) is hashed straight from the package's own weight file. What
it cannot check this way (a tower it does not know how to read, weights numpy cannot hold, an
id that does not come out) raises :class:`AudioCheckError`, and the caller loads the whole
model, which checks it (and names a damaged file) as before.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError, safe_open

from engine.bundle_info import WEIGHTS_FILE, BundleError, BundleInfo, read_bundle_info, stored_cfg
from engine.bundle_weights import weights_hash
from engine.text_source import MissingModelError, resolve_text_source

# Names of the audio side's weights in a whole model's state dict.
AUDIO_PREFIXES = ("audio_encoder.", "audio_projector.", "audio_predictor.")
TEXT_PREFIX = "text_encoder."
# The text tower is a transformers model wrapped as ``text_encoder.model``.
TEXT_TOWER_PREFIX = "text_encoder.model."
# Buffers a BERT checkpoint may hold that transformers does not keep in its state dict.
_NOT_IN_STATE = ("embeddings.position_ids",)


class AudioCheckError(Exception):
    """The audio side cannot be read and checked on its own: load the whole model."""


@dataclass(frozen=True)
class AudioWeights:
    """A bundle's description and its audio side's weights, checked against its model id."""

    info: BundleInfo
    state: dict[str, np.ndarray]  # weights named AUDIO_PREFIXES..., as in the whole model


class _Weights(Mapping[str, np.ndarray]):
    """Weights of safetensors files, each read when the hash asks for it, then let go.

    Only the audio side's are kept (:attr:`kept`): the text tower's 90 MB never sit in memory
    together (the whole model's loader holds them all).
    """

    def __init__(self, stack: ExitStack) -> None:
        self._stack = stack
        self._where: dict[str, tuple[Any, str]] = {}
        self.kept: dict[str, np.ndarray] = {}

    def add(self, path: Path, rename: Callable[[str], str | None]) -> None:
        """Add a file's tensors (and aliases) under ``rename(stored name)``; None skips one."""
        if not path.is_file():
            raise BundleError(f"{path.name} is missing from {path.parent}")
        handle = self._stack.enter_context(safe_open(str(path), framework="np"))
        aliases = json.loads((handle.metadata() or {}).get("aliases", "{}"))
        stored = {name: name for name in handle.keys()}  # noqa: SIM118
        for name, source in {**stored, **aliases}.items():
            new = rename(name)
            if new is not None:
                self._where[new] = (handle, source)

    def __getitem__(self, name: str) -> np.ndarray:
        handle, stored = self._where[name]
        value = handle.get_tensor(stored)
        if name.startswith(AUDIO_PREFIXES):
            self.kept[name] = value
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)


def _text_name(name: str) -> str | None:
    """A packaged BERT weight's name in the whole model (None: not in its state dict)."""
    bare = name.removeprefix("bert.")
    return None if bare in _NOT_IN_STATE else TEXT_TOWER_PREFIX + bare


def read_audio_weights(folder: str | os.PathLike[str]) -> AudioWeights:
    """Read a bundle's audio weights and check its model id over all of its weights.

    Raises:
        BundleError: ``config.json`` is missing or invalid (as ``read_bundle_info``).
        AudioCheckError: anything else: the weights could not be read or checked here; the
            whole model's loader tells what is wrong, if anything is.
    """
    info = read_bundle_info(folder)
    try:
        with ExitStack() as stack:
            weights = _Weights(stack)
            weights.add(Path(info.folder) / WEIGHTS_FILE, lambda name: name)
            for prefix, source in info.external_weights.items():
                if prefix != TEXT_PREFIX:
                    raise AudioCheckError(f"weights {prefix}* stored by reference to {source}")
                weights.add(resolve_text_source(source) / WEIGHTS_FILE, _text_name)
            actual = weights_hash(weights, stored_cfg(info.cfg))
    except (BundleError, MissingModelError, SafetensorError, TypeError, ValueError, KeyError,
            OSError) as exc:
        raise AudioCheckError(str(exc) or type(exc).__name__) from exc
    if actual != info.model_id:
        raise AudioCheckError(f"the weights' id {actual} is not the bundle's {info.model_id}")
    return AudioWeights(info, weights.kept)
