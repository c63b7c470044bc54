"""tools.validation.feature_memo: the audio tower's outputs memoised by exact log-mel input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from engine.bundle import save_bundle
from tests.engine.helpers import tiny_model
from tools.validation.feature_memo import embedder, memoise

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _tower(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(6, 3)).eval()


def test_memo_returns_the_towers_outputs_and_keys_on_exact_input_and_weights(
        tmp_path: Path) -> None:
    mel = torch.randn(2, 1, 2, 3)
    plain = _tower(0)(mel)
    tower = _tower(0)
    keys = set(tower.state_dict())
    memo = memoise(tower, tmp_path)
    assert torch.equal(tower(mel), plain) and (memo.hits, memo.misses) == (0, 1)
    assert torch.equal(tower(mel), plain) and (memo.hits, memo.misses) == (1, 1)
    tower(mel + 1e-6)  # another input: computed
    assert (memo.hits, memo.misses) == (1, 2)
    assert set(tower.state_dict()) == keys  # weights untouched (the model id stays)
    other = memoise(_tower(1), tmp_path)  # other weights never read these outputs
    assert not torch.equal(_tower(1)(mel), plain)
    assert torch.equal(other.call(_tower(1).forward, mel), _tower(1)(mel))
    assert other.misses == 1 and other.hits == 0
    assert len(list(tmp_path.glob("*.npy"))) == 3 and not list(tmp_path.glob("*.tmp"))


def test_memoised_embedder_gives_the_plain_torch_vectors(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    save_bundle(tiny_model(), bundle, "tiny")
    rng = np.random.default_rng(0)
    waves = [rng.standard_normal(16000).astype(np.float32) * 0.1 for _ in range(3)]
    from engine.inference import Embedder

    plain = Embedder.from_bundle(bundle, device="cpu", runtime="torch").embed_audio(waves)
    first = embedder(str(bundle), "cpu", tmp_path / "memo")
    again = embedder(str(bundle), "cpu", tmp_path / "memo")
    assert first.runtime == "torch"
    a, b = first.embed_audio(waves), again.embed_audio(waves)
    assert np.array_equal(a.tracks, plain.tracks) and np.array_equal(b.tracks, plain.tracks)
    assert first.model_id == plain_id(bundle)
    assert len(list((tmp_path / "memo").glob("*.npy"))) == 3  # one tower call per track


def test_memoised_retrieval_eval_prints_the_plain_figures(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from engine.train import run_eval
    from slapdesk.library.demo.audio_files import make_track
    from tools.validation.feature_memo import main

    bundle = tmp_path / "bundle"
    save_bundle(tiny_model(), bundle, "tiny")
    rows = []
    for i in range(4):
        make_track(tmp_path / f"t{i}", "wav", freq_hz=220.0 * (i + 1), seconds=1.5)
        rows.append(json.dumps({"audio": f"t{i}.wav", "caption": f"tone {i}"}))
    (tmp_path / "m.jsonl").write_text("\n".join(rows) + "\n")
    args = [str(bundle), "--manifest", str(tmp_path / "m.jsonl"), "--device", "cpu",
            "--workers", "0"]
    assert run_eval(args) == 0
    plain = capsys.readouterr().out
    for _ in range(2):
        assert main([str(tmp_path / "memo"), "eval", *args]) == 0
        assert capsys.readouterr().out == plain
    assert len(list((tmp_path / "memo").glob("*.npy"))) == 4


def plain_id(bundle: Path) -> str:
    from engine.inference import Embedder

    return Embedder.from_bundle(bundle, device="cpu").model_id
