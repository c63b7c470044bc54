"""The contract every long job honours: it takes a cancel flag and reports where it stands.

Scan, embed, propose, apply and undo all report this one type, so the window's task runner and
the command line's progress bar show any job the same way. Imports nothing from the library.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """Where a long job stands."""

    done: int  # units finished so far
    total: int | None = None  # units in all; None while unknown (a busy bar)
    message: str = ""  # one short line for a status bar or a terminal
    eta_s: float | None = None  # seconds left, when the job can estimate it


ProgressCallback = Callable[[Progress], None]
