"""Every module stays short enough to read in one sitting, every function in one screen."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("engine", "slapdesk", "tools", "tests")
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60


def _python_files() -> list[Path]:
    return sorted(p for folder in FOLDERS for p in (ROOT / folder).rglob("*.py"))


def _long_files(files: list[Path], root: Path = ROOT) -> list[str]:
    found = []
    for path in files:
        lines = path.read_text(encoding="utf-8").count("\n")
        if lines > MAX_FILE_LINES:
            found.append(f"{path.relative_to(root)}: {lines} lines")
    return found


def _long_functions(files: list[Path], root: Path = ROOT) -> list[str]:
    found = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{path.relative_to(root)}:{node.lineno} {node.name}: {length}")
    return found


def test_every_file_is_at_most_400_lines() -> None:
    files = _python_files()
    assert len(files) > 200
    assert _long_files(files) == []


def test_every_function_is_at_most_60_lines() -> None:
    assert _long_functions(_python_files()) == []


def test_the_size_checks_see_a_long_function(tmp_path: Path) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(60))
    probe = tmp_path / "probe.py"
    probe.write_text("def long():\n" + body + "\n" * 400)
    assert _long_functions([probe], tmp_path) == ["probe.py:1 long: 61"]
    assert _long_files([probe], tmp_path) == ["probe.py: 461 lines"]
