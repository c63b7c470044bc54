"""Reading one file: concrete values per format, and every kind of bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from slapdesk.library.demo.audio_files import FORMATS, make_track
from slapdesk.library.tags.fields import FIELDS, convert
from slapdesk.library.tags.read import read_file, sniff
from tests.slapdesk.library.helpers import (
    flac_named_mp3,
    truncate,
    unprivileged,
    with_huge_picture,
)

ROOT = Path(__file__).resolve().parents[4]
CODECS = {
    "aiff": ("aiff", "pcm"), "flac": ("flac", "flac"), "m4a-aac": ("m4a", "aac"),
    "m4a-alac": ("m4a", "alac"), "mp3": ("mp3", "mp3"), "ogg": ("ogg", "vorbis"),
    "opus": ("opus", "opus"), "wav": ("wav", "pcm"),
}  # fmt: skip


def _read(path: Path):
    return read_file(os.fsencode(path))


def test_every_format_reads_its_tags_and_stream_facts(tagged_track: Path, format_name: str) -> None:
    result = _read(tagged_track)
    assert (result.status, result.error) == ("ok", None)
    assert (result.format, result.codec) == CODECS[format_name]
    assert result.title == "Test Tone"
    assert result.artist == "The Testers"
    assert result.album == "Fixtures"
    assert result.albumartist == "Various"
    assert json.loads(result.genre) == ["Rock", "Jazz"]
    assert json.loads(result.mood) == ["Happy"]
    assert result.year == 1999
    assert result.track_number == 3
    assert result.comment == "made by the test suite"
    assert result.bpm == 120.0
    assert result.sample_rate == (48_000 if format_name == "opus" else 44_100)
    assert result.channels == FORMATS[format_name].channels
    if format_name != "ogg":  # FFmpeg's experimental Vorbis encoder writes odd granules
        assert result.duration == pytest.approx(1.0, abs=0.05)
    assert len(result.fingerprint) == 16
    raw = json.loads(result.tags)
    assert any("Test Tone" in values for values in raw.values())


def test_a_flac_named_mp3_is_read_by_its_content(tmp_path: Path) -> None:
    result = _read(flac_named_mp3(tmp_path))
    assert (result.status, result.format, result.codec) == ("ok", "flac", "flac")
    assert result.title == "Really FLAC"


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"fLaC\0\0\0\x22", "flac"),
        (b"ID3\x04\0\0\0\0\0\0\xff\xfb\x90\x00", "mp3"),
        (b"ID3\x04\0\0\0\0\0\0fLaC", "flac"),
        (b"\xff\xfb\x90\x00", "mp3"),
        (b"\xff\xf1\x50\x80", "aac"),
        (b"\0\0\0\x20ftypM4A ", "m4a"),
        (b"RIFF\0\0\0\0WAVEfmt ", "wav"),
        (b"FORM\0\0\0\0AIFFCOMM", "aiff"),
        (b"OggS\0\x02" + b"\0" * 20 + b"\x01\x1e\x01vorbis", "ogg"),
        (b"OggS\0\x02" + b"\0" * 20 + b"\x01\x13OpusHead", "opus"),
        (b"hello, this is text", None),
    ],
)
def test_sniff_names_the_format_from_magic_bytes(head: bytes, kind: str | None) -> None:
    assert sniff(head) == kind


def test_a_zero_length_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp3"
    path.touch()
    assert (_read(path).status, _read(path).error) == ("error", "empty file (0 bytes)")


@pytest.mark.parametrize("suffix", [".mp3", ".flac", ".m4a", ".ogg", ".wav"])
def test_a_text_file_with_an_audio_extension_is_an_error(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"notes{suffix}"
    path.write_text("These are not the droids you are looking for.\n" * 50)
    result = _read(path)
    assert result.status == "error"
    assert result.error.startswith("not an audio file")
    assert "\n" not in result.error


def test_every_truncated_format_is_reported(tmp_path: Path, format_name: str) -> None:
    path = truncate(make_track(tmp_path / "cut", format_name, seconds=2.0, tags={"title": "T"}))
    result = _read(path)
    assert result.status in ("damaged", "error")
    assert "truncated" in result.error or "damaged" in result.error


def test_a_file_cut_after_its_metadata_is_reported(tmp_path: Path) -> None:
    path = make_track(tmp_path / "cut", "flac", tags={"title": "Kept"})
    data = path.read_bytes()
    path.write_bytes(data[: data.index(b"Kept") + 200])
    result = _read(path)
    assert (result.status, result.title) == ("damaged", "Kept")
    assert result.error.startswith("truncated")


def test_a_file_without_permission_is_an_error(tmp_path: Path) -> None:
    prefix = unprivileged()
    if prefix is None:
        pytest.skip("running as root without setpriv: permissions cannot be tested")
    path = make_track(tmp_path / "locked", "mp3")
    path.chmod(0)
    code = (
        "import os, sys\nfrom slapdesk.library.tags.read import read_file\n"
        "print(read_file(os.fsencode(sys.argv[1])).error)"
    )
    result = subprocess.run(
        [*prefix, sys.executable, "-c", code, str(path)],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    path.chmod(0o600)
    assert result.stdout.strip() == "cannot read the file: permission denied"


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    assert _read(tmp_path / "gone.mp3").error == "the file disappeared during the scan"


@pytest.mark.parametrize(("fmt", "megabytes"), [("flac", 15), ("mp3", 24), ("m4a-aac", 24)])
def test_a_huge_embedded_picture_is_never_loaded(tmp_path: Path, fmt: str, megabytes: int) -> None:
    # FLAC blocks stop at 16 MiB; ID3 and MP4 take more.
    path = make_track(tmp_path / "big", fmt, tags={"title": "Big Cover", "artist": "A"})
    with_huge_picture(path, megabytes)
    assert path.stat().st_size > megabytes << 20
    tracemalloc.start()
    try:
        result = _read(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (result.status, result.title, result.artist) == ("ok", "Big Cover", "A")
    assert peak < 2 << 20  # mutagen alone peaks at 3-4x the picture


def test_list_fields_split_packed_values_and_numbers_parse_loosely() -> None:
    genre = next(field for field in FIELDS if field.name == "genre")
    year = next(field for field in FIELDS if field.name == "year")
    assert convert(genre, ["Rock; Jazz", "Rock", " "]) == ["Rock", "Jazz"]
    assert convert(year, ["2001-05-04"]) == 2001
    assert convert(year, ["unknown"]) is None
