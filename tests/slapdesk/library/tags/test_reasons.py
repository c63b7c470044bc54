"""Stored read errors become sentences; the raw text never reaches the screen."""

from __future__ import annotations

import pytest

from slapdesk.library.tags.reasons import plain_reason


@pytest.mark.parametrize(
    ("raw", "sentence"),
    [
        ("[Errno 1094995529] Invalid data found when processing input",
         "not a readable audio file"),
        ("[Errno 1094995529] ", "not a readable audio file"),
        ("HeaderNotFoundError: can't sync to MPEG frame", "not a readable audio file"),
        ("no valid FLAC audio data found", "not a readable audio file"),
        ("UnicodeDecodeError: 'ascii' codec can't decode byte 0xe9 in position 3: ordinal not "
         "in range(128)", "the file name is not valid text"),
        ("[Errno 13] Permission denied: '/music/a.flac'", "no permission to read the file"),
        ("[Errno 2] No such file or directory: '/music/a.flac'", "the file is no longer there"),
        ("reading took longer than the 30 s time limit", "reading the file took too long"),
        ("its tag data is too large to read", "its tag data is too large to read"),
        ("ValueError: bad chunk size in RIFF header", "bad chunk size in RIFF header"),
        ("", ""),
        (None, ""),
    ],
)
def test_reasons_read_as_sentences(raw: str | None, sentence: str) -> None:
    assert plain_reason(raw) == sentence


def test_exceptions_too() -> None:
    assert plain_reason(PermissionError(13, "Permission denied")) == (
        "no permission to read the file")
    assert plain_reason(UnicodeDecodeError("ascii", b"\xe9", 0, 1, "ordinal not in range")) == (
        "the file name is not valid text")
