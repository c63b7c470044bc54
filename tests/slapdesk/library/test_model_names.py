"""Every listed model has its own name; a trained model is named after its run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from slapdesk.library import models
from slapdesk.library.models import (
    active_bundle,
    evaluation_summary,
    find_bundle,
    list_bundles,
    readable_metrics,
)


@pytest.fixture
def shelf(tiny_bundle: Path, tmp_path: Path, monkeypatch) -> Path:
    """A bundled default, two imported bundles and two trained runs, with clashing names."""
    default = shutil.copytree(tiny_bundle, tmp_path / "resources" / "default")
    monkeypatch.setattr(models, "default_bundle_dir", lambda: default)
    for folder in ("models/default", "models/mine", "runs/mine/bundle",
                   "runs/20261203-101500-trained/bundle"):
        shutil.copytree(tiny_bundle, tmp_path / folder)
    (tmp_path / "runs" / "unfinished").mkdir()
    return tmp_path


def test_names_are_distinct_and_trained_models_take_their_run_name(shelf: Path) -> None:
    listed = list_bundles(shelf / "models", shelf / "runs")
    assert [(b.name, b.kind) for b in listed] == [
        ("default", "default"),
        ("default-imported", "imported"),
        ("mine", "imported"),
        ("mine-trained", "trained"),
        ("20261203-101500-trained", "trained"),
    ]
    assert listed[3].path == shelf / "runs" / "mine" / "bundle"


def test_a_listed_name_or_a_folder_finds_the_same_model(shelf: Path, monkeypatch) -> None:
    monkeypatch.chdir(shelf / "models")  # a folder named "default" right here
    by_name = find_bundle("default", shelf / "models", shelf / "runs")
    assert by_name.kind == "default"  # the listed name wins over ./default
    run = shelf / "runs" / "20261203-101500-trained" / "bundle"
    by_folder = find_bundle(str(run), shelf / "models", shelf / "runs")
    assert (by_folder.name, by_folder.path) == ("20261203-101500-trained", run)
    active = active_bundle(str(run), shelf / "models", shelf / "runs")
    assert active.name == "20261203-101500-trained"


def test_figures_read_as_words() -> None:
    metrics = {"t2a_R@1": 0.25, "t2a_R@10": 0.75, "a2t_R@1": 0.5, "a2t_R@10": 1.0,
               "n_audio": 40.0, "a2t_median_rank": 2.0, "t2a_mean_nrank": 0.1}
    assert readable_metrics(metrics) == [
        ("held-out tracks", "40"), ("text → audio R@1", "0.250"), ("text → audio R@10", "0.750"),
        ("audio → text R@1", "0.500"), ("audio → text R@10", "1.000"),
        ("audio → text median rank", "2")]
    assert evaluation_summary(metrics) == (
        "Evaluated on 40 held-out tracks. Text → audio: R@1 0.25, R@10 0.75; audio → text: "
        "R@1 0.50, R@10 1.00. Chance: R@1 0.03, R@10 0.25; 1.00 is perfect.")
    assert evaluation_summary({}).startswith("Not evaluated: too few tagged tracks")
