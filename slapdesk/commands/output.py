r"""What a command prints cannot drive the terminal: control characters are shown, not obeyed.

File names, tags and error messages come from files anyone can make. An escape sequence in a
title (ESC ``[2J``, a C1 ``CSI``, an OSC that sets the window title or writes the clipboard), a
carriage return that overwrites the line, or a bidirectional override that reorders it would
act on the user's terminal. Every command's output goes through ``neutralise`` (``cli.main``
wraps stdout and stderr in ``SafeStream``), which writes each such character as ``\uXXXX``:
visible, and in a JSON line it decodes back to the exact original character.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

_BIDI = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_UNSAFE = (
    *range(0x00, 0x20),  # C0 controls: ESC, BEL, BS, CR, NUL, ...
    0x7F,  # DEL
    *range(0x80, 0xA0),  # C1 controls: CSI (0x9B), OSC (0x9D), NEL (0x85), ...
    0x2028, 0x2029,  # line and paragraph separators
    *_BIDI,  # bidirectional overrides and isolates (they reorder what follows)
    *range(0xD800, 0xE000),  # lone surrogates (undecodable file names)
)  # fmt: skip
_TABLE = {code: f"\\u{code:04x}" for code in _UNSAFE}
_LINE_TABLE = {k: v for k, v in _TABLE.items() if chr(k) not in "\n\t"}
_TTY_TABLE = {k: v for k, v in _LINE_TABLE.items() if chr(k) != "\r"}


def neutralise(text: str, *, newlines: bool = True, carriage_return: bool = False) -> str:
    r"""``text`` with every control character written as a visible ``\uXXXX``.

    Args:
        text: anything about to be printed.
        newlines: keep ``\n`` and ``\t`` (the output's own layout); False escapes them too,
            for a single name that must stay on its line.
        carriage_return: keep ``\r`` too (a progress line on a terminal rewrites itself).
    """
    if not newlines:
        return text.translate(_TABLE)
    return text.translate(_TTY_TABLE if carriage_return else _LINE_TABLE)


def one_line(name: str) -> str:
    """A file name or title that stays on its line: newlines and tabs are escaped too."""
    return neutralise(name, newlines=False)


class SafeStream:
    """A text stream that neutralises everything written to it, then passes it on."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        try:
            self._keep_cr = bool(stream.isatty())
        except (AttributeError, ValueError):
            self._keep_cr = False

    def write(self, text: str) -> int:
        """Write ``text`` neutralised; returns its length (as ``TextIO.write`` does)."""
        self._stream.write(neutralise(text, carriage_return=self._keep_cr))
        return len(text)

    def writelines(self, lines: Any) -> None:
        """Write each line neutralised."""
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def safe_output() -> Iterator[None]:
    """Route ``sys.stdout`` and ``sys.stderr`` through ``SafeStream`` for the block."""
    import sys

    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(saved[0]), SafeStream(saved[1])  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
