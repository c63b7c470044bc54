"""Exactness: fields SlapDesk did not mean to change come back byte for byte, after write and undo.

ID3v2.3 and v2.4 (MP3, WAV, AIFF) with TMOO, TDRC, a multi-value TCON, COMM, TXXX and APIC;
Vorbis comments (FLAC, Ogg, Opus) and MP4 items with a cover. Compared on the file's bytes
(``raw_tags``), frame by frame, not through mutagen's translated view.
"""

from __future__ import annotations

from pathlib import Path

import mutagen
import pytest
from mutagen.id3 import APIC, COMM, ID3, TCON, TDRC, TIT2, TMOO, TXXX

from slapdesk.library.demo.audio_files import make_track
from slapdesk.library.store.database import Database
from slapdesk.library.tags import write as tagwrite
from slapdesk.library.tags.journal import apply_changes, undo
from slapdesk.library.tags.plan import PlannedChange

from .raw_tags import frame_key, id3_frames, mp4_items, vorbis_comments
from .torn_helpers import COVER, make_case
from .write_helpers import index_tracks

GENRES = {"fits": ("Blues", "Soul"), "grows": tuple(f"genre {i} " + "g" * 700 for i in range(20))}
OURS = {"TCON", "TMOO", "TXXX:MOOD", "TXXX:SLAPDESK_GENRE", "TXXX:SLAPDESK_MOOD"}


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(tmp_path / "library.sqlite")
    yield database
    database.close()


def _id3_file(folder: Path, fmt: str, version: int) -> Path:
    """A file whose ID3 tag holds every kind of frame a user's might, saved as v2.``version``."""
    path = make_track(folder / f"{fmt}-v2{version}", fmt, seconds=0.3)
    audio = mutagen.File(path)
    if audio.tags is None:
        audio.add_tags()
    tags: ID3 = audio.tags
    tags.add(TIT2(encoding=1, text=["Título"]))
    tags.add(TMOO(encoding=3, text=["Calm"]))  # v2.4 only, yet found in v2.3 tags in the wild
    tags.add(TDRC(encoding=0, text=["1999-05-01"]))
    tags.add(TCON(encoding=1, text=["Rock", "Jazz"]))
    tags.add(COMM(encoding=1, lang="eng", desc="", text=["made by hand"]))
    tags.add(TXXX(encoding=1, desc="CATALOG", text=["ABC-1", "ABC-2"]))
    tags.add(APIC(encoding=0, mime="image/jpeg", type=3, desc="Cover", data=COVER[:20_000]))
    # v23_sep=None: the multi-value frames stay NUL-separated, as other taggers write them.
    audio.save(v2_version=version, v23_sep=None)
    return path


def _run(db: Database, path: Path, genres: tuple[str, ...]) -> None:
    changes = [
        PlannedChange.make(path, "genre", genres),
        PlannedChange.make(path, "mood", ["Warm"]),
    ]
    result = apply_changes(db, changes, "replace")
    assert result.written == [path] and not result.failed


def _others(frames: list) -> list:
    return sorted(f for f in frames if frame_key(f) not in OURS)


@pytest.mark.parametrize("size", sorted(GENRES))
@pytest.mark.parametrize(
    ("fmt", "version"), [("mp3", 3), ("mp3", 4), ("wav", 3), ("wav", 4), ("aiff", 3), ("aiff", 4)]
)
def test_id3_frames_stay_exact_after_write_and_undo(
    db: Database, tmp_path: Path, fmt: str, version: int, size: str
) -> None:
    path = _id3_file(tmp_path, fmt, version)
    before_version, before = id3_frames(path)
    assert before_version == version
    index_tracks(db, [path])
    _run(db, path, GENRES[size])
    after_version, after = id3_frames(path)
    assert after_version == version
    assert _others(after) == _others(before)  # TMOO, TDRC, COMM, TXXX, APIC: byte for byte
    keys = {frame_key(f) for f in after}
    assert {"TDRC", "TMOO", "TXXX:CATALOG", "APIC", "COMM"} <= keys
    assert "TYER" not in keys
    stored = type(mutagen.File(path))(path, translate=False).tags
    joined = "; ".join(GENRES[size])
    if version == 3:  # no multi-value frames in v2.3: our values joined, mood in TXXX:MOOD
        assert stored["TCON"].text == [joined]
        assert stored["TXXX:MOOD"].text == ["Warm"]
        assert stored["TMOO"].text == ["Calm"]  # the user's frame, untouched
    else:
        assert stored["TCON"].text == list(GENRES[size])
        assert stored["TMOO"].text == ["Warm"]
    undone = undo(db)
    assert undone.written == [path] and not undone.failed and not undone.skipped
    assert sorted(id3_frames(path)[1]) == sorted(before)  # every frame, ours too
    assert type(mutagen.File(path))(path, translate=False).tags["TCON"].text == ["Rock", "Jazz"]


@pytest.mark.parametrize("size", sorted(GENRES))
@pytest.mark.parametrize(
    "flavour", ["flac", "ogg-vorbis", "opus", "m4a-aac-moov-first", "m4a-alac"]
)
def test_other_containers_stay_exact_after_write_and_undo(
    db: Database, tmp_path: Path, flavour: str, size: str
) -> None:
    path = make_case(tmp_path, flavour, cover=True)
    mp4 = path.suffix == ".m4a"
    ours = {"GENRE", "MOOD", "SLAPDESK_GENRE", "SLAPDESK_MOOD"}

    def mp4_name(name: bytes, raw: bytes) -> str:
        if name != b"----":
            return "GENRE" if name == b"\xa9gen" else name.decode("latin-1")
        start = raw.index(b"name") + 8  # after the name atom's type and version/flags
        return raw[start : start + int.from_bytes(raw[start - 12 : start - 8], "big") - 12].decode()

    def others() -> list:
        if mp4:
            return [(n, raw) for n, raw in mp4_items(path) if mp4_name(n, raw) not in ours]
        return [(k, v) for k, v in vorbis_comments(path) if k.upper() not in ours]

    before, before_all = others(), (mp4_items(path) if mp4 else vorbis_comments(path))
    index_tracks(db, [path])
    _run(db, path, GENRES[size])
    assert others() == before
    assert tagwrite.read_fields(path, ["genre", "mood"]) == {
        "genre": list(GENRES[size]),
        "mood": ["Warm"],
    }
    undone = undo(db)
    assert undone.written == [path] and not undone.failed
    restored = mp4_items(path) if mp4 else vorbis_comments(path)
    assert sorted(restored) == sorted(before_all)
