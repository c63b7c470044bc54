"""The file-level safe writer on real files of every format.

What it must hold: symlinks resolved; in place only when that is all-or-nothing, else the
verified atomic rewrite; the ID3 version kept and only our frames touched; on a full disk an
error, and the original intact.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import mutagen
import pytest

from slapdesk.library.demo.audio_files import make_track
from slapdesk.library.tags import write as tagwrite
from slapdesk.library.tags.containers import container_key, container_kind
from slapdesk.library.tags.write import FileChangedError, TagWriteError, write_fields

from .write_helpers import all_tags, read_only, temp_files, without

OURS = {"slapdesk_genre": ["Blues", "Soul"], "slapdesk_mood": ["Calm"]}
BIG = {"slapdesk_genre": [f"genre number {i} " + "x" * 600 for i in range(20)]}  # ~12 KB


def keys_of(path: Path, *fields: str) -> list[str]:
    kind = container_kind(mutagen.File(path))
    return [container_key(kind, field) for field in fields]


@pytest.mark.parametrize("force_atomic", [False, True], ids=["in-place", "atomic"])
def test_round_trip_own_fields(tagged_track: Path, force_atomic: bool) -> None:
    before = all_tags(tagged_track)
    audio_md5 = tagwrite.packet_md5(tagged_track)
    result = write_fields(tagged_track, OURS, force_atomic=force_atomic)
    assert result.method == ("atomic" if force_atomic else "in-place")
    assert tagwrite.read_fields(tagged_track, list(OURS)) == OURS
    after = all_tags(tagged_track)
    ours = keys_of(tagged_track, *OURS)
    assert without(after, *ours) == without(before, *ours)
    assert tagwrite.packet_md5(tagged_track) == audio_md5
    # FFmpeg reads what we wrote (it shows the first value of a multi-value field).
    meta = tagwrite.ffmpeg_metadata(tagged_track)
    assert meta["SLAPDESK_GENRE"].startswith("Blues")
    assert meta["SLAPDESK_MOOD"] == "Calm"
    assert meta["TITLE"] == "Test Tone"
    assert temp_files(tagged_track.parent) == []


def test_tag_outgrowing_padding_takes_atomic_path(tagged_track: Path) -> None:
    before = all_tags(tagged_track)
    audio_md5 = tagwrite.packet_md5(tagged_track)
    inode = tagged_track.stat().st_ino
    result = write_fields(tagged_track, BIG)
    assert result.method == "atomic"
    assert result.after.inode != inode  # os.replace swapped in the verified copy
    assert tagwrite.read_fields(tagged_track, ["slapdesk_genre"]) == BIG
    ours = keys_of(tagged_track, "slapdesk_genre")
    assert without(all_tags(tagged_track), *ours) == without(before, *ours)
    assert tagwrite.packet_md5(tagged_track) == audio_md5
    assert tagwrite.ffmpeg_metadata(tagged_track)["SLAPDESK_GENRE"].startswith("genre number 0")
    assert temp_files(tagged_track.parent) == []
    # Writing the same values again changes nothing.
    assert write_fields(tagged_track, BIG).method == "unchanged"


def test_standard_fields_multi_value_per_container(tagged_track: Path, format_name: str) -> None:
    write_fields(tagged_track, {"genre": ["Blues", "Soul"], "mood": ["Calm", "Warm"]})
    audio = mutagen.File(tagged_track)
    tags = audio.tags
    if format_name in {"mp3", "wav", "aiff"}:
        assert tags.version[:2] == (2, 4)
        assert tags["TCON"].text == ["Blues", "Soul"]  # v2.4: NUL-separated values
        assert tags["TMOO"].text == ["Calm", "Warm"]
    elif format_name.startswith("m4a"):
        assert tags["\xa9gen"] == ["Blues", "Soul"]
        assert [bytes(v) for v in tags["----:com.apple.iTunes:MOOD"]] == [b"Calm", b"Warm"]
    else:
        assert [v for k, v in tags if k.upper() == "GENRE"] == ["Blues", "Soul"]  # repeated
        assert tags["MOOD"] == ["Calm", "Warm"]
    # Strongest first: FFmpeg (and many players) show the first value.
    assert tagwrite.ffmpeg_metadata(tagged_track)["GENRE"].startswith("Blues")


@pytest.mark.parametrize("fmt", ["mp3", "wav", "aiff"])
@pytest.mark.parametrize("force_atomic", [False, True], ids=["in-place", "atomic"])
def test_id3v23_file_stays_v23(tmp_path: Path, fmt: str, force_atomic: bool) -> None:
    from tests.conftest import KNOWN_TAGS

    path = make_track(tmp_path / "old", fmt, tags=KNOWN_TAGS)
    audio = mutagen.File(path)
    audio.tags.update_to_v23()
    audio.save(v2_version=3)
    before = all_tags(path)
    audio_md5 = tagwrite.packet_md5(path)
    wanted = {"genre": ["Blues", "Soul"], "mood": ["Calm"], "slapdesk_genre": ["Blues", "Soul"]}
    state = tagwrite.read_tags(path, list(wanted))
    # The writer stores raw values; the planner joins them for v2.3 as the journal does.
    write_fields(path, {f: state.encode(v) for f, v in wanted.items()}, force_atomic=force_atomic)
    tags = type(mutagen.File(path))(path, v2_version=3).tags
    assert tags.version[:2] == (2, 3)
    assert tags["TCON"].text == ["Blues; Soul"]  # v2.3 has no multi-value frames
    assert tags["TXXX:MOOD"].text == ["Calm"]  # v2.3 has no TMOO (Picard's convention)
    assert "TMOO" not in tags
    assert tags["TXXX:SLAPDESK_GENRE"].text == ["Blues; Soul"]
    raw = type(mutagen.File(path))(path, translate=False).tags
    assert raw.version[:2] == (2, 3)
    assert "TYER" in raw  # the user's v2.3 year frame was kept as it was
    after = all_tags(path)
    changed = ("TCON", "TXXX:MOOD", "TXXX:SLAPDESK_GENRE", "TMOO")
    # mutagen translates v2.3 to v2.4 on a plain load; compare what it shows for both.
    assert without(after, *changed) == without(before, *changed)
    assert tagwrite.packet_md5(path) == audio_md5


@pytest.mark.parametrize("fmt", ["wav", "aiff"])
def test_wav_aiff_without_id3_chunk_go_atomic(tmp_path: Path, fmt: str) -> None:
    path = make_track(tmp_path / "bare", fmt)
    assert mutagen.File(path).tags is None
    audio_md5 = tagwrite.packet_md5(path)
    result = write_fields(path, OURS)
    assert result.method == "atomic"
    assert tagwrite.read_fields(path, list(OURS)) == OURS
    assert tagwrite.packet_md5(path) == audio_md5
    assert tagwrite.ffmpeg_metadata(path)["SLAPDESK_MOOD"] == "Calm"


def test_empty_list_removes_only_that_field(tagged_track: Path) -> None:
    before = all_tags(tagged_track)
    write_fields(tagged_track, OURS)
    write_fields(tagged_track, {name: [] for name in OURS})
    assert all_tags(tagged_track) == before


def test_file_changed_since_indexed_is_not_written(tagged_track: Path) -> None:
    st = tagged_track.stat()
    data = tagged_track.read_bytes()
    with pytest.raises(FileChangedError, match="changed on disk since it was indexed"):
        write_fields(tagged_track, OURS, expect=(st.st_size, st.st_mtime_ns - 1))
    assert tagged_track.read_bytes() == data


def test_symlink_is_followed_and_kept(tmp_path: Path) -> None:
    real = make_track(tmp_path / "real", "flac")
    link = tmp_path / "link.flac"
    link.symlink_to(real)
    result = write_fields(link, BIG | {"slapdesk_mood": ["Calm"]}, force_atomic=True)
    assert result.path == real.resolve()
    assert link.is_symlink()
    assert tagwrite.read_fields(real, ["slapdesk_mood"]) == {"slapdesk_mood": ["Calm"]}


def test_read_only_file_reports_clearly_and_stays_intact(tmp_path: Path) -> None:
    path = make_track(tmp_path / "ro", "mp3", tags={"title": "Kept"})
    data = path.read_bytes()
    with read_only(path), pytest.raises(TagWriteError, match="read-only") as caught:
        write_fields(path, OURS)
    assert caught.value.path == path.resolve()
    assert path.read_bytes() == data


def test_read_only_folder_reports_clearly_and_stays_intact(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    path = make_track(folder / "song", "ogg", tags={"title": "Kept"})
    data = path.read_bytes()
    with read_only(folder), pytest.raises(TagWriteError, match="permission") as caught:
        write_fields(path, BIG)  # does not fit the padding: needs a temp file in the folder
    assert "on its folder" in str(caught.value)
    assert path.read_bytes() == data
    assert temp_files(folder) == []


def test_no_space_is_reported_and_original_kept(tagged_track: Path, monkeypatch) -> None:
    data = tagged_track.read_bytes()

    def full_disk(src, dst, length=0):
        dst.write(src.read(100))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    # Fault injection: a real full disk is not available to the test suite.
    monkeypatch.setattr(shutil, "copyfileobj", full_disk)
    with pytest.raises(TagWriteError, match="not enough free disk space"):
        write_fields(tagged_track, BIG)
    assert tagged_track.read_bytes() == data
    assert temp_files(tagged_track.parent) == []


def test_stale_temp_files_are_removed(tmp_path: Path) -> None:
    stale = tmp_path / f"{tagwrite.TEMP_PREFIX}abc{tagwrite.TEMP_SUFFIX}"
    stale.write_bytes(b"half a file")
    keep = tmp_path / "song.partial"
    keep.write_bytes(b"not ours")
    assert tagwrite.remove_stale_temp_files(tmp_path) == [stale]
    assert not stale.exists() and keep.exists()
    assert tagwrite.is_temp_file(stale) and not tagwrite.is_temp_file(keep)


def test_flac_named_mp3_is_sniffed(tmp_path: Path) -> None:
    real = make_track(tmp_path / "x", "flac", tags={"title": "Odd"})
    odd = real.rename(tmp_path / "odd.mp3")
    write_fields(odd, OURS)
    assert tagwrite.read_fields(odd, ["slapdesk_mood"]) == {"slapdesk_mood": ["Calm"]}


def test_unreadable_file_raises_tag_write_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"\0" * 10)
    with pytest.raises(TagWriteError, match=r"junk\.mp3"):
        write_fields(junk, OURS)


def test_unknown_field_is_refused(tagged_track: Path) -> None:
    with pytest.raises(ValueError, match="unknown tag field"):
        write_fields(tagged_track, {"title": ["No"]})


def test_non_utf8_file_name(tmp_path: Path) -> None:
    made = make_track(tmp_path / "tmp", "flac", tags={"title": "Caf\xe9"})
    odd = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), b"caf\xe9 \xff.flac")))
    made.rename(odd)
    audio_md5 = tagwrite.packet_md5(odd)
    assert write_fields(odd, BIG).method == "atomic"  # verified through FFmpeg as well
    assert tagwrite.read_fields(odd, ["slapdesk_genre"]) == BIG
    assert tagwrite.packet_md5(odd) == audio_md5


def test_hard_linked_file_is_not_split(tmp_path: Path) -> None:
    path = make_track(tmp_path / "song", "mp3", tags={"title": "Linked"})
    twin = tmp_path / "twin.mp3"
    os.link(path, twin)
    assert write_fields(path, OURS).method == "in-place"  # fits: both names see it
    assert tagwrite.read_fields(twin, ["slapdesk_mood"]) == {"slapdesk_mood": ["Calm"]}
    data = path.read_bytes()
    with pytest.raises(TagWriteError, match="2 hard links"):
        write_fields(path, BIG)
    assert path.read_bytes() == data == twin.read_bytes()
