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

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.bundle_info import WEIGHTS_FILE, BundleError, BundleInfo, read_bundle_info, stored_cfg
from engine.bundle_weights import read_safetensors, weights_hash
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


def _packaged_text_weights(source: str) -> dict[str, np.ndarray]:
    """A packaged text tower's weights under the names the whole model gives them."""
    folder = resolve_text_source(source)
    arrays = read_safetensors(folder / WEIGHTS_FILE, framework="np")
    out = {}
    for name, value in arrays.items():
        bare = name.removeprefix("bert.")
        if bare not in _NOT_IN_STATE:
            out[TEXT_TOWER_PREFIX + bare] = value
    return out


def read_audio_weights(folder: str | os.PathLike[str]) -> AudioWeights:
    """Read a bundle's audio weights and check its model id over all of its weights.

    Raises:
        BundleError: ``config.json`` is missing or invalid (as ``read_bundle_info``).
        AudioCheckError: anything else: the weights could not be read or checked here; the
            whole model's loader tells what is wrong, if anything is.
    """
    info = read_bundle_info(folder)
    try:
        state = read_safetensors(Path(info.folder) / WEIGHTS_FILE, framework="np")
        for prefix, source in info.external_weights.items():
            if prefix != TEXT_PREFIX:
                raise AudioCheckError(f"weights {prefix}* stored by reference to {source}")
            state.update(_packaged_text_weights(source))
        actual = weights_hash(state, stored_cfg(info.cfg))
    except (BundleError, MissingModelError, TypeError, OSError) as exc:
        raise AudioCheckError(str(exc)) from exc
    if actual != info.model_id:
        raise AudioCheckError(f"the weights' id {actual} is not the bundle's {info.model_id}")
    audio = {k: v for k, v in state.items() if k.startswith(AUDIO_PREFIXES)}
    return AudioWeights(info, audio)
