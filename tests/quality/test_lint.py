"""Ruff runs as part of the suite, so a lint error fails CI like any other test."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ruff_finds_nothing() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    folders = ("engine", "slapdesk", "tests", "tools", "packaging")
    targets = [folder for folder in folders if (ROOT / folder).is_dir()]
    result = subprocess.run(
        [ruff, "check", "--no-cache", *targets], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
