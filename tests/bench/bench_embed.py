"""Embedding throughput on the CPU: 3-minute tracks, decode + model, per audio encoder config.

For each model config this prints, from its own subprocess (so peak memory is its own):
- decode: seconds per track to seek + decode + resample the K windows (one thread);
- model: seconds per track for log-mel + tower + heads on ready windows;
- end to end: tracks/s of ``Embedder.embed_audio`` on the files (decode threads overlap the
  model), the decode share of the serial time, and the peak RSS of the process.

Usage: python tests/bench/bench_embed.py [--tracks 12] [--configs default-small htsat-base]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _music_like(seconds: float, seed: int, sample_rate: int = 44_100) -> np.ndarray:
    """A few minutes of chords, a bass line and noisy drum hits (not a pure sine)."""
    rng = np.random.default_rng(seed)
    n = round(seconds * sample_rate)
    out = np.zeros(n, dtype=np.float32)
    beat = round(sample_rate * 60 / rng.uniform(80, 140))
    t = np.arange(beat * 4) / sample_rate
    for start in range(0, n - beat * 4, beat * 4):
        root = 110.0 * 2 ** (rng.integers(0, 12) / 12)
        chord = sum(np.sin(2 * np.pi * root * r * t) for r in (2, 2.52, 3.0))
        bass = np.sin(2 * np.pi * root / 2 * t)
        env = np.exp(-t * rng.uniform(0.5, 3))
        out[start : start + beat * 4] += (0.08 * chord + 0.15 * bass) * env
        for hit in range(4):
            pos = start + hit * beat
            length = min(2000, n - pos)
            out[pos : pos + length] += (
                0.2 * rng.standard_normal(length) * np.exp(-np.arange(length) / 300)
            )
    return np.clip(out, -1, 1)


def make_tracks(folder: Path, count: int, seconds: float, fmt: str) -> list[Path]:
    """Write ``count`` distinct music-like tracks (cached in ``folder``)."""
    from slapdesk.library.demo.audio_files import make_track

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        existing = sorted(folder.glob(f"track{i:02d}_{int(seconds)}s.*"))
        if existing:
            paths.append(existing[0])
            continue
        samples = _music_like(seconds, seed=i)
        paths.append(make_track(folder / f"track{i:02d}_{int(seconds)}s", fmt, samples=samples))
    return paths


def _timed(fn) -> tuple[object, float, float]:
    """Run ``fn()``; return its result, wall seconds and CPU seconds (all threads)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def bench_one(
    config: str, paths: list[Path], batch_size: int, device: str, random_text: bool
) -> dict[str, float | str]:
    """Measure one model config in this process."""
    import dataclasses

    import torch

    from engine.audio import load_windows
    from engine.config import SlapCfg
    from engine.inference import Embedder
    from engine.model import build_model

    cfg = SlapCfg.from_name(config)
    if random_text:  # the audio path is what is measured; skip loading MiniLM
        text = dataclasses.replace(cfg.text, random_init={"hidden_size": 32})
        cfg = dataclasses.replace(cfg, text=text)
    torch.manual_seed(0)
    embedder = Embedder(build_model(cfg, with_target=False), device=device)
    n_params = sum(p.numel() for p in embedder.model.audio_encoder.parameters())
    n = len(paths)
    # Decode alone, one thread.
    windows, decode_wall, decode_cpu = _timed(
        lambda: [load_windows(p, cfg.frontend) for p in paths]
    )
    # Model alone on ready windows (one warm-up batch first).
    embedder.embed_windows(np.concatenate(windows[:batch_size]))

    def model_only() -> None:
        for i in range(0, n, batch_size):
            embedder.embed_windows(np.concatenate(windows[i : i + batch_size]))
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    _, model_wall, model_cpu = _timed(model_only)
    # End to end through the public API (decode threads overlap the model).
    result, total_wall, total_cpu = _timed(
        lambda: embedder.embed_audio(paths, batch_size=batch_size)
    )
    assert not result.errors, result.errors
    return {
        "config": config,
        "audio_encoder": cfg.audio.name,
        "device": str(embedder.device),
        "audio_params_M": round(n_params / 1e6, 2),
        "sample_rate": cfg.frontend.sample_rate,
        "windows": cfg.frontend.n_windows,
        "tracks": n,
        "decode_s_per_track": round(decode_wall / n, 4),
        "decode_cpu_s_per_track": round(decode_cpu / n, 4),
        "model_s_per_track": round(model_wall / n, 4),
        "model_cpu_s_per_track": round(model_cpu / n, 4),
        "decode_share": round(decode_wall / (decode_wall + model_wall), 3),
        "tracks_per_s": round(n / total_wall, 2),
        "end_to_end_cpu_s_per_track": round(total_cpu / n, 4),
        "peak_rss_MiB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "torch_threads": torch.get_num_threads(),
    }


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print one line per config, then a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=12, help="tracks per config")
    parser.add_argument("--seconds", type=float, default=180.0, help="track length")
    parser.add_argument("--format", default="mp3", help="audiogen format of the tracks")
    parser.add_argument("--batch-size", type=int, default=8, help="tracks per model call")
    parser.add_argument(
        "--configs",
        nargs="+",
        default=None,
        help="model configs (default: every engine/model_configs/*.json but the *_test ones)",
    )
    parser.add_argument("--slow-tracks", type=int, default=4, help="tracks for htsat configs")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "slap_bench")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, ...")
    parser.add_argument("--random-text", action="store_true", help="tiny random text tower")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    paths = make_tracks(args.workdir / args.format, args.tracks, args.seconds, args.format)
    if args.one:
        count = args.slow_tracks if "htsat" in args.one else args.tracks
        row = bench_one(args.one, paths[:count], args.batch_size, args.device, args.random_text)
        print(json.dumps(row))
        return
    from engine.config import MODEL_CONFIG_DIR

    configs = args.configs or sorted(
        p.stem for p in MODEL_CONFIG_DIR.glob("*.json") if not p.stem.endswith("_test")
    )
    rows = []
    for config in configs:
        cmd = [sys.executable, __file__, "--one", config, "--tracks", str(args.tracks),
               "--seconds", str(args.seconds), "--format", args.format,
               "--batch-size", str(args.batch_size), "--slow-tracks", str(args.slow_tracks),
               "--workdir", str(args.workdir), "--device", args.device]  # fmt: skip
        if args.random_text:
            cmd.append("--random-text")
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
        if out.returncode != 0:
            print(f"{config}: failed\n{out.stderr[-2000:]}")
            continue
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(json.dumps(row))
    header = ("config", "encoder", "device", "params M", "decode s/track", "model s/track",
              "decode share", "tracks/s", "CPU s/track", "peak RSS MiB")  # fmt: skip
    print(" | ".join(header))
    for r in rows:
        print(" | ".join(str(r[k]) for k in (
            "config", "audio_encoder", "device", "audio_params_M", "decode_s_per_track",
            "model_s_per_track", "decode_share", "tracks_per_s", "end_to_end_cpu_s_per_track",
            "peak_rss_MiB")))  # fmt: skip


if __name__ == "__main__":
    main()
