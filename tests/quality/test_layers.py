"""The layers only point down: engine knows nothing of the app, only slapdesk/ui knows Qt."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QT_MODULES = ("PySide6", "shiboken6", "pyqtgraph")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def _violations(files: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in files:
        for module in _imported_modules(path):
            if module.split(".")[0] in forbidden:
                bad.append(f"{path} imports {module}")
    return bad


def test_engine_imports_neither_qt_nor_slapdesk() -> None:
    files = _python_files("engine")
    assert files, "engine/ has no Python files"
    assert _violations(files, (*QT_MODULES, "slapdesk")) == []


def test_only_slapdesk_ui_imports_qt() -> None:
    files = [p for p in _python_files("slapdesk") if "ui" not in p.relative_to(ROOT).parts[1:2]]
    assert files
    assert _violations(files, QT_MODULES) == []


@pytest.mark.parametrize("module", ["PySide6", "slapdesk"])
def test_the_checker_sees_a_violation(tmp_path: Path, module: str) -> None:
    offender = tmp_path / "bad.py"
    offender.write_text(f"import {module}.QtCore\nfrom {module} import x\n")
    assert len(_violations([offender], (module,))) == 2
