from __future__ import annotations

import os
from pathlib import Path

from slapdesk.library.playlists import PlaylistEntry, list_playlists, read_m3u8, write_m3u8


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
