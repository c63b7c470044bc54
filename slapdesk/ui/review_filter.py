"""What the auto-tag review shows (a filter) and two helpers for building it fast."""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

_DIGITS = re.compile(r"(\d+)")


@dataclass(frozen=True)
class ReviewFilter:
    """What the review shows; the defaults show everything."""

    term: str = ""  # only tracks proposed this term (and only that term's row)
    min_score: float = 0.0  # only terms scoring at least this
    folder: str = ""  # only tracks under this folder
    changes_only: bool = False  # hide terms the file already holds
    text: str = ""  # words that must appear in the file's name, folder or label


@contextmanager
def bulk() -> Iterator[None]:
    """Run a bulk build of many small containers without the cyclic garbage collector."""
    # Building 10,000 small lists makes the collector sweep the whole heap again and again
    # (half the time of a filter change, measured); none of them forms a cycle.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def natural(name: str) -> tuple:
    """Sort "2 Song" before "10 Song": digit runs compare as numbers."""
    return tuple(int(part) if part.isdigit() else part for part in _DIGITS.split(name.casefold()))
