"""Tag writes land only inside the library's folders: a symlink out is reported, not followed."""

from __future__ import annotations

from pathlib import Path

from slapdesk.library.demo.audio_files import make_track
from slapdesk.library.scan.scanner import ScanCfg, run_scan
from slapdesk.library.store.database import Database
from slapdesk.library.tags import write as tagwrite
from slapdesk.library.tags.journal import apply_changes, undo
from slapdesk.library.tags.plan import PlannedChange


def test_symlink_to_a_file_outside_every_library_folder_is_not_followed(tmp_path: Path) -> None:
    music, outside = tmp_path / "music", tmp_path / "outside"
    music.mkdir()
    outside.mkdir()
    foreign = make_track(outside / "not-yours", "flac", tags={"title": "Keep"})
    mine = make_track(music / "mine", "flac", tags={"title": "Mine"})
    out_link, in_link = music / "out.flac", music / "in.flac"
    out_link.symlink_to(foreign)
    in_link.symlink_to(mine)
    untouched = foreign.read_bytes()
    with Database(tmp_path / "library.sqlite") as db:
        run_scan(db, [music], cfg=ScanCfg(workers=0))
        changes = [PlannedChange.make(p, "mood", ["Calm"]) for p in (out_link, in_link)]
        result = apply_changes(db, changes)
        assert result.written == [in_link]
        assert [path for path, _ in result.skipped] == [out_link]
        assert result.skipped[0][1] == (
            f"it is a symbolic link to {foreign}, outside the library's folders; "
            "SlapDesk writes only inside them (not followed)"
        )
        assert foreign.read_bytes() == untouched
        assert tagwrite.read_fields(mine, ["slapdesk_mood"]) == {"slapdesk_mood": ["Calm"]}
        # The link still points at the file written, so undo goes through it too.
        assert undo(db).written == [in_link]
        assert tagwrite.read_fields(mine, ["slapdesk_mood"]) == {"slapdesk_mood": []}


def test_library_without_folders_never_follows_a_symlink(tmp_path: Path) -> None:
    real = make_track(tmp_path / "real", "ogg")
    link = tmp_path / "link.ogg"
    link.symlink_to(real)
    with Database(tmp_path / "library.sqlite") as db:
        result = apply_changes(db, [PlannedChange.make(link, "mood", ["Calm"]),
                                    PlannedChange.make(real, "genre", ["Folk"])])  # fmt: skip
    assert [p for p, _ in result.skipped] == [link] and result.written == [real]
    assert tagwrite.read_fields(real, ["slapdesk_mood"]) == {"slapdesk_mood": []}
