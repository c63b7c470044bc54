"""Find the ``resources/`` folder from a checkout, an installed wheel or a PyInstaller build."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path


class ResourcesNotFoundError(RuntimeError):
    """The resources folder could not be located."""


def _candidates() -> list[Path]:
    package_dir = Path(__file__).resolve().parent
    found = [
        # A checkout: resources/ sits beside the package folders.
        package_dir.parent / "resources",
        # An installed wheel: hatch force-includes resources/ as slapdesk/_resources.
        package_dir / "_resources",
    ]
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        found.insert(0, Path(frozen_root) / "resources")
    return found


@cache
def resources_dir() -> Path:
    """Return the folder holding SlapDesk's bundled resources.

    Raises:
        ResourcesNotFoundError: if neither a checkout nor an installed copy has it.
    """
    for candidate in _candidates():
        if (candidate / "vocab").is_dir():
            return candidate
    tried = ", ".join(str(path) for path in _candidates())
    raise ResourcesNotFoundError(
        f"SlapDesk's resources folder is missing (looked in {tried}); reinstall the package."
    )


def resource_path(*parts: str) -> Path:
    """Return the path of one bundled resource, e.g. ``resource_path("vocab", "genre.toml")``."""
    return resources_dir().joinpath(*parts)
