"""The model's share of embedding, side by side: torch against ONNX Runtime, threads, batch, int8.

Decodes the K windows of each track once, then times only the model (log-mel + musicnn + heads)
in each variant, per track, and compares its track vectors with torch's (the cosine of the
renormalised window mean, the vector the library stores):

- ``torch``: the torch model, one track per call on one thread (the embedder's CPU path before);
- ``ort``: the exported graph (log-mel stays in torch) with 1 or 2 intra-op threads, one track
  or several tracks per call;
- ``ort-int8-dynamic`` / ``ort-int8-static``: the graph quantised by ``onnxruntime.quantization``
  (dynamic: weights only; static: QDQ, activations calibrated on tracks not timed here);
- ``x2 threads``: two threads each running one track at a time on the same session, i.e. the
  throughput of two model workers sharing the two cores; ``x2 processes``: the same split
  between two processes, each with its own session (the graph only: log-mel excluded).

Usage: PYTHONPATH=. python tests/bench/bench_embed_runtime.py [--tracks 12] [--folder DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _track_vectors(windows: np.ndarray, k: int) -> np.ndarray:
    means = windows.reshape(-1, k, windows.shape[-1]).mean(axis=1)
    return means / np.linalg.norm(means, axis=1, keepdims=True)


def _timed(run: Callable[[], np.ndarray], repeat: int) -> tuple[np.ndarray, float, float]:
    """Run once to warm up, then ``repeat`` times: the output, wall and CPU s per run."""
    run()  # warm-up
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(repeat):
        out = run()
    return out, (time.perf_counter() - wall) / repeat, (time.process_time() - cpu) / repeat


def _two_threads(run_one: Callable[[int], np.ndarray], n: int) -> tuple[float, float]:
    """Wall and CPU seconds for n tracks shared by two threads (each takes the next track)."""
    lock, next_track = threading.Lock(), [0]

    def worker() -> None:
        while True:
            with lock:
                i = next_track[0]
                next_track[0] += 1
            if i >= n:
                return
            run_one(i)

    wall, cpu = time.perf_counter(), time.process_time()
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - wall, time.process_time() - cpu


def _process_half(graph: str, mels: list[np.ndarray]) -> float:
    """Run one process's share of the tracks; its CPU seconds (for the x2 processes row)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
    session.run(None, {"mel": mels[0]})
    cpu = time.process_time()
    for mel in mels:
        session.run(None, {"mel": mel})
    return time.process_time() - cpu


def _two_processes(graph: Path, mels: list[np.ndarray]) -> tuple[float, float]:
    """Wall and CPU seconds for the tracks split between two processes (started beforehand)."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.starmap(_process_half, [(str(graph), mels[:1])] * 2)  # start and import first
        wall = time.perf_counter()
        cpu = pool.starmap(_process_half, [(str(graph), mels[0::2]), (str(graph), mels[1::2])])
        return time.perf_counter() - wall, sum(cpu)


def _quantised(graph: Path, kind: str, calibration: list[np.ndarray]) -> Path:
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )

    out = graph.with_name(f"{graph.stem}-{kind}.onnx")
    if kind == "int8-dynamic":
        quantize_dynamic(graph, out, weight_type=QuantType.QInt8)
        return out

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter(calibration)

        def get_next(self) -> dict[str, np.ndarray] | None:
            item = next(self.items, None)
            return None if item is None else {"mel": item}

    quantize_static(
        graph, out, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
    )  # fmt: skip
    return out


def _decoded(args: argparse.Namespace) -> tuple[Any, list[np.ndarray], list[np.ndarray]]:
    """The torch embedder, the timed tracks' windows and the calibration tracks' log-mels."""
    import torch
    from bench_embed_profile import AUDIO_SUFFIXES

    from engine.audio import read_windows
    from engine.inference import Embedder
    from slapdesk.resources import resource_path

    count = args.tracks + args.calibration_tracks
    if args.folder:
        paths = sorted(p for p in args.folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
        paths = paths[:count]
    else:
        from bench_embed import make_tracks

        paths = make_tracks(args.workdir / "mp3", count, 180.0, "mp3")
    embedder = Embedder.from_bundle(resource_path("models", "default"), "cpu", runtime="torch")
    windows = [read_windows(p, embedder.cfg.frontend)[0] for p in paths]
    with torch.inference_mode():
        calibration = [
            embedder.model.frontend(torch.from_numpy(w)).numpy() for w in windows[args.tracks :]
        ]
    return embedder, windows[: args.tracks], calibration


def _ort_rows(
    embedder: Any, timed: list[np.ndarray], graphs: dict[str, Path], reference: np.ndarray
) -> list[dict[str, Any]]:
    """Each graph with 1 or 2 threads and 1 or 4 tracks per call, and on two threads."""
    import onnxruntime as ort
    import torch

    n, k = len(timed), embedder.cfg.frontend.n_windows
    ref_tracks = _track_vectors(reference, k)

    def mel_of(w: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return embedder.model.frontend(torch.from_numpy(w)).numpy()

    rows: list[dict[str, Any]] = []
    for name, path in graphs.items():
        for threads, per_call in ((1, 1), (1, 4), (2, 1)):
            if name != "ort" and (threads, per_call) != (1, 1):
                continue
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

            def run(session: Any = session, per_call: int = per_call) -> np.ndarray:
                out = []
                for i in range(0, n, per_call):
                    mel = np.concatenate([mel_of(w) for w in timed[i : i + per_call]])
                    out.append(session.run(None, {"mel": mel})[0])
                return np.concatenate(out)

            vectors, wall, cpu = _timed(run, 1)
            cos = (_track_vectors(vectors, k) * ref_tracks).sum(axis=1)
            rows.append({"variant": f"{name} {threads} thread, {per_call} track/call",
                         "cpu_ms": 1000 * cpu / n, "wall_ms": 1000 * wall / n,
                         "min_cos": float(cos.min()),
                         "max_window_diff": float(np.abs(vectors - reference).max())})  # fmt: skip
            if (threads, per_call) == (1, 1):
                wall2, cpu2 = _two_threads(
                    lambda i, s=session: s.run(None, {"mel": mel_of(timed[i])})[0], n
                )
                rows.append({"variant": f"{name} x2 threads, 1 track/call",
                             "cpu_ms": 1000 * cpu2 / n, "wall_ms": 1000 * wall2 / n})  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> None:
    """Print one JSON line per variant."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=12)
    parser.add_argument("--calibration-tracks", type=int, default=8)
    parser.add_argument("--folder", type=Path, default=None, help="real music instead")
    parser.add_argument("--no-int8", action="store_true")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "slap_bench")
    args = parser.parse_args(argv)

    import torch

    from engine.audio_graph import export_audio_graph

    torch.set_num_threads(1)
    embedder, timed, calibration = _decoded(args)
    n = len(timed)

    def torch_all() -> np.ndarray:
        return np.concatenate([embedder.embed_windows(w) for w in timed])

    reference, wall, cpu = _timed(torch_all, 1)
    rows = [{"variant": "torch 1 thread, 1 track/call", "cpu_ms": 1000 * cpu / n,
             "wall_ms": 1000 * wall / n, "min_cos": 1.0}]  # fmt: skip
    graph = args.workdir / "bench_audio_graph.onnx"
    export_audio_graph(embedder.model, graph)
    graphs = {"ort": graph}
    if not args.no_int8:
        for kind in ("int8-dynamic", "int8-static"):
            try:
                graphs[f"ort-{kind}"] = _quantised(graph, kind, calibration)
            except Exception as exc:
                print(json.dumps({"variant": f"ort-{kind}", "failed": str(exc)[:300]}))
    rows += _ort_rows(embedder, timed, graphs, reference)
    with torch.inference_mode():
        mels = [embedder.model.frontend(torch.from_numpy(w)).numpy() for w in timed]
    wall2, cpu2 = _two_processes(graph, mels)
    rows.append({"variant": "ort x2 processes, 1 track/call (log-mel not included)",
                 "cpu_ms": 1000 * cpu2 / n, "wall_ms": 1000 * wall2 / n})  # fmt: skip
    wall2, cpu2 = _two_threads(lambda i: embedder.embed_windows(timed[i]), n)
    rows.append({"variant": "torch x2 threads, 1 track/call", "cpu_ms": 1000 * cpu2 / n,
                 "wall_ms": 1000 * wall2 / n})  # fmt: skip
    print(f"{n} tracks, {args.folder or 'generated'}, load {os.getloadavg()[0]:.2f}")
    for row in rows:
        print(json.dumps({k: round(v, 7) if isinstance(v, float) else v for k, v in row.items()}))


if __name__ == "__main__":
    main()
