"""Print the abstain features of generated material, to choose and check the thresholds.

Every signal is written to a file (FLAC and MP3), decoded as the embedder decodes it
(``engine.audio.load_windows`` with the default bundle's front-end) and measured window by
window with ``engine.abstain``. The table shows, per class, the range of each feature and
what the detector decides; the thresholds in ``engine/abstain.py`` sit in the gaps.

Usage: python tools/abstain_thresholds.py [--seconds 40] [--real FOLDER ...]
``--real`` also measures the audio files under the folders (never use reserved ones to
choose thresholds: report them as a check only).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import abstain  # noqa: E402
from engine.audio import AudioDecodeError, load_windows  # noqa: E402
from engine.config import AudioFrontendCfg  # noqa: E402
from slapdesk.library.demo.audio_files import make_track  # noqa: E402
from slapdesk.library.demo.synth import STYLES, render  # noqa: E402

SR = 44_100
_AUDIO = {".mp3", ".flac", ".ogg", ".wav", ".opus", ".m4a", ".aiff"}


def _db(level_dbfs: float) -> float:
    """Amplitude of white noise (RMS) at ``level_dbfs``."""
    return 10 ** (level_dbfs / 20)


def _coloured(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    """Noise whose power falls as 1/f**exponent (0 white, 1 pink, 2 brown), unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SR)
    spectrum[1:] /= f[1:] ** (exponent / 2)
    spectrum[0] = 0
    x = np.fft.irfft(spectrum, n)
    return x / np.sqrt(np.mean(x * x))


def signals(seconds: float) -> Iterator[tuple[str, str, np.ndarray]]:
    """(class, name, samples at 44.1 kHz) for every generated signal."""
    rng = np.random.default_rng(0)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    yield "silence", "digital silence", np.zeros(n)
    for level in (-70, -80, -96):
        yield "silence", f"white noise {level} dBFS", _db(level) * rng.standard_normal(n)
    for level in (-3, -20, -40, -55):
        yield "noise", f"white noise {level} dBFS", _db(level) * rng.standard_normal(n)
    for exponent, name in ((1, "pink"), (2, "brown")):
        yield "noise?", f"{name} noise -20 dBFS", _db(-20) * _coloured(rng, n, exponent)
    for freq in (50, 440, 1000, 6000):
        yield "tone", f"sine {freq} Hz -6 dBFS", 0.5 * np.sin(2 * np.pi * freq * t)
    yield "tone", "sine 1 kHz -50 dBFS", _db(-47) * np.sin(2 * np.pi * 1000 * t)
    yield "tone?", "square 440 Hz", 0.3 * np.sign(np.sin(2 * np.pi * 440 * t))
    yield "tone?", "sweep 20 Hz-8 kHz", 0.5 * np.sin(2 * np.pi * 20 * seconds / np.log(400)
                                                       * (400 ** (t / seconds) - 1))
    for index, (genre, style) in enumerate(sorted(STYLES.items())):
        for seed in (0, 1):
            music = render(style, sum(style.tempo) // 2, seconds,
                           np.random.default_rng(10 * index + seed), SR)
            yield "music", f"demo {genre} {seed}", music
            yield "music", f"demo {genre} {seed} at -40 dBFS", music * _db(-28)


def _measure(path: Path, frontend: AudioFrontendCfg) -> list[abstain.WindowFeatures]:
    windows = load_windows(path, frontend)
    return [abstain.window_features(w, frontend.sample_rate) for w in windows]


def _row(cls: str, name: str, path: Path, frontend: AudioFrontendCfg) -> str:
    features = _measure(path, frontend)
    decided = abstain.abstain_reason(load_windows(path, frontend), frontend.sample_rate)

    def span(values: list[float], fmt: str) -> str:
        return f"{min(values):{fmt}}..{max(values):{fmt}}"

    return (
        f"{cls:8} {name[:34]:34} {path.suffix:6}"
        f" rms {span([f.rms_dbfs for f in features], '7.1f')}"
        f"  flat {span([f.flatness for f in features], '.3f')}"
        f"  spread {span([f.spread_db for f in features], '5.2f')}"
        f"  peak {span([f.peak_share for f in features], '.3f')}"
        f"  -> {decided}"
    )


def main(argv: list[str] | None = None) -> None:
    """Print one line per signal and file format."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--real", type=Path, nargs="*", default=[])
    parser.add_argument("--real-only", action="store_true", help="skip the generated signals")
    args = parser.parse_args(argv)
    # The default bundle's front-end: 16 kHz, 3 windows of 3 s.
    frontend = AudioFrontendCfg(sample_rate=16_000, clip_seconds=3.0, n_windows=3)
    print(f"thresholds: silence < {abstain.SILENCE_DBFS} dBFS; steady < "
          f"{abstain.STEADY_SPREAD_DB} dB and (peak >= {abstain.TONE_PEAK_SHARE} -> tone, "
          f"flatness >= {abstain.NOISE_FLATNESS} -> noise)")
    with tempfile.TemporaryDirectory() as tmp:
        generated = [] if args.real_only else signals(args.seconds)
        for index, (cls, name, samples) in enumerate(generated):
            for fmt in ("flac", "mp3"):
                path = make_track(Path(tmp) / f"s{index}", fmt,
                                  samples=np.clip(samples, -1, 1).astype(np.float32),
                                  sample_rate=SR)
                print(_row(cls, name, path, frontend), flush=True)
    for folder in args.real:
        files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in _AUDIO)
        for path in files:
            try:
                print(_row("real", path.name, path, frontend), flush=True)
            except AudioDecodeError as error:
                print(f"real     {path.name[:34]:34} unreadable: {error.reason}", flush=True)


if __name__ == "__main__":
    main()
