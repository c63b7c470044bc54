"""Where one track's embedding time goes: every stage timed alone, on one thread, per track.

Stages, in the order the embedder runs them, each timed per track (wall and this thread's CPU):
open (PyAV open + stream info), seek + decode of the K windows (PyAV), resample (soxr), the
abstain check, then log-mel, the musicnn tower and the heads (projector + predictor +
normalise) in torch, each apart, and ``Embedder.embed_windows`` as a whole in the runtime the
embedder uses (``--runtime``; the serial sum counts this one), and storing the vectors (one
SQLite transaction per 8 tracks, as the library job does). Then the same tracks through
``Embedder.iter_audio`` (decode threads, the model in them or in the caller's thread) and
through ``embed_library``: their wall time against the serial sum shows what the overlap
gains and what the hand-offs cost.

Usage: PYTHONPATH=. python tests/bench/bench_embed_profile.py [--tracks 16] [--folder DIR]
(``--folder``: real music instead of the generated 3-minute MP3s).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

AUDIO_SUFFIXES = {".mp3", ".flac", ".ogg", ".opus", ".m4a", ".wav", ".aiff", ".aif"}


class Clock:
    """Per-stage totals of wall and thread-CPU seconds."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Add the block's wall and this thread's CPU time to ``name``."""
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            self.wall[name] += time.perf_counter() - wall
            self.cpu[name] += time.thread_time() - cpu

    def wrap(self, module: Any, attr: str, name: str) -> None:
        """Time every call of ``module.attr`` under ``name`` (for stages inside read_windows)."""
        original = getattr(module, attr)

        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.stage(name):
                return original(*args, **kwargs)

        setattr(module, attr, timed)


def _paths(args: argparse.Namespace) -> list[Path]:
    if args.folder:
        found = sorted(
            p for p in Path(args.folder).rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES
        )
        return found[: args.tracks]
    from bench_embed import make_tracks

    return make_tracks(args.workdir / "mp3", args.tracks, 180.0, "mp3")


def _serial(embedder: Any, paths: list[Path], clock: Clock) -> list[Any]:
    """Every stage of every track on this thread; returns (windows, starts, vectors) per track."""
    import numpy as np
    import torch
    import torch.nn.functional as F  # noqa: N812

    import engine.audio as audio
    from engine.abstain import abstain_reason

    clock.wrap(audio, "_open", "open")
    clock.wrap(audio, "_resample", "resample")
    model, frontend = embedder.model, embedder.cfg.frontend
    out = []
    torch.set_num_threads(1)
    for path in paths:
        with clock.stage("read_windows"):
            windows, starts = audio.read_windows(path, frontend)
        with clock.stage("abstain"):
            abstain_reason(windows, frontend.sample_rate)
        with torch.inference_mode():
            wav = torch.from_numpy(np.ascontiguousarray(windows))
            with clock.stage("log-mel"):
                mel = model.frontend(wav)
            with clock.stage("musicnn"):
                hidden = model.audio_encoder(mel)
            with clock.stage("heads"):
                F.normalize(model._audio_head(hidden), dim=-1)
        with clock.stage("embed_windows"):
            vectors = embedder.embed_windows(windows)
        out.append((windows, starts, vectors))
    return out


def _store(embedder: Any, paths: list[Path], results: list[Any], clock: Clock) -> None:
    """Store the vectors as the library job does: 8 tracks per transaction."""
    import numpy as np

    from engine.inference import TrackEmbedding
    from slapdesk.library.jobs.embed import _store, register_model
    from slapdesk.library.scan.scanner import run_scan
    from slapdesk.library.store.database import Database

    folders = sorted({p.parent for p in paths})
    with tempfile.TemporaryDirectory() as tmp, Database(Path(tmp) / "lib.sqlite") as db:
        run_scan(db, folders)
        register_model(db, embedder.model_id, "bench", None, embedder.dim)
        ids = dict(db.execute("SELECT path, id FROM tracks").fetchall())
        rows = []
        for i, (path, (_, starts, vectors)) in enumerate(zip(paths, results, strict=True)):
            track = vectors.mean(axis=0)
            track /= np.linalg.norm(track)
            key = ids.get(str(path), ids.get(os.fsencode(path)))
            rows.append((key, TrackEmbedding(i, str(path), track, vectors, starts)))
        with clock.stage("store"):
            for start in range(0, len(rows), 8):
                chunk = [r for r in rows[start : start + 8] if r[0] is not None]
                _store(db, embedder.model_id, [r[0] for r in chunk], [r[1] for r in chunk])


def _pipelines(embedder: Any, paths: list[Path], workers: int) -> dict[str, float]:
    """Wall and process-CPU seconds of iter_audio and of embed_library on the same tracks."""
    from slapdesk.library.jobs.embed import embed_library, register_model
    from slapdesk.library.scan.scanner import run_scan
    from slapdesk.library.store.database import Database

    found: dict[str, float] = {}
    wall, cpu = time.perf_counter(), time.process_time()
    results = list(embedder.iter_audio([str(p) for p in paths], 8, decode_workers=workers))
    found["iter_audio_wall"] = time.perf_counter() - wall
    found["iter_audio_cpu"] = time.process_time() - cpu
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    folders = sorted({p.parent for p in paths})
    with tempfile.TemporaryDirectory() as tmp, Database(Path(tmp) / "lib.sqlite") as db:
        run_scan(db, folders)
        register_model(db, embedder.model_id, "bench", None, embedder.dim)
        wall, cpu = time.perf_counter(), time.process_time()
        summary = embed_library(db, embedder, decode_workers=workers)
        found["embed_library_wall"] = time.perf_counter() - wall
        found["embed_library_cpu"] = time.process_time() - cpu
        found["embed_library_tracks"] = summary.embedded + len(summary.errors)
    return found


def _table(clock: Clock, n: int, runtime: str) -> list[tuple[str, float, float, bool]]:
    """(stage, wall ms/track, CPU ms/track, counted in the serial sum) per stage."""
    decode_wall = clock.wall["read_windows"] - clock.wall["open"] - clock.wall["resample"]
    decode_cpu = clock.cpu["read_windows"] - clock.cpu["open"] - clock.cpu["resample"]
    rows = [
        ("open", clock.wall["open"], clock.cpu["open"], True),
        ("seek+decode", decode_wall, decode_cpu, True),
        ("resample", clock.wall["resample"], clock.cpu["resample"], True),
        ("abstain", clock.wall["abstain"], clock.cpu["abstain"], True),
        ("log-mel", clock.wall["log-mel"], clock.cpu["log-mel"], False),
        ("musicnn (torch)", clock.wall["musicnn"], clock.cpu["musicnn"], False),
        ("heads (torch)", clock.wall["heads"], clock.cpu["heads"], False),
        (f"embed_windows ({runtime})", clock.wall["embed_windows"], clock.cpu["embed_windows"],
         True),
        ("store", clock.wall["store"], clock.cpu["store"], True),
    ]  # fmt: skip
    return [(name, 1000 * w / n, 1000 * c / n, counted) for name, w, c, counted in rows]


def main(argv: list[str] | None = None) -> None:
    """Print the per-stage table and the pipeline figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=16)
    parser.add_argument("--folder", type=Path, default=None, help="real music to read instead")
    parser.add_argument("--workers", type=int, default=2, help="decode threads of the pipelines")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "slap_bench")
    parser.add_argument("--model", default=None, help="bundle folder (default: the shipped one)")
    parser.add_argument("--runtime", default="auto", help="auto, onnx or torch (the embedder's)")
    args = parser.parse_args(argv)

    from engine.inference import Embedder
    from slapdesk.resources import resource_path

    paths = _paths(args)
    load = os.getloadavg()[0]
    bundle = args.model or resource_path("models", "default")
    embedder = Embedder.from_bundle(bundle, "cpu", runtime=args.runtime)
    embedder.embed_windows(embedder_warmup(embedder))
    clock = Clock()
    results = _serial(embedder, paths, clock)
    _store(embedder, paths, results, clock)
    n = len(paths)
    rows = _table(clock, n, embedder.runtime)
    width = max(len(r[0]) for r in rows)
    print(f"{n} tracks, {args.folder or 'generated 3-minute MP3s'}, load {load:.2f}")
    print(f"{'stage':<{width}}  wall ms/track  CPU ms/track")
    for name, wall, cpu, counted in rows:
        print(f"{name:<{width}}  {wall:13.1f}  {cpu:12.1f}{'' if counted else '  (apart)'}")
    serial = sum(r[1] for r in rows if r[3])
    serial_cpu = sum(r[2] for r in rows if r[3])
    print(f"{'serial sum':<{width}}  {serial:13.1f}  {serial_cpu:12.1f}")
    found = _pipelines(embedder, paths, args.workers)
    summary = {
        "serial_tracks_per_s": round(1000 / serial, 2),
        "iter_audio_tracks_per_s": round(n / found["iter_audio_wall"], 2),
        "iter_audio_cpu_ms_per_track": round(1000 * found["iter_audio_cpu"] / n, 1),
        "embed_library_tracks_per_s": round(n / found["embed_library_wall"], 2),
        "embed_library_cpu_ms_per_track": round(1000 * found["embed_library_cpu"] / n, 1),
        "decode_workers": args.workers,
        "load_1min_before": round(load, 2),
        "load_1min_after": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(summary))


def embedder_warmup(embedder: Any) -> Any:
    """One track's worth of silence-free windows, to warm up the model before timing."""
    import numpy as np

    frontend = embedder.cfg.frontend
    rng = np.random.default_rng(0)
    return (0.1 * rng.standard_normal((frontend.n_windows, frontend.clip_samples))).astype(
        np.float32
    )


if __name__ == "__main__":
    main()
