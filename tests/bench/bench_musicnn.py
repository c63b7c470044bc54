"""CPU speed of the musicnn tower: 3-minute tracks embedded (decode + log-mel + model) per second.

Writes a few 3-minute MP3s (a drum pattern with piano-like notes over it), then times
``engine.audio.load_windows`` + ``LogMel`` + ``MusicnnEncoder`` for K windows per track, and
the whole track (all 3 s patches) for comparison::

    .venv/bin/python tests/bench/bench_musicnn.py --tracks 4 --threads 2
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from engine.audio import LogMel, load_audio, load_windows  # noqa: E402
from engine.towers.musicnn import MusicnnEncoder, musicnn_frontend_cfg  # noqa: E402
from slapdesk.library.demo.audio_files import make_track  # noqa: E402

sys.path.insert(0, str(ROOT / "tools"))
from check_musicnn_port import SR, _drums, _notes  # noqa: E402


def _track(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    notes = _notes([261.63 * 2 ** (seed / 12), 329.63, 392.0, 523.25], seconds, rng)
    mix = _drums(seconds, rng)[: notes.size] + 0.7 * notes
    return (0.5 * mix / np.abs(mix).max()).astype(np.float32)


def _time(fn, paths: list[Path]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (all threads; robust to other load on a shared machine)."""
    start, cpu = time.perf_counter(), time.process_time()
    for path in paths:
        fn(path)
    return time.perf_counter() - start, time.process_time() - cpu


def _report(label: str, n: int, wall: float, cpu: float) -> None:
    print(
        f"{label:<28} {n / wall:6.2f} tracks/s wall ({wall / n * 1000:6.0f} ms/track), "
        f"{cpu / n * 1000:6.0f} CPU-ms/track"
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--format", default="mp3")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    encoder = MusicnnEncoder(layer="pooled+penultimate")
    with tempfile.TemporaryDirectory() as tmp:
        paths = [
            make_track(
                Path(tmp) / f"t{i}", args.format, samples=_track(args.seconds, i), sample_rate=SR
            )
            for i in range(args.tracks)
        ]

        for clip, k in ((3.0, 4), (3.0, 8), (6.0, 4), (10.0, 4)):
            frontend = musicnn_frontend_cfg(clip_seconds=clip, n_windows=k)
            logmel = LogMel(frontend)

            def embed(path: Path, frontend=frontend, logmel=logmel) -> None:
                with torch.inference_mode():
                    windows = torch.from_numpy(load_windows(path, frontend))
                    encoder(logmel(windows))

            embed(paths[0])  # warm-up
            _report(f"K={k} windows x {clip:4.1f} s", args.tracks, *_time(embed, paths))

        frontend = musicnn_frontend_cfg(clip_seconds=3.0, n_windows=4)
        logmel = LogMel(frontend)

        def decode_mel(path: Path) -> None:
            with torch.inference_mode():
                logmel(torch.from_numpy(load_windows(path, frontend)))

        _report("K=4 x 3 s, decode + mel only", args.tracks, *_time(decode_mel, paths))

        def whole(path: Path) -> None:
            with torch.inference_mode():
                encoder(logmel(torch.from_numpy(load_audio(path, SR))[None]))

        _report("whole track (all patches)", 2, *_time(whole, paths[:2]))
        patches = torch.randn(8, 96, 187)
        with torch.inference_mode():
            wall, cpu = _time(lambda _: encoder(patches), [None] * 3)
        print(
            f"model only: {wall / 24 * 1000:.0f} ms/patch wall, {cpu / 24 * 1000:.0f} CPU-ms/patch"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
