"""Files FFmpeg will not open are tried with libsndfile; what neither reads still fails plainly."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
import soundfile

from engine.audio import AudioDecodeError, load_audio, load_random_window, read_windows
from engine.config import AudioFrontendCfg

SR = 16_000
FRONTEND = AudioFrontendCfg(clip_seconds=2.0, n_windows=3)


@pytest.fixture
def refused_by_ffmpeg(tmp_path: Path) -> Path:
    """A 6 s stereo file in a container FFmpeg refuses ("Invalid data"), libsndfile reads."""
    t = np.arange(6 * 22_050) / 22_050
    left = 0.5 * np.sin(2 * np.pi * 440 * t)
    path = tmp_path / "tone.mat"
    soundfile.write(path, np.stack([left, left], axis=1), 22_050, format="MAT5",
                    subtype="FLOAT")
    with pytest.raises(av.error.InvalidDataError):
        av.open(str(path))
    return path


def test_a_file_ffmpeg_refuses_decodes_with_libsndfile(refused_by_ffmpeg: Path) -> None:
    samples = load_audio(refused_by_ffmpeg, SR)
    assert samples.dtype == np.float32 and samples.size == 6 * SR
    assert float(np.max(np.abs(samples))) == pytest.approx(0.5, abs=0.01)
    spectrum = np.abs(np.fft.rfft(samples[:SR]))
    assert np.argmax(spectrum) == 440  # 1 Hz bins over one second


def test_windows_of_a_refused_file_are_evenly_spaced(refused_by_ffmpeg: Path) -> None:
    windows, starts = read_windows(refused_by_ffmpeg, FRONTEND)
    assert windows.shape == (3, 2 * SR)
    assert starts.tolist() == pytest.approx([0.0, 2.0, 4.0])
    again, _ = read_windows(refused_by_ffmpeg, FRONTEND)
    assert np.array_equal(windows, again)
    one = load_random_window(refused_by_ffmpeg, FRONTEND, np.random.default_rng(3))
    assert one.shape == (2 * SR,)


def test_what_neither_decoder_reads_keeps_ffmpegs_reason(tmp_path: Path) -> None:
    path = tmp_path / "noise.ogg"
    path.write_bytes(b"OggS but not really" * 50)
    with pytest.raises(AudioDecodeError, match=r"noise\.ogg: not a readable audio file"):
        read_windows(path, FRONTEND)
    with pytest.raises(AudioDecodeError, match="file not found"):
        load_audio(tmp_path / "missing.ogg", SR)
