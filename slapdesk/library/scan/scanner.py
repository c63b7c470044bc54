"""Scan music folders into the library: walk, diff by (size, mtime_ns), read tags, store.

:func:`scan` is a generator: it yields :class:`Progress` about 30 times a second, honours a
cancel ``threading.Event`` and returns a :class:`ScanReport` (``report = yield from scan(...)``
or :func:`run_scan`). It commits in batches, so an interrupted scan leaves a consistent library
and the next scan carries on where it stopped: committed files are then simply unchanged.

A file that vanished from one place while a file with the same content fingerprint appeared
in another is a move: its row, and so its id and embeddings, follows it to the new path.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass

from slapdesk.library.progress import Progress
from slapdesk.library.scan.reader_pool import default_start_method, read_in_processes, usable_cpus
from slapdesk.library.scan.report import ScanError, ScanReport
from slapdesk.library.scan.walk import FileEntry, WalkState, diff_tree
from slapdesk.library.store.database import Database
from slapdesk.library.tags.read import ReadResult, read_file

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScanCfg:
    """How a scan runs."""

    workers: int | None = None  # tag-reading processes; None: one per CPU; 0: in this process
    pool_threshold: int = 1500  # read in processes only when at least this many files need it
    chunk_files: int = 256  # files per task sent to a worker process
    batch_files: int = 1000  # files per transaction (a resume point)
    batch_seconds: float = 1.0  # ... or this long, whichever comes first
    progress_hz: float = 30.0  # at most this many Progress updates per second
    start_method: str | None = None  # worker start: None = fork if single-threaded, else spawn
    file_timeout_s: float = 30.0  # a file whose tags take longer is reported and skipped


class _Throttle:
    def __init__(self, hz: float) -> None:
        self._interval = 1.0 / hz
        self._last = 0.0

    def due(self) -> bool:
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._last = now
            return True
        return False


# Columns written for a file: ReadResult's fields, then what the walk measured.
_COLUMNS = (*ReadResult._fields, "size", "mtime_ns", "inode", "added_at", "updated_at")
_UPSERT = (
    f"INSERT INTO tracks ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
    "ON CONFLICT (path) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c not in ("path", "added_at"))
)
_FTS_COLUMNS = "title, artist, album, albumartist, genre, mood, comment"
_INDEX_NEW = (
    f"INSERT INTO tracks_fts (rowid, {_FTS_COLUMNS}) SELECT id, {_FTS_COLUMNS} FROM tracks "
    "WHERE id > ?"
)
_MOVE = (
    "UPDATE tracks SET "
    + ", ".join(f"{c} = ?" for c in _COLUMNS if c != "added_at")
    + " WHERE id = ?"
)


_Gone = tuple[int, bytes]  # (track id, old path) of a file no longer where it was


@dataclass
class _Plan:
    """The diff between the disk and the library for the scanned roots."""

    to_read: list[FileEntry]  # path, size, mtime, inode, known
    retry: dict[bytes, tuple[int, int]]  # files in error: (size, mtime) when last read
    gone: dict[bytes, tuple[int, int]]  # known paths not found (removed or moved)
    unchanged: int


def normalise_roots(paths: Iterable[str | os.PathLike[str] | bytes]) -> list[bytes]:
    """Absolute, deduplicated roots as bytes; a root inside another root is dropped."""
    roots = sorted({os.fsencode(os.path.abspath(os.fsencode(p))) for p in paths})
    kept: list[bytes] = []
    for root in roots:
        if not any(root.startswith(_prefix(parent)) for parent in kept):
            kept.append(root)
    return kept


_SEP = os.sep.encode()


def _prefix(root: bytes) -> bytes:
    return root if root.endswith(_SEP) else root + _SEP


def scan(
    db: Database,
    paths: Sequence[str | os.PathLike[str] | bytes],
    *,
    cancel: threading.Event | None = None,
    cfg: ScanCfg = ScanCfg(),
) -> Generator[Progress, None, ScanReport]:
    """Bring the library up to date with the files under ``paths``.

    Args:
        db: the library, open for writing.
        paths: folders (or single files) to index; each folder is remembered in ``folders``.
        cancel: set it to stop soon; committed work stays, the rest waits for the next scan.
        cfg: tuning.

    Yields:
        Progress about ``cfg.progress_hz`` times a second.

    Returns:
        The report: counts and every file under ``paths`` that is in error or damaged.
    """
    started = time.monotonic()
    cancel = cancel or threading.Event()
    report = ScanReport()
    roots = normalise_roots(paths)
    _remember_folders(db, roots)
    state = WalkState.empty()
    plan = yield from _walk_and_diff(db, roots, state, cancel, cfg)
    report.unchanged = plan.unchanged
    if not cancel.is_set():
        yield from _read_and_store(db, plan, report, cancel, cfg)
    if not cancel.is_set():
        _remove_gone(db, plan, state, report)
        with db.transaction():
            db.conn.executemany(
                "UPDATE folders SET last_scan_at = ? WHERE path = ?",
                [(time.time(), root) for root in roots],
            )
    report.cancelled = cancel.is_set()
    report.errors = _problems(db, roots, state)
    report.seconds = time.monotonic() - started
    yield Progress(len(plan.to_read), len(plan.to_read), "Done")
    return report


def run_scan(
    db: Database,
    paths: Sequence[str | os.PathLike[str] | bytes],
    *,
    cancel: threading.Event | None = None,
    cfg: ScanCfg = ScanCfg(),
    on_progress: Callable[[Progress], None] | None = None,
) -> ScanReport:
    """Run :func:`scan` to the end and return its report (for callers without a loop)."""
    generator = scan(db, paths, cancel=cancel, cfg=cfg)
    while True:
        try:
            progress = next(generator)
        except StopIteration as stop:
            return stop.value
        if on_progress is not None:
            on_progress(progress)


def _remember_folders(db: Database, roots: list[bytes]) -> None:
    """Add the scanned folders; one inside a known folder is covered by it, not added."""
    now = time.time()
    with db.transaction() as conn:
        known = [path for (path,) in conn.execute("SELECT path FROM folders")]
        for root in roots:
            if not os.path.isdir(root) or any(root.startswith(_prefix(k)) for k in known):
                continue
            # A new folder around known ones replaces them (their tracks are under it).
            prefix = _prefix(root)
            conn.execute(
                "DELETE FROM folders WHERE path >= ? AND path < ?",
                (prefix, _upper_bound(prefix)),
            )
            conn.execute(
                "INSERT INTO folders (path, added_at) VALUES (?, ?) ON CONFLICT (path) DO NOTHING",
                (root, now),
            )


# -- phase 1: walk and diff ------------------------------------------------------------------


def _walk_and_diff(
    db: Database, roots: list[bytes], state: WalkState, cancel: threading.Event, cfg: ScanCfg
) -> Generator[Progress, None, _Plan]:
    # One query per root (a range scan of the path index), one dict: the unchanged path
    # costs a dict pop and two int compares per file.
    known: dict[bytes, tuple[int, int]] = {}
    for root in roots:
        prefix = _prefix(root)
        rows = db.conn.execute(
            "SELECT path, size, mtime_ns FROM tracks WHERE path >= ? AND path < ? OR path = ?",
            (prefix, _upper_bound(prefix), root),
        )
        known.update({path: (size, mtime) for path, size, mtime in rows})
    retry: dict[bytes, tuple[int, int]] = {}
    for (path,) in db.conn.execute("SELECT path FROM tracks WHERE status = 'error'"):
        if path in known:
            retry[path] = known[path]
            known[path] = (-1, -1)  # never equal: files in error are read again
    to_read: list[FileEntry] = []
    found = 0
    throttle = _Throttle(cfg.progress_hz)
    for root in roots:
        found_here = 0
        for found_here in diff_tree(root, known, to_read, state):
            if throttle.due():
                total = found + found_here
                yield Progress(total, None, f"Looking for music: {total:,} files")
                if cancel.is_set():
                    break
        found += found_here
        if cancel.is_set():
            break
    return _Plan(to_read, retry, known, found - len(to_read))


def _upper_bound(prefix: bytes) -> bytes:
    # Paths under b"/a/" sort in [b"/a/", b"/a0"): the separator's successor ends the range.
    return prefix[:-1] + bytes([prefix[-1] + 1])


# -- phase 2: read tags and store --------------------------------------------------------------


def _read_and_store(
    db: Database, plan: _Plan, report: ScanReport, cancel: threading.Event, cfg: ScanCfg
) -> Generator[Progress, None, None]:
    total = len(plan.to_read)
    if not total:
        return
    movable = _move_candidates(db, plan) if plan.gone else {}
    throttle = _Throttle(cfg.progress_hz)
    batch: list[tuple[ReadResult, FileEntry]] = []
    batch_started = time.monotonic()
    results = zip(_read_all(plan.to_read, cfg, cancel), plan.to_read, strict=False)
    for done, (result, item) in enumerate(results, start=1):
        batch.append((result, item))
        full = len(batch) >= cfg.batch_files
        if full or time.monotonic() - batch_started >= cfg.batch_seconds:
            _store(db, batch, plan, movable, report)
            batch, batch_started = [], time.monotonic()
        if throttle.due():
            yield Progress(done, total, f"Reading tags: {done:,} of {total:,} files")
        if cancel.is_set():
            break
    if batch:
        _store(db, batch, plan, movable, report)


def _read_all(
    items: list[FileEntry], cfg: ScanCfg, cancel: threading.Event
) -> Iterator[ReadResult]:
    paths = [item[0] for item in items]
    workers = cfg.workers if cfg.workers is not None else usable_cpus()
    if workers <= 1 or len(paths) < cfg.pool_threshold:
        for path in paths:
            yield read_file(path)
        return
    yield from read_in_processes(
        paths,
        workers=workers,
        chunk_files=cfg.chunk_files,
        start_method=cfg.start_method or default_start_method(),
        file_timeout_s=cfg.file_timeout_s,
        cancel=cancel,
    )


def _move_candidates(
    db: Database, plan: _Plan
) -> dict[tuple[int, bytes | None], list[_Gone]]:
    """(size, fingerprint) -> ids of vanished tracks, to recognise moved files."""
    candidates: dict[tuple[int, bytes | None], list[_Gone]] = {}
    gone = list(plan.gone)
    for start in range(0, len(gone), 500):
        chunk = gone[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        rows = db.conn.execute(
            f"SELECT id, path, size, fingerprint FROM tracks WHERE path IN ({marks})", chunk
        )
        for track_id, path, size, print_ in rows:
            if print_ is not None:
                candidates.setdefault((size, print_), []).append((track_id, path))
    return candidates


def _store(
    db: Database,
    batch: list[tuple[ReadResult, FileEntry]],
    plan: _Plan,
    movable: dict[tuple[int, bytes | None], list[_Gone]],
    report: ScanReport,
) -> None:
    now = time.time()
    upserts = []
    moves = []
    for result, (path, size, mtime, inode, was_known) in batch:
        row = (*result, size, mtime, inode, now, now)
        candidates = movable.get((size, result.fingerprint)) if not was_known else None
        if candidates:
            track_id, old_path = candidates.pop()
            # The row follows the file: its id, and so its embeddings, survive the move.
            moves.append((*row[:-2], now, track_id))
            plan.gone.pop(old_path, None)
            continue
        upserts.append(row)
        if not was_known:
            report.added += 1
        elif result.status == "error" and plan.retry.get(path) == (size, mtime):
            report.unchanged += 1  # still broken, and nothing changed
        else:
            report.updated += 1
    with db.transaction() as conn:
        # New rows are full-text indexed in one statement at the end (see schema fts_sync);
        # updated and moved rows go through the update trigger as usual.
        conn.execute("UPDATE fts_sync SET deferred = 1")
        (last_id,) = conn.execute("SELECT COALESCE(MAX(id), 0) FROM tracks").fetchone()
        if moves:
            conn.executemany(_MOVE, moves)
        conn.executemany(_UPSERT, upserts)
        conn.execute(_INDEX_NEW, (last_id,))
        conn.execute("UPDATE fts_sync SET deferred = 0")
    report.moved += len(moves)
    report.updated += len(moves)


# -- phase 3: removals and problems ---------------------------------------------------------------


def _remove_gone(db: Database, plan: _Plan, state: WalkState, report: ScanReport) -> None:
    # Never drop tracks under a folder that could not be listed (unmounted, no permission).
    blocked = tuple(_prefix(folder) for folder in state.unlisted)
    blocked_exact = set(state.unlisted)
    gone = [
        (path,)
        for path in plan.gone
        if not (blocked and path.startswith(blocked)) and path not in blocked_exact
    ]
    if not gone:
        return
    for start in range(0, len(gone), 5000):
        with db.transaction():
            db.conn.executemany("DELETE FROM tracks WHERE path = ?", gone[start : start + 5000])
    report.removed = len(gone)


def _problems(db: Database, roots: list[bytes], state: WalkState) -> list[ScanError]:
    prefixes = tuple(_prefix(root) for root in roots)
    exact = set(roots)
    errors = [
        ScanError(path, error or status)
        for path, status, error in db.conn.execute(
            "SELECT path, status, error FROM tracks WHERE status != 'ok'"
        )
        if path.startswith(prefixes) or path in exact
    ]
    errors += [ScanError(problem.path, problem.error) for problem in state.problems]
    return sorted(errors, key=lambda error: error.path)
