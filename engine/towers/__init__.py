"""Audio and text towers, built by name from configuration (open_clip style).

Audio towers map log-mel ``[B, n_mels, T]`` to ``[B, out_dim]``; every tower module in
this package registers itself with :func:`register_audio_encoder` and is found by name.
Text towers are Hugging Face encoders loaded from local folders, never downloaded.
"""

from __future__ import annotations

from engine.towers.init_from import InitError, KeyReport, init_audio_encoder_from
from engine.towers.registry import (
    audio_encoder_names,
    build_audio_encoder,
    register_audio_encoder,
)
from engine.towers.text import MissingModelError, TextEncoder, build_text_encoder

__all__ = [
    "InitError",
    "KeyReport",
    "MissingModelError",
    "TextEncoder",
    "audio_encoder_names",
    "build_audio_encoder",
    "build_text_encoder",
    "init_audio_encoder_from",
    "register_audio_encoder",
]
