from __future__ import annotations

from pathlib import Path

import pytest

from slapdesk.library.store.paths import LIBRARY_ENV, resolve_library_path


def test_explicit_path_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(LIBRARY_ENV, str(tmp_path / "env.sqlite"))
    assert resolve_library_path(tmp_path / "cli.sqlite") == tmp_path / "cli.sqlite"


def test_environment_beats_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(LIBRARY_ENV, str(tmp_path / "env.sqlite"))
    assert resolve_library_path(None) == tmp_path / "env.sqlite"


def test_default_is_in_user_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LIBRARY_ENV, raising=False)
    path = resolve_library_path(None)
    assert path.name == "library.sqlite"
    assert "SlapDesk" in str(path)
