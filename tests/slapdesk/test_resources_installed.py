"""Where ``slapdesk.resources`` looks: a PyInstaller folder first, then a checkout, then a wheel.

A copy of the module is loaded from a fake installation, so its own ``__file__`` decides.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

import slapdesk.resources


def _load_copy(site: Path) -> ModuleType:
    package = site / "slapdesk"
    package.mkdir(parents=True)
    module_file = package / "resources.py"
    shutil.copyfile(slapdesk.resources.__file__, module_file)
    spec = importlib.util.spec_from_file_location("resources_copy", module_file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_installed_wheel_uses_package_resources(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    module = _load_copy(site)
    (site / "slapdesk" / "_resources" / "vocab").mkdir(parents=True)
    assert module.resources_dir() == site / "slapdesk" / "_resources"
    assert module.resource_path("vocab", "x.toml") == site / "slapdesk/_resources/vocab/x.toml"


def test_frozen_build_wins_and_missing_resources_explain_themselves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = _load_copy(tmp_path / "app")
    with pytest.raises(module.ResourcesNotFoundError, match="reinstall"):
        module.resources_dir()
    module.resources_dir.cache_clear()
    frozen = tmp_path / "bundle"
    (frozen / "resources" / "vocab").mkdir(parents=True)
    (tmp_path / "app" / "slapdesk" / "_resources" / "vocab").mkdir(parents=True)
    monkeypatch.setattr(sys, "_MEIPASS", str(frozen), raising=False)
    assert module.resources_dir() == frozen / "resources"
