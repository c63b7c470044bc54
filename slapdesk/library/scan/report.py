"""What a scan reports: counts of what changed and the files it could not index, with reasons."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from slapdesk.library.tags.reasons import plain_reason


@dataclass(frozen=True)
class ScanError:
    """A file or folder that could not be indexed, and why (one line)."""

    path: bytes
    error: str

    @property
    def reason(self) -> str:
        """Why, as a sentence for people (the raw ``error`` stays for logs and bug reports)."""
        return plain_reason(self.error)

    @property
    def display_path(self) -> str:
        """The path as text (undecodable bytes as surrogate escapes, like ``os.fsdecode``)."""
        return os.fsdecode(self.path)


@dataclass
class ScanReport:
    """The outcome of a scan. Moved files count as updated."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    moved: int = 0
    errors: list[ScanError] = field(default_factory=list)
    cancelled: bool = False
    seconds: float = 0.0

    def to_json(self) -> dict[str, object]:
        """The machine-readable summary ``slapdesk scan --json`` prints."""
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "errors": [
                {"path": _json_path(error.path), "error": error.error} for error in self.errors
            ],
        }


def _json_path(path: bytes) -> str:
    # JSON needs valid Unicode: undecodable bytes appear as U+FFFD.
    return path.decode("utf-8", "replace")
