"""The fixture generator itself: every format decodes to the tone it was asked for."""

from __future__ import annotations

from pathlib import Path

import av
import mutagen
import numpy as np


def _decode_mono(path: Path) -> tuple[np.ndarray, int]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono")
        chunks = [
            out.to_ndarray()[0]
            for frame in container.decode(stream)
            for out in resampler.resample(frame)
        ]
        return np.concatenate(chunks), stream.rate


def test_every_format_decodes_to_its_tone(tagged_track: Path) -> None:
    samples, rate = _decode_mono(tagged_track)
    assert abs(len(samples) / rate - 1.0) < 0.1
    spectrum = np.abs(np.fft.rfft(samples[: rate // 2]))
    peak_hz = np.argmax(spectrum) * rate / (rate // 2)
    assert abs(peak_hz - 440.0) < 4.0


def test_every_format_carries_its_tags(tagged_track: Path) -> None:
    audio = mutagen.File(tagged_track)
    assert audio is not None
    text = str(audio.tags)
    assert "Test Tone" in text
    assert "The Testers" in text
