"""Replacing a file atomically: the old one or the new one, never a torn one, no leftovers."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from engine.atomic_files import atomic_output, write_text_atomically


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "settings.toml"
    target.write_text("old = 1\n")
    with pytest.raises(RuntimeError, match="disk on fire"), atomic_output(target) as out:
        out.write("new = 2\n")
        raise RuntimeError("disk on fire")
    assert target.read_text() == "old = 1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.toml"]


def test_a_finished_write_replaces_the_file_with_usual_permissions(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "playlist.m3u8"
    previous = os.umask(0o022)
    try:
        with atomic_output(target, "w", encoding="utf-8", newline="\n") as out:
            out.write("#EXTM3U\n")
        write_text_atomically(tmp_path / "sub" / "meta.json", '{"a": 1}')
    finally:
        os.umask(previous)
    assert target.read_bytes() == b"#EXTM3U\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert (tmp_path / "sub" / "meta.json").read_text() == '{"a": 1}'
    assert sorted(p.name for p in target.parent.iterdir()) == ["meta.json", "playlist.m3u8"]
