"""``slapdesk models use`` sets the library's own model; names and folders both work."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from slapdesk import cli
from slapdesk.commands.common import choose_model
from slapdesk.library.jobs.active_model import library_choice
from slapdesk.library.models import default_bundle_dir
from slapdesk.library.store.database import Database
from slapdesk.settings import load_settings


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("SLAPDESK_CONFIG", str(tmp_path / "cfg"))
    return tmp_path


def _active_line(capsys, library: Path) -> str:
    assert cli.main(["--library", str(library), "models"]) == 0
    marked = [line for line in capsys.readouterr().out.splitlines() if line.startswith("*")]
    assert len(marked) == 1
    return marked[0].split()[1]


def test_use_changes_only_the_library_it_names(
    home: Path, tiny_bundle: Path, capsys, monkeypatch
) -> None:
    first, second = home / "a" / "library.sqlite", home / "b" / "library.sqlite"
    for library in (first, second):
        Database(library).close()
    shutil.copytree(tiny_bundle, home / "a" / "models" / "tiny")  # imported beside library a
    assert cli.main(["--library", str(first), "models", "use", "tiny"]) == 0
    assert capsys.readouterr().out == f"Active model of {first}: tiny.\n"
    assert _active_line(capsys, first) == "tiny"
    assert _active_line(capsys, second) == "default"
    assert load_settings(home / "cfg" / "settings.toml").active_model == ""
    # By name, even with a bundle folder of that name where the command runs.
    shutil.copytree(tiny_bundle, home / "default")
    monkeypatch.chdir(home)
    assert cli.main(["--library", str(first), "models", "use", "default"]) == 0
    assert capsys.readouterr().out == f"Active model of {first}: default.\n"
    with Database(first) as db:
        assert library_choice(db, "") == str(default_bundle_dir())


def test_use_without_a_library_sets_the_default_of_every_library(
    home: Path, tiny_bundle: Path, capsys
) -> None:
    missing = home / "nowhere" / "library.sqlite"
    assert cli.main(["--library", str(missing), "models", "use", str(tiny_bundle)]) == 0
    assert capsys.readouterr().out == (
        f"No library at {missing} yet: tiny is now the model of every library that has not "
        "chosen one.\n")
    assert not missing.exists()
    assert load_settings(home / "cfg" / "settings.toml").active_model == str(tiny_bundle)
    later = home / "later" / "library.sqlite"
    Database(later).close()
    assert choose_model(str(later), None).path == tiny_bundle  # what every command uses
