"""mypy runs as part of the suite: a type error in engine/ or slapdesk/library/ fails CI.

What it checks and how is in pyproject.toml ([tool.mypy]). The cache lives in .mypy_cache
(git-ignored), so after the first run only changed modules are checked again.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_mypy_finds_no_type_errors() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_mypy_would_see_a_type_error(tmp_path: Path) -> None:
    offender = tmp_path / "offender.py"
    offender.write_text('def twice(x: int) -> int:\n    return x * 2\n\n\ntwice("no")\n')
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", "--cache-dir", str(tmp_path / "c"),
         "--config-file", str(ROOT / "pyproject.toml"), str(offender)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    expected = 'offender.py:5: error: Argument 1 to "twice" has incompatible type "str"'
    assert expected in result.stdout
