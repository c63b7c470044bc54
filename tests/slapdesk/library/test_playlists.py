from __future__ import annotations

import os
from pathlib import Path

from slapdesk.library.playlists import (
    PlaylistEntry,
    export_m3u8,
    list_playlists,
    read_m3u8,
    write_m3u8,
)


def test_write_then_read_gives_the_same_paths(tmp_path: Path) -> None:
    inside = str(tmp_path / "music" / "a song.flac")
    outside = "/elsewhere/other.mp3"
    target = tmp_path / "music" / "mix.m3u8"
    count = write_m3u8(target, [PlaylistEntry(inside, 61.4, "Band - Song"),
                                PlaylistEntry(outside)])
    assert count == 2
    assert target.read_text(encoding="utf-8").splitlines() == [
        "#EXTM3U", "#EXTINF:61,Band - Song", "a song.flac", "#EXTINF:-1,other", outside,
    ]
    assert read_m3u8(target) == [inside, outside]
    assert list_playlists(tmp_path / "music") == [target]


def test_non_utf8_names_survive(tmp_path: Path) -> None:
    name = os.fsdecode(b"caf\xe9.ogg")  # Latin-1 byte: not valid UTF-8
    path = str(tmp_path / name)
    target = tmp_path / "x.m3u8"
    write_m3u8(target, [PlaylistEntry(path, 10, "t")])
    assert os.fsencode(read_m3u8(target)[0]) == os.fsencode(path)


# Every character some player ends a line at, and other controls a name or title may hold.
BREAKERS = ["\r", "\x85", "\u2028", "\u2029", "\x00", "\x0b", "\x0c", "\x1c", "\x1e", "\x1b"]


def _player_lines(target: Path) -> list[str]:
    """The entries as a simple player reads them: lines split at \\n and \\r only."""
    text = target.read_bytes().decode("utf-8", "surrogateescape")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_titles_and_names_cannot_inject_entries(tmp_path: Path) -> None:
    folder = tmp_path / "music"
    good = [str(folder / "plain.flac"), str(folder / "#hash first.ogg"), "/abs/ok song.mp3"]
    entries = [PlaylistEntry(good[0], 3, f"Band{c}/etc/passwd") for c in BREAKERS]
    entries += [PlaylistEntry(good[1], 4, "Title\r\n#EXTINF:1,x\n/etc/shadow"),
                PlaylistEntry(good[2], 5, "\u2028")]
    bad = [str(folder / f"evil{c}/etc/passwd.mp3") for c in BREAKERS] + [str(folder / "end ")]
    entries += [PlaylistEntry(path, 1, "t") for path in bad]
    target = folder / "mix.m3u8"
    report = export_m3u8(target, entries)
    intended = [good[0]] * len(BREAKERS) + good[1:]
    assert report.written == len(intended)
    assert [path for path, _ in report.left_out] == bad
    assert report.left_out[0][1] == "its name holds a line break or control character (U+000D)"
    assert report.left_out[-1][1] == "its name ends with a blank, which players strip"
    assert read_m3u8(target) == intended  # str.splitlines: the widest set of line breaks
    relative = ["plain.flac"] * len(BREAKERS) + ["./#hash first.ogg", "/abs/ok song.mp3"]
    assert _player_lines(target) == relative
    text = target.read_text(encoding="utf-8")
    assert text.splitlines()[1] == "#EXTINF:3,Band /etc/passwd"
    assert all(c not in text for c in BREAKERS if c != "\n")
    assert "#EXTINF:5,ok song" in text  # a title with nothing left falls back to the name


def test_write_m3u8_counts_only_what_it_wrote(tmp_path: Path) -> None:
    entries = [PlaylistEntry("/a/x.mp3"), PlaylistEntry("/a/b\rc.mp3")]
    assert write_m3u8(tmp_path / "p.m3u8", entries) == 1
    assert read_m3u8(tmp_path / "p.m3u8") == ["/a/x.mp3"]
