"""A tagging run cut mid-write: start-up recovery, then undo, give back the original file.

The file-level torn-write test proves every cut ends old or new; this one goes through the
journal as the app does: the run journals, writes, is cut at a 4 KiB boundary of its file
writes, the whole library folder (music and database) is imaged as the cut leaves it and put
in place of the live one, ``journal.recover`` runs, and the file is the old or the new one;
where the run got through, ``undo`` then restores the original tags and audio exactly.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from slapdesk.library.store.database import Database
from slapdesk.library.tags import journal
from slapdesk.library.tags import write as tagwrite
from slapdesk.library.tags.plan import PlannedChange

from .torn_helpers import crash_image, logged, make_case, sample
from .write_helpers import all_tags, index_tracks

GENRES = {"fits": ("Blues", "Soul"), "grows": tuple(f"genre {i} " + "g" * 700 for i in range(20))}


class _Library:
    """A library folder (music + database) rebuilt fresh for each cut."""

    def __init__(self, tmp_path: Path, original: Path) -> None:
        self.root, self.image = tmp_path / "root", tmp_path / "image"
        self.original = original
        self.file = self.root / "music" / original.name

    def fresh(self) -> Database:
        shutil.rmtree(self.root, ignore_errors=True)
        self.file.parent.mkdir(parents=True)
        shutil.copy2(self.original, self.file)
        db = Database(self.root / "library.sqlite")
        index_tracks(db, [self.file])
        return db

    def crash(self, db: Database, budget: int, genres: tuple[str, ...]) -> Database:
        """Run the tagging cut after ``budget`` bytes; reopen the library as the cut left it."""
        changes = [PlannedChange.make(self.file, "genre", genres)]
        crash_image(
            budget, self.root, self.image, lambda: journal.apply_changes(db, changes, "replace")
        )
        db.close()
        shutil.rmtree(self.root)
        self.image.rename(self.root)
        return Database(self.root / "library.sqlite")


CASES = [(f, "fits") for f in ("mp3-v2.3", "flac", "ogg-vorbis", "m4a-aac-moov-first", "wav")]
CASES += [("mp3-v2.3", "grows"), ("m4a-aac-moov-first", "grows")]  # the copy: same for all


@pytest.mark.parametrize(("flavour", "size"), CASES)
def test_cut_run_recovers_and_undo_restores_the_original(
    tmp_path: Path, flavour: str, size: str
) -> None:
    original = make_case(tmp_path, flavour, cover=True)
    old, old_tags, audio_md5 = (
        original.read_bytes(),
        all_tags(original),
        tagwrite.packet_md5(original),
    )
    library = _Library(tmp_path, original)
    db = library.fresh()
    changes = [PlannedChange.make(library.file, "genre", GENRES[size])]
    result, log = logged(lambda: journal.apply_changes(db, changes, "replace"))
    assert result.written == [library.file]
    new = library.file.read_bytes()
    db.close()
    points = sorted({p for _kind, a, b in log.phases() for p in sample(a, b, 2)} | {log.total + 1})
    seen = set()
    for budget in points:
        db = library.crash(library.fresh(), budget, GENRES[size])
        journal.recover(db)
        data = library.file.read_bytes()
        assert data in (old, new), f"{flavour} {size}: cut at {budget:,} left a mixed file"
        pending = db.execute("SELECT COUNT(*) FROM tag_changes WHERE state = 'pending'")
        assert pending.fetchone() == (0,)
        if data == new:
            seen.add("new")
            undone = journal.undo(db)
            assert undone.written == [library.file] and not undone.failed
            assert all_tags(library.file) == old_tags
            assert tagwrite.packet_md5(library.file) == audio_md5
        else:
            seen.add("old")
            with pytest.raises(journal.NothingToUndoError):
                journal.undo(db)
        db.close()
    assert seen == {"old", "new"}
    sys.stderr.write(f"torn runs {flavour} {size}: {len(points)} cut points\n")
