"""Opening the app recovers interrupted tag writes before anything else can write."""

from __future__ import annotations

import json
from pathlib import Path

from slapdesk.library.demo.audio_files import make_track
from slapdesk.library.store.database import Database
from slapdesk.library.tags import journal_store
from slapdesk.library.tags import write as tagwrite


def test_build_context_recovers_interrupted_tag_writes(qtbot, tmp_path: Path) -> None:
    from slapdesk.app import build_context
    from slapdesk.ui.tasks import TaskRunner

    library = tmp_path / "library.sqlite"
    (tmp_path / "music").mkdir()
    song = make_track(tmp_path / "music" / "song", "flac")
    with Database(library) as db:
        run_id = journal_store.new_run(db, "genre", "own-fields", None, {})
        stamp = tagwrite.FileStamp.of(song)
        job = journal_store.FileJob(song, None, {"slapdesk_genre": ["X"]}, {}, stamp)
        journal_store.journal_job(db, run_id, job)  # journaled, then the app was killed
    stale = song.parent / f"{tagwrite.TEMP_PREFIX}killed{tagwrite.TEMP_SUFFIX}"
    stale.write_bytes(b"half a copy")

    ctx = build_context(
        library,
        settings_file=tmp_path / "settings.toml",
        runner=TaskRunner.synchronous(),
        save=False,
    )
    try:
        assert not stale.exists()
        row = ctx.database.execute("SELECT state, error, new FROM tag_changes").fetchone()
        assert row[0] == "failed" and json.loads(row[2]) == ["X"]
    finally:
        ctx.runner.shutdown(5000)
        ctx.database.close()
