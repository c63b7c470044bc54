"""``slapdesk tag`` proposes, applies with the chosen policy, and ``slapdesk undo`` restores."""

from __future__ import annotations

import json
from pathlib import Path

import mutagen
import pytest

from slapdesk.cli import main
from slapdesk.library.store.database import Database


@pytest.fixture
def embedded_library(
    tmp_path: Path, music_folder: Path, tiny_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    library = tmp_path / "lib.sqlite"
    assert main(["--library", str(library), "models", "use", str(tiny_bundle)]) == 0
    # scan --embed chains into the embedding job with the active model.
    assert main(["--library", str(library), "scan", "--embed", str(music_folder)]) == 0
    with Database(library) as db:
        assert db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0] == 8
    return library


def _genres(path: Path) -> str:
    return str(mutagen.File(path).tags)


def test_dry_run_writes_nothing_and_apply_is_undoable(
    embedded_library: Path, music_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flac = next(music_folder.rglob("*.flac"))
    before = flac.read_bytes()
    capsys.readouterr()
    lib = ["--library", str(embedded_library)]
    assert main([*lib, "tag", "--terms", "lofi, vaporwave, polka", "--threshold", "0",
                 "--top-k", "2", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 8
    assert all(len(row["proposed"]) == 2 for row in rows)
    assert rows[0]["current"] == ["Rock", "Jazz"]
    assert flac.read_bytes() == before  # a dry run never touches a file

    assert main([*lib, "tag", "--terms", "lofi, vaporwave, polka", "--threshold", "0",
                 "--top-k", "2", "--apply"]) == 0
    out = capsys.readouterr().out
    assert "wrote 8 file(s)" in out
    tags = mutagen.File(flac).tags
    assert len(tags["SLAPDESK_GENRE"]) == 2
    assert set(tags["SLAPDESK_GENRE"]) <= {"lofi", "vaporwave", "polka"}
    assert tags["GENRE"] == ["Rock", "Jazz"]  # own-fields: the user's genre untouched

    assert main([*lib, "undo"]) == 0
    assert "SLAPDESK_GENRE" not in mutagen.File(flac).tags
    assert mutagen.File(flac).tags["GENRE"] == ["Rock", "Jazz"]


def test_unknown_vocabulary_is_a_clear_error(
    embedded_library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--library", str(embedded_library), "tag", "--vocab", "nope"]) == 2
    assert "no vocabulary named 'nope'" in capsys.readouterr().err
