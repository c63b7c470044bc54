"""Why a file could not be read, in a sentence for people instead of raw exception text.

The library stores the reader's one-line reason as it came ("[Errno 1094995529] Invalid data
found when processing input", "UnicodeDecodeError: 'ascii' codec can't decode byte 0xe9"):
exact, and what a bug report needs. What the window and the command line show is this
module's sentence, with the raw text kept only where it says something a person can use.
"""

from __future__ import annotations

import re

# (pattern in the raw reason, the sentence shown); the first that matches wins.
_SENTENCES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), sentence)
    for pattern, sentence in (
        # FFmpeg's AVERROR_INVALIDDATA (-0x41444E49) and its usual message; mutagen's
        # "can't sync to MPEG frame", "not a ... file", "no appropriate stream found".
        (r"errno -?1094995529|invalid data found|can't sync|not an? \w+ file|no appropriate "
         r"stream|no valid .* audio data|unknown format|header not found|file type could not",
         "not a readable audio file"),
        (r"codec can't (de|en)code|surrogates not allowed|UnicodeDecodeError|UnicodeEncodeError",
         "the file name is not valid text"),
        (r"permission denied|errno 13\b|PermissionError", "no permission to read the file"),
        (r"no such file|errno 2\b|FileNotFoundError", "the file is no longer there"),
        (r"timed out|time limit|TimeoutError", "reading the file took too long"),
        (r"too large|MemoryError|OverflowError", "its tag data is too large to read"),
        (r"is a directory|IsADirectoryError", "this is a folder, not a file"),
        (r"input/output error|errno 5\b", "the disk could not read the file"),
    )
)
# A Python exception's class name heading the text ("ValueError: ...").
_EXCEPTION_PREFIX = re.compile(r"^\s*(\[Errno -?\d+\]\s*|[A-Z]\w*(Error|Exception)\b:?\s*)+")


def plain_reason(raw: str | BaseException | None) -> str:
    """The sentence for a stored reason or an exception ("" for none).

    Reasons no pattern knows keep their words but lose exception names and errno numbers.
    """
    text = " ".join(str(raw or "").split())
    if isinstance(raw, BaseException):
        text = f"{type(raw).__name__}: {text}"
    if not text:
        return ""
    for pattern, sentence in _SENTENCES:
        if pattern.search(text):
            return sentence
    stripped = _EXCEPTION_PREFIX.sub("", text).strip()
    return stripped or "the file could not be read"
