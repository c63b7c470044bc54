"""Checkpoints round-trip model, optimizer and RNG state exactly, and are written atomically."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.training_checkpoint import (
    CheckpointError,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    restore_training_state,
    save_checkpoint,
)


def _setup(seed: int) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.LayerNorm(8), torch.nn.Linear(8, 2))
    return model, torch.optim.AdamW(model.parameters(), lr=1e-2)


def _step(model: torch.nn.Module, opt: torch.optim.Optimizer) -> float:
    x = torch.randn(16, 4)
    loss = model(x).square().mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


def test_round_trip_continues_identically(tmp_path: Path) -> None:
    model, opt = _setup(0)
    for _ in range(3):
        _step(model, opt)
    random.seed(5)
    np.random.seed(6)
    path = save_checkpoint(tmp_path, 3, model, opt, {"epoch": 1, "cfg": {"lr": 0.01}})
    expected = [_step(model, opt) for _ in range(3)]
    expected_draws = (random.random(), np.random.rand(), torch.rand(1).item())

    fresh, fresh_opt = _setup(1)
    ckpt = load_checkpoint(tmp_path)
    assert ckpt.path == path
    assert ckpt.step == 3
    assert ckpt.meta["epoch"] == 1
    restore_training_state(ckpt, fresh, fresh_opt)
    assert [_step(fresh, fresh_opt) for _ in range(3)] == expected
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected_draws
    for a, b in zip(model.parameters(), fresh.parameters(), strict=True):
        assert torch.equal(a, b)


def test_only_newest_kept_and_json_marks_completion(tmp_path: Path) -> None:
    model, opt = _setup(0)
    for step in (1, 2, 3):
        save_checkpoint(tmp_path, step, model, opt, {}, keep=2)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-000002.json", "step-000003.json"]
    assert not (tmp_path / "step-000001.safetensors").exists()
    # A tensor file without its JSON (a crash between the two) is not a checkpoint.
    (tmp_path / "step-000009.safetensors").write_bytes(b"partial")
    assert latest_checkpoint(tmp_path).name == "step-000003.json"
    assert not list(tmp_path.glob(".*tmp"))


def test_bad_checkpoints_are_reported(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path)
    model, opt = _setup(0)
    path = save_checkpoint(tmp_path, 1, model, opt, {})
    doc = json.loads(path.read_text())
    path.write_text(json.dumps(doc | {"format_version": 99}))
    with pytest.raises(CheckpointError, match="format_version"):
        load_checkpoint(path)
    path.write_text(json.dumps(doc))
    path.with_suffix(".safetensors").unlink()
    with pytest.raises(CheckpointError, match="missing"):
        load_checkpoint(path)
