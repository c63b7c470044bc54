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
            if node.module == "slapdesk.library":
                # "from slapdesk.library import store" imports the package slapdesk.library.store
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            else:
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


# Inside slapdesk/library each package may import only the packages below it. The order is the
# one the package docstrings state: the database at the bottom, jobs (which orchestrate all the
# others) at the top. A package not listed here is a new one and must be given its place.
LIBRARY_MAY_IMPORT: dict[str, set[str]] = {
    "progress": set(),
    "store": set(),
    "tags": {"store", "progress"},
    "scan": {"store", "tags", "progress"},
    "search": {"store", "progress"},
    "autotag": {"store", "search", "tags", "progress"},
    "playlists": {"store"},
    "models": {"store"},
    "map_projection": {"store", "search"},
    "demo": {"store", "scan", "tags", "progress"},
    "jobs": {
        "store",
        "scan",
        "tags",
        "search",
        "autotag",
        "playlists",
        "models",
        "progress",
        "map_projection",
        "demo",
    },
}
APP_ONLY = ("slapdesk.ui", "slapdesk.commands", "slapdesk.app", "slapdesk.cli", "slapdesk.settings")


def _library_package(path: Path) -> str:
    parts = path.relative_to(ROOT / "slapdesk" / "library").parts
    return parts[0].removesuffix(".py")


def _library_rule_violations(files: list[tuple[Path, str]]) -> list[str]:
    bad = []
    for path, own in files:
        allowed = LIBRARY_MAY_IMPORT.get(own)
        if allowed is None:
            bad.append(f"{path}: package {own!r} has no place in LIBRARY_MAY_IMPORT")
            continue
        for module in _imported_modules(path):
            if module.startswith(APP_ONLY):
                bad.append(f"{path} imports the app layer {module}")
            parts = module.split(".")
            if parts[:2] != ["slapdesk", "library"] or len(parts) < 3:
                continue
            target = parts[2]
            if target != own and target not in allowed:
                bad.append(f"{path} ({own}) imports {module}")
    return bad


def test_library_packages_only_import_the_packages_below_them() -> None:
    library = ROOT / "slapdesk" / "library"
    files = [
        (path, _library_package(path))
        for path in _python_files("slapdesk/library")
        if path != library / "__init__.py"
    ]
    assert len(files) > 20
    assert _library_rule_violations(files) == []


def test_the_package_rule_sees_search_importing_tags(tmp_path: Path) -> None:
    offender = tmp_path / "probe.py"
    offender.write_text(
        "from slapdesk.library.tags import write\nfrom slapdesk.library import autotag\n"
    )
    found = _library_rule_violations([(offender, "search")])
    assert sorted(found) == [
        f"{offender} (search) imports slapdesk.library.autotag",
        f"{offender} (search) imports slapdesk.library.tags",
    ]


SQL_MARKERS = ("sqlite3", "sqlite_utils", ".execute(", ".executemany(", "SELECT ", "UPDATE ")


def _sql_in(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [f"{path}: {marker!r}" for marker in SQL_MARKERS if marker in text]


def test_the_window_never_runs_sql() -> None:
    # The window asks library functions for rows; SQL in a view would bypass the single
    # writer and the read-only connections the library hands out.
    files = _python_files("slapdesk/ui")
    assert len(files) > 10
    assert [hit for path in files for hit in _sql_in(path)] == []


def test_the_sql_rule_sees_a_query(tmp_path: Path) -> None:
    view = tmp_path / "view.py"
    view.write_text('rows = conn.execute("SELECT id FROM tracks")\n')
    assert _sql_in(view) == [f"{view}: '.execute('", f"{view}: 'SELECT '"]
