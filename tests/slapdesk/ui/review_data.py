"""A library file with many tracks and tag proposals but no audio: for review scale tests only."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

from slapdesk.library.store.database import Database

TERMS = ("rock", "jazz", "drums", "piano", "ambient", "folk", "metal", "electronic")
FOLDERS = ("Rock Band/First", "Rock Band/Second", "Jazz Trio/Live", "Field Recordings")


def write_review_library(path: Path, tracks: int, per_track: int = 5, seed: int = 7) -> Path:
    """``tracks`` FLAC rows, ``per_track`` genre proposals each; every 50th silent or broken.

    Every third track already holds its strongest proposal in ``SLAPDESK_GENRE``.
    """
    rng = random.Random(seed)
    db = Database(path)
    rows, proposals, embeddings = [], [], []
    for i in range(1, tracks + 1):
        terms = rng.sample(TERMS, per_track)
        scores = sorted((round(rng.random(), 3) for _ in terms), reverse=True)
        tags = {"SLAPDESK_GENRE": [terms[0]]} if i % 3 == 0 else {}
        broken = i % 50 == 25
        rows.append((i, os.fsencode(f"/music/{FOLDERS[i % 4]}/{i:05d}.flac"), f"Song {i:05d}",
                     f"Artist {i % 40}", json.dumps(["rock"]), json.dumps(tags), "flac",
                     "error" if broken else "ok", "[Errno 1094995529] Invalid data" if broken
                     else None, 1000, 0, 0.0, 0.0))
        if i % 50 == 0:
            embeddings.append((i, "m1", 1, b"\0\0\0\0", 0.0, "silence"))
        proposals += [(i, "m1", "genre", t, s, 0.0) for t, s in zip(terms, scores, strict=True)]
    with db.transaction() as conn:
        conn.execute("INSERT INTO models (id, name, dim, added_at) VALUES ('m1', 'm1', 1, 0)")
        conn.executemany(
            "INSERT INTO tracks (id, path, title, artist, genre, tags, format, status, error, "
            "size, mtime_ns, added_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        conn.executemany("INSERT INTO embeddings (track_id, model_id, dim, vector, created_at, "
                         "abstain) VALUES (?,?,?,?,?,?)", embeddings)
        conn.executemany("INSERT INTO tag_proposals (track_id, model_id, vocab, tag, score, "
                         "created_at) VALUES (?,?,?,?,?,?)", proposals)
    db.close()
    return path
