"""The audio tower in ONNX Runtime gives torch's vectors; without onnxruntime, torch runs it."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.inference import Embedder
from engine.towers.musicnn import _FrontBlock
from slapdesk.library.demo.audio_files import make_track
from slapdesk.resources import resource_path
from tests.slapdesk.sounds import SR, drum_loop, piano_chords

from .helpers import tiny_model


@pytest.fixture(scope="module")
def default_pair() -> tuple[Embedder, Embedder]:
    """The shipped model twice, sharing its weights: torch, and ONNX Runtime."""
    torch_side = Embedder.from_bundle(resource_path("models", "default"), "cpu", runtime="torch")
    onnx_side = Embedder(
        torch_side.model, device="cpu", model_id=torch_side.model_id, runtime="onnx"
    )
    return torch_side, onnx_side


def _arpeggio(seconds: float = 70.0) -> np.ndarray:
    """Long enough (over a minute) that the windows are read by seeking, as in a library."""
    t = np.arange(int(seconds * SR)) / SR
    freq = np.array([220.0, 277.2, 329.6, 440.0])[(t * 4).astype(int) % 4]
    phase = 2 * np.pi * np.cumsum(freq) / SR
    rng = np.random.default_rng(3)
    return (0.2 * np.sin(phase) + 0.1 * np.sin(2 * phase) + 0.01 * rng.normal(size=t.size)).astype(
        np.float32
    )


def test_default_model_in_onnx_runtime_matches_torch_on_decoded_files(
    tmp_path: Path, default_pair: tuple[Embedder, Embedder]
) -> None:
    paths = [
        make_track(tmp_path / "drums", "mp3", samples=drum_loop(), sample_rate=SR),
        make_track(tmp_path / "piano", "flac", samples=piano_chords(), sample_rate=SR),
        make_track(tmp_path / "arpeggio", "ogg", samples=_arpeggio(), sample_rate=SR),
    ]
    torch_side, onnx_side = default_pair
    want = torch_side.embed_audio(paths)
    got = onnx_side.embed_audio(paths)
    assert onnx_side.runtime == "onnx" and got.errors == [] and want.errors == []
    assert got.tracks.shape == (3, 512)
    # Stated tolerance: every track vector within cosine 0.99999 of torch's, every window
    # coordinate within 1e-4 (measured: 1e-7 differences, float rounding only).
    cos = (got.tracks * want.tracks).sum(axis=1)
    assert cos.min() >= 0.99999, cos
    for mine, theirs in zip(got.windows, want.windows, strict=True):
        np.testing.assert_allclose(mine, theirs, atol=1e-4)
    # The three sounds stay apart as torch has them (not one vector for everything).
    assert float(got.tracks[0] @ got.tracks[1]) < 0.95


def test_worker_threads_give_the_same_vectors_whatever_their_number(
    tmp_path: Path,
) -> None:
    embedder = Embedder(tiny_model(seed=2), device="cpu", runtime="onnx")
    paths = [
        make_track(tmp_path / f"t{i}", "flac", samples=np.roll(drum_loop(3.0), 997 * i),
                   sample_rate=SR)
        for i in range(5)
    ]  # fmt: skip
    # Windows of another length than the model's run in torch (the graph fixes it).
    longer = np.tile(drum_loop(1.0), 2)[None, : 2 * embedder.cfg.frontend.clip_samples]
    with torch.inference_mode():
        expected = embedder.model.encode_audio(torch.from_numpy(longer), normalize=True)
    np.testing.assert_array_equal(embedder.embed_windows(longer), expected.numpy())
    one = embedder.embed_audio(paths, batch_size=1, decode_workers=1)
    three = embedder.embed_audio(paths, batch_size=4, decode_workers=3)
    assert one.indices.tolist() == [0, 1, 2, 3, 4]
    assert np.array_equal(one.tracks, three.tracks)  # bit for bit: one track per call
    torch_side = Embedder(embedder.model, device="cpu", runtime="torch")
    reference = torch_side.embed_audio(paths)
    np.testing.assert_allclose(one.tracks, reference.tracks, atol=1e-5)


def test_without_onnxruntime_the_torch_model_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # "import onnxruntime" fails
    model = tiny_model(seed=3)
    windows = np.random.default_rng(0).normal(
        scale=0.1, size=(2, model.cfg.frontend.clip_samples)
    ).astype(np.float32)
    auto = Embedder(model, device="cpu")
    vectors = auto.embed_windows(windows)
    assert auto.runtime == "torch"
    with torch.inference_mode():
        expected = model.encode_audio(torch.from_numpy(windows), normalize=True).numpy()
    assert np.array_equal(vectors, expected)
    strict = Embedder(model, device="cpu", runtime="onnx")
    with pytest.raises(RuntimeError, match="ONNX Runtime"):
        strict.embed_windows(windows)
    with pytest.raises(ValueError, match="runtime"):
        Embedder(model, device="cpu", runtime="tensorflow")


def test_musicnn_front_block_takes_the_max_of_bn_relu_with_negative_scales() -> None:
    torch.manual_seed(0)
    block = _FrontBlock(6, (3, 4), (1, 1)).eval()
    with torch.no_grad():
        block.bn.weight.copy_(torch.tensor([1.5, -2.0, 0.0, -0.5, 0.7, -1.0]))
        block.bn.bias.copy_(torch.linspace(-1, 1, 6))
        block.bn.running_mean.copy_(torch.linspace(-0.2, 0.3, 6))
        block.bn.running_var.copy_(torch.linspace(0.5, 2.0, 6))
        x = torch.randn(2, 1, 10, 12)
        padded = torch.nn.functional.pad(x, (0, 0, 1, 1))
        # musicnn's order: BN(ReLU(conv)), then the max over frequency.
        expected = block.bn(torch.relu(block.conv(padded))).amax(dim=3)
        got = block(x)
    assert got.shape == (2, 6, 10)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)


def test_the_exported_graph_is_kept_and_reused_between_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import engine.audio_graph as audio_graph

    model = tiny_model(seed=4)
    windows = np.random.default_rng(1).normal(
        scale=0.1, size=(3, model.cfg.frontend.clip_samples)
    ).astype(np.float32)
    first = Embedder(model, device="cpu", runtime="onnx", graph_cache=tmp_path / "graphs")
    exported = first.embed_windows(windows)
    stored = list((tmp_path / "graphs").iterdir())
    assert [p.name for p in stored] == [audio_graph.graph_file_name(first.model_id)]
    assert stored[0].name.startswith(f"{first.model_id}-")

    def no_export(*_args: object) -> None:
        raise AssertionError("exported again although a graph was cached")

    monkeypatch.setattr(audio_graph, "export_audio_graph", no_export)
    second = Embedder(model, device="cpu", runtime="onnx", graph_cache=tmp_path / "graphs")
    assert np.array_equal(second.embed_windows(windows), exported)


def test_a_damaged_cached_graph_is_exported_again_and_replaced(tmp_path: Path) -> None:
    from engine.audio_graph import graph_file_name

    model = tiny_model(seed=5)
    windows = np.zeros((1, model.cfg.frontend.clip_samples), dtype=np.float32)
    reference = Embedder(model, device="cpu", runtime="torch").embed_windows(windows)
    embedder = Embedder(model, device="cpu", runtime="onnx", graph_cache=tmp_path)
    cached = tmp_path / graph_file_name(embedder.model_id)
    cached.write_bytes(b"half a graph")  # a crash mid-copy, a full disk
    np.testing.assert_allclose(embedder.embed_windows(windows), reference, atol=1e-5)
    assert embedder.runtime == "onnx" and cached.stat().st_size > 1000
