"""``slapdesk runs`` and ``slapdesk undo`` on a real library and real files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from slapdesk import cli
from slapdesk.library.demo.audio_files import make_track
from slapdesk.library.store.database import Database
from slapdesk.library.tags import write as tagwrite
from slapdesk.library.tags.journal import apply_changes
from slapdesk.library.tags.plan import PlannedChange
from tests.slapdesk.library.tags.write_helpers import all_tags, index_tracks


@pytest.fixture
def tagged_library(tmp_path: Path) -> tuple[Path, list[Path], dict]:
    library = tmp_path / "library.sqlite"
    songs = [
        make_track(tmp_path / "a", "mp3", tags={"title": "A", "genre": ["Rock"]}),
        make_track(tmp_path / "b", "flac", tags={"title": "B"}),
    ]
    before = {p: all_tags(p) for p in songs}
    with Database(library) as db:
        index_tracks(db, songs)
        changes = [PlannedChange.make(p, "genre", ["Blues", "Soul"]) for p in songs]
        apply_changes(db, changes, "fill-empty", model_id="model-x")
    return library, songs, before


def test_runs_lists_the_run(tagged_library, capsys) -> None:
    library, _songs, _before = tagged_library
    assert cli.main(["--library", str(library), "runs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "RUN", "DATE", "VOCAB", "POLICY", "STATUS", "FILES", "APPLIED", "FAILED", "UNDONE",
    ]  # fmt: skip
    cells = lines[1].split()
    assert cells[0] == "1" and cells[3:] == ["genre", "fill-empty", "done", "2", "3", "0", "0"]
    assert cli.main(["--library", str(library), "runs", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["run"] == 1 and record["model_id"] == "model-x" and record["applied"] == 3


def test_undo_restores_and_runs_shows_it(tagged_library, capsys) -> None:
    library, songs, before = tagged_library
    assert tagwrite.read_fields(songs[1], ["genre"]) == {"genre": ["Blues", "Soul"]}
    assert cli.main(["--library", str(library), "undo"]) == 0
    assert capsys.readouterr().out == "Undo run 2: restored 2 file(s)\n"
    assert {p: all_tags(p) for p in songs} == before
    cli.main(["--library", str(library), "runs"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[3:] == ["genre", "undo", "of", "1", "done", "2", "3", "0", "0"]
    assert lines[2].split()[-3:] == ["0", "0", "3"]


def test_undo_reports_skipped_file(tagged_library, capsys) -> None:
    library, songs, _before = tagged_library
    later = songs[0].stat().st_mtime_ns + 10**9
    os.utime(songs[0], ns=(later, later))
    assert cli.main(["--library", str(library), "undo", "1"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Undo run 2: restored 1 file(s), 1 skipped"
    assert out[1].startswith(f"  skipped {songs[0]}: changed on disk since it was indexed")


def test_undo_with_nothing_to_undo(tmp_path: Path, capsys) -> None:
    library = tmp_path / "library.sqlite"
    Database(library).close()
    assert cli.main(["--library", str(library), "undo"]) == 2
    assert "there is no tagging run to undo" in capsys.readouterr().err
    assert cli.main(["--library", str(tmp_path / "missing.sqlite"), "runs"]) == 2
    assert cli.main(["--library", str(library), "runs"]) == 0
    assert capsys.readouterr().out.startswith("No tagging runs yet.")
