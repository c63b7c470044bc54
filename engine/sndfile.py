"""The second decoder: libsndfile (through ``soundfile``) for files FFmpeg refuses to open.

FFmpeg rejects some valid files outright: three of the seven Ogg Vorbis tracks of Debian's
hyperrogue-music (libVorbis 1.3.1 encodes, "Invalid data found when processing input"),
which libsndfile's Vorbis decoder plays. libsndfile cannot read MP3 in older builds, nor
M4A or Opus-in-Ogg at all, so FFmpeg stays the first choice and this is tried only when it
failed to open a file that exists.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from engine.audio import AudioDecodeError

logger = logging.getLogger(__name__)

# Reasons from engine.audio._open that a second decoder cannot change.
_FINAL_REASONS = ("file not found", "is a folder")


def _can_try(refused: AudioDecodeError) -> bool:
    """Whether FFmpeg's refusal leaves the file worth a second decoder."""
    return not refused.reason.startswith(_FINAL_REASONS)


def decode_or_raise(path: Path, refused: AudioDecodeError) -> tuple[np.ndarray, int]:
    """The whole file as mono float32 and its sample rate, or ``refused`` raised again."""
    if not _can_try(refused):
        raise refused
    import soundfile  # imported here: most libraries never need it

    try:
        samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, OSError, ValueError):
        raise refused from None
    if samples.size == 0:
        raise refused
    logger.info("%s: FFmpeg refused it, libsndfile decoded it", path)
    return samples.mean(axis=1, dtype=np.float32), int(rate)
