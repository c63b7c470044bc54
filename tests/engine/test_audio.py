"""Audio front-end: decoding every format, fixed windows, errors, log-mel, SpecAugment."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.audio import (
    AudioDecodeError,
    LogMel,
    SpecAugment,
    hz_to_mel,
    load_audio,
    load_random_window,
    load_windows,
    mel_filterbank,
    mel_to_hz,
    window_starts,
)
from engine.config import AudioFrontendCfg
from slapdesk.library.demo.audio_files import make_track, sine

SR = 16_000
SHORT = AudioFrontendCfg(clip_seconds=2.0, n_windows=3)


def _dominant_hz(samples: np.ndarray, sample_rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.argmax(spectrum) * sample_rate / samples.size)


def test_every_format_decodes_to_mono_at_the_model_rate(tagged_track: Path) -> None:
    audio = load_audio(tagged_track, SR)
    assert audio.dtype == np.float32 and audio.ndim == 1
    # One second of 440 Hz; AAC adds its priming samples (up to ~2048 at 44.1 kHz).
    assert SR - 10 <= audio.size <= SR + 800
    assert abs(_dominant_hz(audio[2000:14000], SR) - 440.0) < 3.0
    # 0.3 amplitude sine: RMS 0.212 (lossy codecs within a few percent).
    assert np.sqrt(np.mean(audio[2000:14000] ** 2)) == pytest.approx(0.212, rel=0.05)


def test_windows_are_deterministic_and_padded_for_a_half_second_file(tmp_path: Path) -> None:
    path = make_track(tmp_path / "short", "mp3", freq_hz=1000.0, seconds=0.5)
    first = load_windows(path, SHORT)
    second = load_windows(path, SHORT)
    assert first.shape == (3, SHORT.clip_samples) and first.dtype == np.float32
    assert np.array_equal(first, second)
    # The half second repeats to fill the window: no silent tail.
    assert np.sqrt(np.mean(first[0, -SR // 4 :] ** 2)) > 0.15


def test_long_file_windows_seek_to_evenly_spaced_positions(tmp_path: Path) -> None:
    # 80 s where the tone's frequency says which 10 s slice we are in (the seek path).
    freqs = [200.0 + 100.0 * i for i in range(8)]
    samples = np.concatenate([sine(f, 10.0, 44_100) for f in freqs])
    path = make_track(tmp_path / "long", "flac", samples=samples)
    cfg = AudioFrontendCfg(clip_seconds=4.0, n_windows=4)
    windows = load_windows(path, cfg)
    assert windows.shape == (4, cfg.clip_samples)
    assert np.array_equal(windows, load_windows(path, cfg))
    # Window centres at 10, 30, 50, 70 s -> starts 8, 28, 48, 68 s: check 1 s in each.
    assert window_starts(80.0, 4.0, 4) == [8.0, 28.0, 48.0, 68.0]
    for window, start in zip(windows, [8.0, 28.0, 48.0, 68.0], strict=True):
        expect = freqs[int(start // 10)]
        assert abs(_dominant_hz(window[: cfg.sample_rate], cfg.sample_rate) - expect) < 3.0
        expect_end = freqs[int((start + 3.5) // 10)]
        tail = window[-cfg.sample_rate // 2 :]
        assert abs(_dominant_hz(tail, cfg.sample_rate) - expect_end) < 5.0
    # Seeking reads the same samples a full decode does (FLAC is sample exact).
    full = load_audio(path, cfg.sample_rate)
    start = 28 * cfg.sample_rate
    expected = full[start + 100 : start + cfg.clip_samples - 100]
    assert np.abs(windows[1, 100:-100] - expected).max() < 1e-4


def test_random_window_uses_the_callers_generator(tmp_path: Path) -> None:
    path = make_track(tmp_path / "tone", "wav", seconds=3.0)
    a = load_random_window(path, AudioFrontendCfg(clip_seconds=1.0), np.random.default_rng(7))
    b = load_random_window(path, AudioFrontendCfg(clip_seconds=1.0), np.random.default_rng(7))
    assert a.shape == (SR,) and np.array_equal(a, b)


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "not a readable audio file"), (b"this is not audio at all" * 100, "not a readable")],
)
def test_corrupt_file_raises_naming_the_path(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "broken.mp3"
    path.write_bytes(content)
    with pytest.raises(AudioDecodeError) as info:
        load_windows(path, SHORT)
    assert str(path) in str(info.value) and reason in str(info.value)
    assert info.value.path == str(path)


def test_missing_and_truncated_files(tmp_path: Path) -> None:
    with pytest.raises(AudioDecodeError, match="file not found"):
        load_audio(tmp_path / "nope.flac", SR)
    path = make_track(tmp_path / "cut", "flac", seconds=2.0)
    path.write_bytes(path.read_bytes()[:200])  # header only, no audio frames
    with pytest.raises(AudioDecodeError, match=r"cut\.flac"):
        load_audio(path, SR)


# --------------------------------------------------------------------------- log-mel


def test_mel_scale_known_values() -> None:
    # Slaney: linear to 1 kHz (15 mel), then log steps of ln(6.4)/27.
    assert hz_to_mel(np.array([1000.0]))[0] == pytest.approx(15.0)
    assert hz_to_mel(np.array([440.0]))[0] == pytest.approx(6.6)
    assert hz_to_mel(np.array([2000.0]))[0] == pytest.approx(15 + math.log(2) * 27 / math.log(6.4))
    assert hz_to_mel(np.array([1000.0]), "htk")[0] == pytest.approx(999.9855, abs=1e-4)
    grid = np.array([0.0, 300.0, 999.0, 1000.0, 5000.0, 14000.0])
    for scale in ("slaney", "htk"):
        assert np.allclose(mel_to_hz(hz_to_mel(grid, scale), scale), grid)


def _reference_filterbank(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """Slaney filters written out point by point, independently of engine.audio."""

    def to_mel(f: float) -> float:
        return f * 3 / 200 if f < 1000 else 15 + 27 * math.log(f / 1000) / math.log(6.4)

    def to_hz(m: float) -> float:
        return m * 200 / 3 if m < 15 else 1000 * math.exp((m - 15) * math.log(6.4) / 27)

    lo, hi = to_mel(fmin), to_mel(fmax)
    edges = [to_hz(lo + (hi - lo) * i / (n_mels + 1)) for i in range(n_mels + 2)]
    out = np.zeros((n_mels, n_fft // 2 + 1))
    for m in range(n_mels):
        left, centre, right = edges[m], edges[m + 1], edges[m + 2]
        for k in range(n_fft // 2 + 1):
            f = k * sr / n_fft
            if left < f < right:
                w = (f - left) / (centre - left) if f <= centre else (right - f) / (right - centre)
                out[m, k] = w * 2 / (right - left)
    return out


def test_filterbank_matches_the_slaney_formula() -> None:
    cfg = AudioFrontendCfg(sample_rate=16_000, n_fft=512, n_mels=40, f_min=50.0, f_max=8000.0)
    ours = mel_filterbank(cfg)
    ref = _reference_filterbank(16_000, 512, 40, 50.0, 8000.0)
    assert ours.shape == (40, 257)
    assert np.abs(ours - ref).max() < 1e-9 * ref.max() + 1e-12
    # Slaney normalisation: every filter has unit area in Hz (up to the bin spacing).
    areas = ours.sum(axis=1) * 16_000 / 512
    assert np.allclose(areas[5:], 1.0, atol=0.05)
    assert np.allclose(areas[-10:], 1.0, atol=0.002)


def test_htk_without_norm_peaks_at_one() -> None:
    cfg = AudioFrontendCfg(n_fft=4096, mel_scale="htk", mel_norm=None, n_mels=16)
    weights = mel_filterbank(cfg)
    assert weights.max() <= 1.0 and np.all(weights.max(axis=1) > 0.9)


def test_logmel_of_a_1khz_tone_peaks_in_the_1khz_band() -> None:
    cfg = AudioFrontendCfg()
    mel = LogMel(cfg)(torch.from_numpy(sine(1000.0, 1.0, cfg.sample_rate)))
    assert mel.shape == (1, 64, cfg.sample_rate // cfg.hop_length + 1)
    band = int(mel[0, :, 10:-10].mean(dim=1).argmax())
    edges = mel_to_hz(
        np.linspace(hz_to_mel(np.array([50.0]))[0], hz_to_mel(np.array([8000.0]))[0], 66)
    )
    assert edges[band] < 1000.0 < edges[band + 2]
    # Silence stays finite: ln(0 + 1e-6).
    quiet = LogMel(cfg)(torch.zeros(1, 3200))
    assert torch.allclose(quiet, torch.full_like(quiet, math.log(1e-6)))


def test_logmel_power_and_log10_options() -> None:
    base = AudioFrontendCfg()
    tone = torch.from_numpy(sine(1000.0, 0.5, base.sample_rate))
    power = LogMel(base)(tone).exp()
    magnitude = LogMel(AudioFrontendCfg(power=1.0, log_offset=0.0))(tone).exp()
    musicnn = LogMel(AudioFrontendCfg(log="log10_1p", log_multiplier=10_000.0))(tone)
    assert torch.allclose(musicnn, torch.log10(1 + 10_000 * (power - 1e-6)), atol=1e-4)
    # The mel of |X| is not the square root of the mel of |X|^2, but the peak band agrees.
    assert int(power[0, :, 5].argmax()) == int(magnitude[0, :, 5].argmax())


def test_specaugment_masks_only_in_training() -> None:
    mel = torch.randn(3, 64, 200)
    aug = SpecAugment(freq_masks=2, freq_width=8, time_masks=2, time_width=20)
    aug.eval()
    assert torch.equal(aug(mel), mel)
    aug.train()
    torch.manual_seed(0)
    out = aug(mel)
    changed = out != mel
    assert changed.any()
    for b in range(3):
        fill = mel[b].mean()
        assert torch.allclose(out[b][changed[b]], fill.expand(int(changed[b].sum())))
        # At most 2 x 8 bands and 2 x 20 frames are masked.
        full_rows = changed[b].all(dim=1).sum()
        full_cols = changed[b].all(dim=0).sum()
        assert full_rows <= 16 and full_cols <= 40


@pytest.mark.parametrize(
    ("fmt", "layout", "planar"),
    [("fltp", "mono", True), ("fltp", "stereo", True), ("s16", "stereo", False),
     ("s32p", "5.1", True), ("u8", "stereo", False)],
)  # fmt: skip
def test_frames_become_the_float64_channel_mean(fmt: str, layout: str, planar: bool) -> None:
    import av

    from engine.audio import _frame_to_mono

    channels = av.AudioLayout(layout).nb_channels
    rng = np.random.default_rng(7)
    unit = rng.uniform(-1, 1, size=(channels, 1000))
    scale = {"fltp": None, "s16": 32768.0, "s32p": 2147483648.0, "u8": 128.0}[fmt]
    if scale is None:
        data = unit.astype(np.float32)
        expected = data.astype(np.float64).mean(axis=0)
    else:
        offset = 128.0 if fmt == "u8" else 0.0
        dtype = {"s16": np.int16, "s32p": np.int32, "u8": np.uint8}[fmt]
        data = (unit * (scale - 1) + offset).astype(dtype)
        expected = ((data.astype(np.float64) - offset) / scale).mean(axis=0)
    raw = data if planar else data.T.reshape(1, -1)
    frame = av.AudioFrame.from_ndarray(raw, format=fmt, layout=layout)
    mono = _frame_to_mono(frame)
    assert mono.dtype == np.float32 and mono.shape == (1000,)
    assert np.array_equal(mono, expected.astype(np.float32))  # bit for bit
