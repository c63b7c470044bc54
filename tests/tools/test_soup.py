"""tools.distill.soup: the weight average of a bundle and its fine-tune."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine.bundle import load_bundle, save_bundle
from tests.engine.helpers import tiny_model
from tools.distill.soup import average_state, main


def test_average_state_mixes_floats_and_refuses_other_tensors() -> None:
    a = {"w": torch.zeros(2), "n": torch.tensor(3)}
    b = {"w": torch.ones(2), "n": torch.tensor(5)}
    out = average_state(a, b, 0.25)
    assert torch.equal(out["w"], torch.full((2,), 0.25)) and int(out["n"]) == 5
    with pytest.raises(ValueError, match="shape"):
        average_state(a, {"w": torch.ones(3), "n": torch.tensor(5)}, 0.5)
    with pytest.raises(ValueError, match="different tensors"):
        average_state(a, {"w": torch.ones(2)}, 0.5)


def test_soup_of_two_bundles_is_their_midpoint(tmp_path: Path) -> None:
    save_bundle(tiny_model(seed=0), tmp_path / "a", "a")
    save_bundle(tiny_model(seed=1), tmp_path / "b", "b")
    assert main([str(tmp_path / "a"), str(tmp_path / "b"), "--alpha", "0.5",
                 "--out", str(tmp_path / "c")]) == 0
    a, b, c = (load_bundle(tmp_path / n, device="cpu", with_target=False).model.state_dict()
               for n in "abc")
    name = next(k for k in a if k.startswith("audio_projector") and a[k].is_floating_point())
    torch.testing.assert_close(c[name], (a[name] + b[name]) / 2)
    assert (tmp_path / "c" / "model_card.md").read_text().startswith("# Weight average")
