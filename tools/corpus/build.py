"""Run clip jobs in parallel, resumably, and keep the JSONL manifests.

Each source (synth, music21, recordings, eval) turns its inputs into ``Job`` objects; a
worker renders one job to a FLAC file and returns its manifest row. Rows are appended to
``parts/<source>_<split>.jsonl`` as soon as their audio is on disk, so an interrupted
build resumes where it stopped: a job is skipped when its row and its audio exist.
``merge_manifests`` then writes train.jsonl, val.jsonl and eval_zeroshot.jsonl.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing as mp
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SPLIT_FILES = {"train": "train.jsonl", "val": "val.jsonl", "eval": "eval_zeroshot.jsonl"}


@dataclass(frozen=True)
class BuildCfg:
    """Settings shared by every source."""

    out: Path  # corpus root; manifests hold audio paths relative to it
    seed: int = 0  # base seed: every clip's seed derives from it
    workers: int = 2  # worker processes
    seconds: float = 10.0  # clip length
    sample_rate: int = 16_000  # of the written FLAC files
    nice: int = 10  # niceness workers run at, at least (shared machine)


@dataclass(frozen=True)
class Job:
    """One clip to make; ``params`` is source-specific and must be picklable."""

    source: str
    split: str  # train | val | eval
    audio: str  # output path relative to the corpus root
    params: dict = field(default_factory=dict)


def part_path(out: Path, source: str, split: str) -> Path:
    """Where the rows of one source and split are collected."""
    return out / "parts" / f"{source}_{split}.jsonl"


def read_rows(path: Path) -> list[dict]:
    """Rows of a JSONL file (a half-written last line from a crash is ignored)."""
    rows = []
    if not path.is_file():
        return rows
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            log.warning("%s: skipping a damaged line", path)
    return rows


def _renderer(source: str) -> Callable[[Job, BuildCfg], dict | list[dict]]:
    # Imported lazily: each worker only loads what its jobs need.
    if source == "synth":
        from tools.corpus.synth import render_job
    elif source == "music21":
        from tools.corpus.m21 import render_job
    elif source == "recordings":
        from tools.corpus.recordings import render_job
    elif source == "eval":
        from tools.corpus.evalset import render_job
    else:
        raise ValueError(f"unknown source {source!r}")
    return render_job


_CFG: BuildCfg | None = None


def _init_worker(cfg: BuildCfg) -> None:
    global _CFG
    _CFG = cfg
    # Reach (not add to) the requested niceness: under `nice -n 10` workers stay at 10.
    current = os.nice(0)
    if cfg.nice > current:
        with contextlib.suppress(OSError):
            os.nice(cfg.nice - current)
    # One BLAS/torch thread per worker: the workers are the parallelism.
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def _run_one(job: Job) -> tuple[Job, list[dict] | None, str | None]:
    assert _CFG is not None
    try:
        result = _renderer(job.source)(job, _CFG)
        rows = result if isinstance(result, list) else [result]
        return job, rows, None
    except Exception as exc:
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return job, None, detail


def pending(jobs: Iterable[Job], out: Path) -> list[Job]:
    """Jobs whose manifest row or audio file is missing."""
    jobs = list(jobs)
    done: set[str] = set()
    for source, split in {(j.source, j.split) for j in jobs}:
        done |= {r.get("job", r["audio"]) for r in read_rows(part_path(out, source, split))}
    return [j for j in jobs if j.audio not in done or not (out / j.audio).is_file()]


def _append_rows(handles: dict[tuple[str, str], Any], out: Path, job: Job,
                 rows: list[dict]) -> None:
    """Append a finished job's manifest rows to its (source, split) part file."""
    key = (job.source, job.split)
    if key not in handles:
        path = part_path(out, *key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handles[key] = path.open("a", encoding="utf-8")
    fh = handles[key]
    for row in rows:
        row.setdefault("job", job.audio)
        fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    fh.flush()


def run_jobs(jobs: list[Job], cfg: BuildCfg, label: str,
             cancel: threading.Event | None = None, progress_every: float = 15.0) -> dict:
    """Render every pending job with ``cfg.workers`` processes; return counts and timing.

    Progress goes to stderr every ``progress_every`` seconds; a failing job is reported
    (clip, reason) to stderr and ``errors.log`` and skipped.
    """
    cfg.out.mkdir(parents=True, exist_ok=True)
    todo = pending(jobs, cfg.out)
    stats = {"label": label, "total": len(jobs), "skipped": len(jobs) - len(todo), "done": 0,
             "rows": 0, "errors": 0, "seconds": 0.0}
    sys.stderr.write(f"[{label}] {len(jobs)} clips, {stats['skipped']} already built, "
                     f"{len(todo)} to render with {cfg.workers} worker(s)\n")
    if not todo:
        return stats
    start = last = time.monotonic()
    handles: dict[tuple[str, str], Any] = {}
    errlog = (cfg.out / "errors.log").open("a", encoding="utf-8")
    pool = None
    if cfg.workers > 1:
        # "spawn", not "fork": forking a process that already runs threads (torch, Qt,
        # pytest plugins) can deadlock the child on a lock held by a thread that is gone.
        pool = mp.get_context("spawn").Pool(cfg.workers, initializer=_init_worker,
                                            initargs=(cfg,))
        results = pool.imap_unordered(_run_one, todo, chunksize=4)
    else:
        global _CFG
        _CFG = cfg
        results = map(_run_one, todo)
    try:
        for job, rows, error in results:
            if error is not None:
                stats["errors"] += 1
                msg = f"[{label}] error: {job.audio}: {error}\n"
                sys.stderr.write(msg)
                errlog.write(msg)
                errlog.flush()
            else:
                _append_rows(handles, cfg.out, job, rows or [])
                stats["done"] += 1
                stats["rows"] += len(rows or [])
            now = time.monotonic()
            if now - last >= progress_every:
                last = now
                _progress(label, stats, len(todo), now - start)
            if cancel is not None and cancel.is_set():
                sys.stderr.write(f"[{label}] cancelled\n")
                if pool is not None:
                    pool.terminate()
                break
    finally:
        if pool is not None:
            pool.close()
            pool.join()
        for fh in handles.values():
            fh.close()
        errlog.close()
    stats["seconds"] = round(time.monotonic() - start, 1)
    _progress(label, stats, len(todo), stats["seconds"])
    return stats


def _progress(label: str, stats: dict, n_todo: int, elapsed: float) -> None:
    finished = stats["done"] + stats["errors"]
    rate = finished / elapsed if elapsed > 0 else 0.0
    eta = (n_todo - finished) / rate if rate > 0 else float("nan")
    sys.stderr.write(f"[{label}] {finished}/{n_todo} ({stats['errors']} errors) "
                     f"{rate:.1f} clips/s, elapsed {elapsed:.0f} s, eta {eta:.0f} s\n")


def merge_manifests(out: Path) -> dict[str, int]:
    """Write train.jsonl, val.jsonl and eval_zeroshot.jsonl from every part file present.

    Rows whose audio is missing are dropped; each audio path appears once; the order is
    sorted by audio path so the files are stable across runs.
    """
    by_split: dict[str, dict[str, dict]] = {s: {} for s in SPLIT_FILES}
    for path in sorted((out / "parts").glob("*.jsonl")):
        for row in read_rows(path):
            if row.get("split") in by_split and (out / row["audio"]).is_file():
                clean = {k: v for k, v in row.items() if k != "job"}
                by_split[row["split"]][row["audio"]] = clean
    counts = {}
    for split, rows in by_split.items():
        target = out / SPLIT_FILES[split]
        tmp = target.with_suffix(f".{os.getpid()}.tmp")  # concurrent builders: own temp file
        with tmp.open("w", encoding="utf-8") as fh:
            for audio in sorted(rows):
                fh.write(json.dumps(rows[audio], ensure_ascii=False) + "\n")
        tmp.replace(target)
        counts[split] = len(rows)
    return counts
