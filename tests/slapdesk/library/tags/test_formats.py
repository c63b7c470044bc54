"""The format registry: one record per container, one sniffer that reader and writer share."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from mutagen.id3 import ID3, TIT2

from slapdesk.library.demo.audio_files import FORMATS, encode, make_track, sine
from slapdesk.library.scan.walk import is_audio_name
from slapdesk.library.tags import formats
from slapdesk.library.tags import write as tagwrite
from slapdesk.library.tags.formats import Encoding
from slapdesk.library.tags.read import read_file

ADTS = Encoding("aac-adts", ".aac", "adts", "aac", "fltp", 1, 128_000)


def test_every_record_is_complete_and_extensions_are_unique() -> None:
    seen: dict[str, str] = {}
    for fmt in formats.REGISTRY:
        assert fmt.key and fmt.name and fmt.mutagen_class is not None
        for ext in fmt.extensions:
            assert ext == ext.lower() and not ext.startswith(".")
            assert ext not in seen, f"{ext} claimed by {seen.get(ext)} and {fmt.key}"
            seen[ext] = fmt.key
            assert is_audio_name(f"song.{ext.upper()}".encode())  # the walk asks the registry
    assert {fmt.key for fmt in formats.REGISTRY if fmt.writable} == {
        "mp3", "flac", "ogg", "opus", "oggflac", "speex", "m4a", "wav", "aiff",
    }  # fmt: skip
    assert not is_audio_name(b".slapdesk-tmp-x.partial")


def test_every_generated_flavour_sniffs_as_its_own_record(tmp_path: Path) -> None:
    assert sorted(FORMATS) == sorted(formats.encodings())
    for name in FORMATS:
        path = make_track(tmp_path / name, name, seconds=0.2)
        expected = formats.format_of_encoding(name)
        assert formats.detect(path) is expected
        assert read_file(os.fsencode(path)).format == expected.key
        assert tagwrite.detect(path) is expected


def _behind_id3(path: Path) -> Path:
    """Put an ID3v2 tag in front of a file, as some taggers do to FLAC and AAC."""
    tag = ID3()
    tag.add(TIT2(encoding=3, text=["In front"]))
    tag.save(path)  # inserts the tag at the start, whatever follows
    assert path.read_bytes().startswith(b"ID3")
    return path


@pytest.mark.parametrize("suffix", [".flac", ".mp3"], ids=["named-flac", "named-mp3"])
def test_flac_behind_id3_is_flac_to_reader_and_writer(tmp_path: Path, suffix: str) -> None:
    made = make_track(tmp_path / "x", "flac", seconds=0.2, tags={"title": "Inner"})
    path = _behind_id3(made.rename(tmp_path / f"song{suffix}"))
    result = read_file(os.fsencode(path))
    assert (result.format, result.status, result.title) == ("flac", "ok", "Inner")
    assert tagwrite.detect(path).key == "flac"
    tagwrite.write_fields(path, {"slapdesk_mood": ["Calm"]})
    assert tagwrite.read_fields(path, ["slapdesk_mood"]) == {"slapdesk_mood": ["Calm"]}
    assert read_file(os.fsencode(path)).format == "flac"
    assert path.read_bytes().startswith(b"ID3")  # the leading tag stays where it was


def test_aac_behind_id3_is_aac_to_reader_and_writer(tmp_path: Path) -> None:
    path = tmp_path / "song.aac"
    encode(path, sine(440.0, 0.3), 44_100, ADTS)
    _behind_id3(path)
    assert read_file(os.fsencode(path)).format == "aac"
    assert tagwrite.detect(path).key == "aac"
    # Both agree, and the writer says plainly that it does not write ADTS AAC.
    with pytest.raises(tagwrite.TagWriteError, match="AAC files are not supported for writing"):
        tagwrite.write_fields(path, {"slapdesk_mood": ["Calm"]})


def test_plain_mp3_behind_id3_stays_mp3(tmp_path: Path) -> None:
    path = make_track(tmp_path / "x", "mp3", seconds=0.2, tags={"title": "Plain"})
    assert read_file(os.fsencode(path)).format == "mp3"
    assert tagwrite.detect(path).key == "mp3"


def test_unknown_content_falls_back_to_the_extension_only_as_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "noise.ogg"
    path.write_bytes(b"\x00" * 64)
    assert formats.detect(path) is formats.BY_KEY["ogg"]
    assert read_file(os.fsencode(path)).status == "error"
    junk = tmp_path / "junk.xyz"
    junk.write_bytes(b"\x00" * 64)
    assert formats.detect(junk) is None
