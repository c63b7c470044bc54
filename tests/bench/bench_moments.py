"""Find the moment: hit rate of the best moment, and what the moment pass costs.

Quality (``quality``): tracks are built by concatenating labelled clips of different classes
(``--segments`` parts of ``--segment-seconds`` each). For every part, its class is queried
(the class's terms through the app's prompt ensemble, as auto-tagging reads them) and the
track's best moment (the window scoring highest, cut every ``--hop`` seconds as the moment pass
does) counts as a hit when its centre lies inside that part. Two sources:

- ``--source demo``: single instruments rendered by slapdesk.library.demo.synth (generated);
- ``--source eval --manifest corpus_out/eval_zeroshot.jsonl``: the reserved real recordings
  (instrument families), never used for training or tuning.

Cost (``cost``): ``--tracks`` generated tracks of ``--seconds`` are written as FLAC, scanned
and embedded (first pass), then the moment pass runs; printed: CPU seconds per track of each
pass (process time, ``--threads`` torch threads) and stored bytes per track.

    python tests/bench/bench_moments.py quality --source demo
    python tests/bench/bench_moments.py quality --source eval \
        --manifest corpus_out/eval_zeroshot.jsonl
    python tests/bench/bench_moments.py cost --tracks 6 --seconds 180
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from engine.audio import load_audio  # noqa: E402
from engine.inference import Embedder  # noqa: E402
from slapdesk.library.autotag.scoring import build_classifier  # noqa: E402
from slapdesk.library.autotag.vocabulary import Vocabulary  # noqa: E402
from slapdesk.library.jobs.moments import windows_from_samples  # noqa: E402
from slapdesk.resources import resource_path  # noqa: E402
from tools.zeroshot_eval import INSTRUMENT_TERMS  # noqa: E402

# Generated classes: synth voice and the terms a query uses (the app's vocabulary wording).
DEMO_CLASSES: dict[str, tuple[str, tuple[str, ...]]] = {
    "drums": ("drums", ("drums",)),
    "piano": ("piano", ("piano",)),
    "organ": ("organ", ("organ",)),
    "synth pad": ("pad", ("synth pad",)),
    "guitar": ("guitar", ("electric guitar",)),
    "synth lead": ("square", ("synthesizer",)),
}


def demo_clips(per_class: int, seconds: float, sr: int) -> dict[str, list[np.ndarray]]:
    """``per_class`` generated single-instrument clips of every demo class."""
    from slapdesk.library.demo.synth import render_part

    clips: dict[str, list[np.ndarray]] = {}
    for c, (name, (voice, _)) in enumerate(DEMO_CLASSES.items()):
        rng = np.random.default_rng(c)
        clips[name] = [render_part(voice, int(rng.integers(80, 130)), seconds, rng, sr)
                       for _ in range(per_class)]
    return clips


def eval_clips(manifest: Path, per_class: int, seconds: float, sr: int,
               classes: set[str] | None) -> dict[str, list[np.ndarray]]:
    """Real clips of the reserved evaluation set, by instrument family."""
    clips: dict[str, list[np.ndarray]] = defaultdict(list)
    for line in manifest.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        family = row.get("labels", {}).get("instrument_family")
        if family not in INSTRUMENT_TERMS or (classes and family not in classes):
            continue
        if len(clips[family]) >= per_class:
            continue
        samples = load_audio(manifest.parent / row["audio"], sr)[: int(seconds * sr)]
        if samples.size >= seconds * sr * 0.9 and np.abs(samples).max() > 1e-3:
            clips[family].append(np.pad(samples, (0, int(seconds * sr) - samples.size)))
    return dict(clips)


def quality(args: argparse.Namespace, embedder: Embedder) -> None:
    """Print the best-moment hit rate per class and overall."""
    sr = embedder.cfg.frontend.sample_rate
    if args.source == "demo":
        clips = demo_clips(args.per_class, args.segment_seconds, sr)
        terms = {name: t for name, (_, t) in DEMO_CLASSES.items()}
    else:
        wanted = {c.strip() for c in args.classes.split(",")} if args.classes else None
        clips = eval_clips(args.manifest, args.per_class, args.segment_seconds, sr, wanted)
        terms = {name: INSTRUMENT_TERMS[name] for name in clips}
    names = sorted(c for c in clips if clips[c])
    # Each class's query: its terms through the tagging prompt ensemble, averaged.
    vocab = Vocabulary("q", "q", tuple(t for n in names for t in terms[n]))
    classifier = build_classifier(vocab, embedder.embed_text)
    owner = np.array([names.index(n) for n in names for _ in terms[n]])
    queries = np.stack([classifier.vectors[owner == i].mean(axis=0) for i in range(len(names))])
    rng = np.random.default_rng(args.seed)
    hits: dict[str, list[bool]] = defaultdict(list)
    started = time.process_time()
    for _ in range(args.tracks):
        parts = rng.choice(len(names), size=args.segments, replace=False)
        audio = np.concatenate([clips[names[p]][int(rng.integers(len(clips[names[p]])))]
                                for p in parts])
        windows, starts = windows_from_samples(audio, embedder.cfg.frontend, args.hop)
        vectors = embedder.embed_windows(windows)
        centres = np.asarray(starts) + embedder.cfg.frontend.clip_seconds / 2
        for position, p in enumerate(parts):
            best = centres[int(np.argmax(vectors @ queries[p]))]
            lo = position * args.segment_seconds
            hits[names[p]].append(lo <= best < lo + args.segment_seconds)
    print(f"{args.source}: {args.tracks} tracks of {args.segments} x {args.segment_seconds:g} s, "
          f"hop {args.hop:g} s, window {embedder.cfg.frontend.clip_seconds:g} s; chance "
          f"{1 / args.segments:.2f}; {time.process_time() - started:.0f} CPU-s")
    print("| class | queries | hit rate |")
    print("|---|---:|---:|")
    for name in names:
        print(f"| {name} | {len(hits[name])} | {np.mean(hits[name]):.2f} |")
    every = [h for hs in hits.values() for h in hs]
    print(f"| **overall** | {len(every)} | {np.mean(every):.2f} |")


def cost(args: argparse.Namespace, embedder: Embedder) -> None:
    """Print CPU seconds per track of both passes and stored bytes per track."""
    from slapdesk.library.demo.audio_files import make_track
    from slapdesk.library.demo.synth import STYLES, render
    from slapdesk.library.jobs.embed import embed_library, register_model
    from slapdesk.library.jobs.moments import run_moment_pass
    from slapdesk.library.scan.scanner import run_scan
    from slapdesk.library.store.database import Database

    sr = embedder.cfg.frontend.sample_rate
    with tempfile.TemporaryDirectory() as tmp:
        music = Path(tmp) / "music"
        music.mkdir()
        for k, style in enumerate(sorted(STYLES)[: args.tracks] * args.tracks):
            if k == args.tracks:
                break
            rng = np.random.default_rng(k)
            audio = render(STYLES[style], STYLES[style].tempo[0], args.seconds, rng, sr)
            make_track(music / f"t{k}", "flac", samples=audio, sample_rate=sr)
        with Database(Path(tmp) / "lib.sqlite") as db:
            run_scan(db, [music])
            register_model(db, embedder.model_id, "bench", None, embedder.dim)
            t0 = time.process_time()
            embed_library(db, embedder, decode_workers=1)
            t1 = time.process_time()
            summary = run_moment_pass(db, embedder, hop=args.hop)
            t2 = time.process_time()
            stored = db.execute(
                "SELECT sum(length(starts) + length(scales) + length(vectors)), sum(count) "
                "FROM moment_vectors"
            ).fetchone()
    n = summary.tracks
    print(f"{n} generated tracks of {args.seconds:g} s, hop {args.hop:g} s, "
          f"{args.threads} torch thread(s)")
    print(f"first pass: {(t1 - t0) / n:.2f} CPU-s per track "
          f"({embedder.cfg.frontend.n_windows} windows)")
    print(f"moment pass: {(t2 - t1) / n:.2f} CPU-s per track ({stored[1] / n:.0f} windows, "
          f"{(t2 - t1) / stored[1] * 1000:.0f} CPU-ms per window)")
    print(f"moment storage: {stored[0] / n / 1024:.1f} KiB per track "
          f"(float32 would be {stored[1] / n * embedder.dim * 4 / 1024:.1f} KiB)")


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run one benchmark."""
    import torch

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("quality", "cost"))
    parser.add_argument("--bundle", default=str(resource_path("models", "default")))
    parser.add_argument("--source", choices=("demo", "eval"), default="demo")
    parser.add_argument("--manifest", type=Path, help="eval_zeroshot.jsonl (--source eval)")
    parser.add_argument("--classes", help="comma-separated instrument families (eval)")
    parser.add_argument("--per-class", type=int, default=10, help="clips per class")
    parser.add_argument("--segments", type=int, default=3, help="parts per track")
    parser.add_argument("--segment-seconds", type=float, default=10.0)
    parser.add_argument("--tracks", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=180.0, help="track length (cost)")
    parser.add_argument("--hop", type=float, default=3.0, help="seconds between windows")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    embedder = Embedder.from_bundle(args.bundle, device="cpu")
    if args.what == "quality":
        if args.source == "eval" and args.manifest is None:
            parser.error("--source eval needs --manifest")
        quality(args, embedder)
    else:
        cost(args, embedder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
