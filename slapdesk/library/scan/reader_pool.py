"""Read tags in worker processes, with a time limit so that no single file can stall a scan.

Chunks of paths go to a ``multiprocessing.Pool`` in order. When a chunk takes longer than its
limit, the pool is terminated (a worker stuck in a parser cannot be interrupted otherwise), the
chunk's files are read again one at a time, each in a one-process pool with its own limit: the
file that hangs is reported, the rest of the chunk is indexed, and a fresh pool takes the
remaining chunks.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator

from slapdesk.library.tags import read as tagread
from slapdesk.library.tags.read import ReadResult

# A chunk may take this long per file on top of the per-file limit (a loaded machine is slow).
_CHUNK_SECONDS_PER_FILE = 0.05


def _worker_init() -> None:
    # Ctrl-C belongs to the parent, which stops the pool and commits what it has.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A forked worker inherits the parent's Python SIGTERM handler (the trainer installs one
    # to checkpoint): then Pool.terminate() cannot stop a worker stuck in a parser, and the
    # scan waits forever. Workers must die on SIGTERM.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _read_one(path: bytes) -> ReadResult:
    return tagread.read_file(path)


def _read_chunk(paths: list[bytes]) -> list[ReadResult]:
    return [tagread.read_file(path) for path in paths]


def read_in_processes(
    paths: list[bytes],
    *,
    workers: int,
    chunk_files: int,
    start_method: str,
    file_timeout_s: float,
    cancel: threading.Event,
) -> Iterator[ReadResult]:
    """Yield one result per path, in order, read by ``workers`` processes.

    Args:
        paths: files to read.
        workers: processes in the pool.
        chunk_files: paths per task.
        start_method: ``fork`` or ``spawn``.
        file_timeout_s: the most one file may take before it is reported as hanging.
        cancel: stop early when set (the pool is terminated).

    Yields:
        ReadResults in the order of ``paths``.
    """
    context = multiprocessing.get_context(start_method)
    chunks = [paths[i : i + chunk_files] for i in range(0, len(paths), chunk_files)]
    position = 0
    while position < len(chunks):
        pool = context.Pool(workers, initializer=_worker_init)
        try:
            results = pool.imap(_read_chunk, chunks[position:])
            while position < len(chunks):
                chunk = chunks[position]
                limit = file_timeout_s + _CHUNK_SECONDS_PER_FILE * len(chunk)
                try:
                    batch = results.next(timeout=limit)
                except multiprocessing.TimeoutError:
                    pool.terminate()
                    yield from _one_by_one(chunk, context, file_timeout_s, cancel)
                    position += 1
                    break  # a fresh pool takes the remaining chunks
                yield from batch
                position += 1
                if cancel.is_set():
                    return
        finally:
            pool.terminate()
            pool.join()
        if cancel.is_set():
            return


def _one_by_one(
    paths: list[bytes],
    context: multiprocessing.context.BaseContext,
    file_timeout_s: float,
    cancel: threading.Event,
) -> Iterator[ReadResult]:
    pool = context.Pool(1, initializer=_worker_init)
    try:
        for path in paths:
            if cancel.is_set():
                return
            try:
                yield pool.apply_async(_read_one, (path,)).get(timeout=file_timeout_s)
            except multiprocessing.TimeoutError:
                pool.terminate()
                pool = context.Pool(1, initializer=_worker_init)
                yield tagread.failed(
                    path,
                    f"reading its tags took longer than {file_timeout_s:.0f} s "
                    "(the file may be damaged); skipped",
                )
    finally:
        pool.terminate()
        pool.join()


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, not the machine's count)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def default_start_method() -> str:
    """How to start reader processes: fork when it is safe, else spawn."""
    # fork starts in milliseconds and needs no importable __main__, but copies the locks of
    # other threads (Qt, a DB writer) mid-use: with threads about, spawn a fresh interpreter.
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return "fork"
    return "spawn"
