"""A library as a training manifest: one JSONL row per track whose tags describe its sound.

The engine trains from manifests only (``engine.data.read_manifest``); this is how the app hands
it a library. Captions come from each track's own tags (:mod:`.tag_captions`). A row is
``{"audio": absolute path, "captions": [...], "track_id": id}``; JSON's escapes keep file names
that are not UTF-8 exactly as the file system spells them.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from engine.atomic_files import atomic_output
from slapdesk.library.jobs.tag_captions import clean_tags, compose_captions
from slapdesk.library.store.database import open_readonly
from slapdesk.library.store.track_rows import TrackRow, all_track_ids, fetch_rows

log = logging.getLogger(__name__)

MANIFEST_NAME = "library-manifest.jsonl"  # the name slapdesk-train gives it in a run folder
_BATCH = 2000  # tracks read per query: memory stays flat for any library size


@dataclass(frozen=True)
class SkippedTrack:
    """A track left out of the manifest, with the reason."""

    track_id: int
    path: str
    reason: str

    def __str__(self) -> str:
        return f"track {self.track_id}: {self.reason}: {self.path}"


@dataclass
class LibraryManifest:
    """What :func:`write_training_manifest` wrote."""

    library: Path  # the library file read
    path: Path  # the manifest written
    tracks: int = 0  # rows written (tracks with captions)
    untagged: int = 0  # tracks without genre, mood or a descriptive comment
    skipped: list[SkippedTrack] = field(default_factory=list)  # unreadable or gone

    def summary(self) -> str:
        """One line for the log."""
        return (
            f"library {self.library.name}: {self.tracks} tracks with captions from their tags, "
            f"{self.untagged} without usable tags, {len(self.skipped)} skipped"
        )


def _caption_tags(row: TrackRow) -> dict[str, object]:
    return {
        "genre": list(row.genre),
        "mood": list(row.mood),
        "artist": row.artist,
        "albumartist": row.albumartist,
        "album": row.album,
        "year": row.year,
        "bpm": row.bpm,
        "comment": row.comment,
    }


def _entry(row: TrackRow, check_files: bool) -> dict[str, object] | SkippedTrack | None:
    """The manifest row of one track, why it is skipped, or None when its tags say nothing."""
    if row.status == "error":  # the scanner could not read it; decoding would fail too
        return SkippedTrack(row.id, row.path, "track status error")
    if check_files and not os.path.isfile(row.path):
        return SkippedTrack(row.id, row.path, "audio file not found")
    captions = compose_captions(clean_tags(_caption_tags(row)), key=row.path)
    if not captions:
        return None
    return {"audio": row.path, "captions": captions, "track_id": row.id}


def write_training_manifest(
    library: str | os.PathLike[str], target: str | os.PathLike[str], check_files: bool = True
) -> LibraryManifest:
    """Write every usable track of ``library`` as a JSONL training manifest, atomically.

    Args:
        library: the library's SQLite file (read-only; another process may be writing it).
        target: the manifest to write (replaced as a whole, its folder created).
        check_files: leave out tracks whose file is gone.

    Returns:
        What was written and what was left out.

    Raises:
        LibraryError: ``library`` is missing or not a SlapDesk library.
        OSError: ``target`` cannot be written.
    """
    report = LibraryManifest(Path(library), Path(target))
    conn = open_readonly(library)
    try:
        with atomic_output(report.path, "w", encoding="utf-8", newline="\n") as out:
            _write_rows(conn, out, report, check_files)
    finally:
        conn.close()
    for item in report.skipped:
        log.warning("not in the manifest: %s", item)
    log.info("%s", report.summary())
    return report


def _write_rows(
    conn: sqlite3.Connection, out: IO[str], report: LibraryManifest, check_files: bool
) -> None:
    ids = all_track_ids(conn, sort="id")
    for start in range(0, len(ids), _BATCH):
        rows = fetch_rows(conn, ids[start : start + _BATCH])
        for track_id in ids[start : start + _BATCH]:
            row = rows.get(track_id)
            entry = None if row is None else _entry(row, check_files)
            if isinstance(entry, SkippedTrack):
                report.skipped.append(entry)
            elif entry is None:
                report.untagged += row is not None
            else:
                # ensure_ascii: a surrogate-escaped (non-UTF-8) name survives as "\udcXX".
                out.write(json.dumps(entry, ensure_ascii=True) + "\n")
                report.tracks += 1
