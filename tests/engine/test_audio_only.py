"""Loading a bundle for audio only: no transformers, the same vectors, a clean fallback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.audio_bundle import AudioCheckError, read_audio_weights
from engine.bundle import BundleError, save_bundle
from engine.bundle_weights import weights_hash
from engine.inference import Embedder
from slapdesk.resources import resource_path

from .helpers import tiny_model

ROOT = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter: what a load imports shows in its own sys.modules.
_CHILD = """
import json, sys
import numpy as np
from engine.inference import Embedder
embedder = Embedder.from_bundle(sys.argv[1], device="cpu", graph_cache=sys.argv[2],
                                audio_only=True)
rng = np.random.default_rng(0)
waves = [0.1 * rng.standard_normal(5 * embedder.cfg.frontend.sample_rate).astype(np.float32)
         for _ in range(2)]
result = embedder.embed_audio(waves)
print(json.dumps({"vectors": result.tracks.tolist(), "model_id": embedder.model_id,
                  "runtime": embedder.runtime, "built_torch_model": embedder._model is not None,
                  "transformers": "transformers" in sys.modules}))
"""


def _child(bundle: Path, cache: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", _CHILD, str(bundle), str(cache)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _waves(embedder: Embedder, n: int = 2) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    sr = embedder.cfg.frontend.sample_rate
    return [0.1 * rng.standard_normal(5 * sr).astype(np.float32) for _ in range(n)]


@pytest.fixture(scope="module")
def tiny_saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bundles") / "tiny"
    save_bundle(tiny_model(seed=7), folder, "# Tiny\nA test model.\n")
    return folder


def test_the_default_model_loads_for_audio_without_transformers_and_embeds_alike(
    tmp_path: Path,
) -> None:
    bundle = resource_path("models", "default")
    first = _child(bundle, tmp_path / "graphs")  # exports the graph and keeps it
    second = _child(bundle, tmp_path / "graphs")  # opens the kept graph
    assert not first["transformers"] and not second["transformers"]
    assert first["runtime"] == second["runtime"] == "onnx"
    assert first["built_torch_model"] and not second["built_torch_model"]
    assert first["vectors"] == second["vectors"]
    whole = Embedder.from_bundle(bundle, "cpu", runtime="torch")
    expected = whole.embed_audio(_waves(whole)).tracks
    got = np.array(second["vectors"], dtype=np.float32)
    assert second["model_id"] == whole.model_id == "155684bc8b6c7af7"
    # Stated tolerance: ONNX Runtime against torch, float rounding.
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert (got * expected).sum(axis=1).min() >= 0.99999


@pytest.mark.parametrize("runtime", ["torch", "onnx"])
def test_audio_only_vectors_equal_the_whole_models(tiny_saved: Path, runtime: str) -> None:
    audio = Embedder.from_bundle(tiny_saved, "cpu", runtime=runtime, audio_only=True)
    whole = Embedder.from_bundle(tiny_saved, "cpu", runtime=runtime)
    assert audio.audio_only and not whole.audio_only
    assert audio.model_id == whole.model_id and audio.dim == whole.dim == 16
    windows = np.random.default_rng(2).normal(
        scale=0.1, size=(3, audio.cfg.frontend.clip_samples)).astype(np.float32)
    if runtime == "torch":  # the same torch modules and weights: bit for bit
        assert np.array_equal(audio.embed_windows(windows), whole.embed_windows(windows))
    else:
        np.testing.assert_allclose(audio.embed_windows(windows), whole.embed_windows(windows),
                                   atol=1e-6)
    assert not hasattr(audio.model, "text_encoder")
    with pytest.raises(RuntimeError, match="audio only"):
        audio.embed_text(["calm piano"])


def test_changed_weights_are_refused_as_the_whole_loader_refuses_them(
    tiny_saved: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "b"
    shutil.copytree(tiny_saved, folder)
    save_bundle(tiny_model(seed=11), tmp_path / "other", "x")
    shutil.copy(tmp_path / "other" / "model.safetensors", folder / "model.safetensors")
    with pytest.raises(AudioCheckError, match="is not the bundle's"):
        read_audio_weights(folder)
    with pytest.raises(BundleError, match="does not match the model_id"):
        Embedder.from_bundle(folder, "cpu", audio_only=True)
    (folder / "model.safetensors").write_bytes(b"\x08" + b"\0" * 20)
    with pytest.raises(BundleError, match="damaged or truncated"):
        Embedder.from_bundle(folder, "cpu", audio_only=True)
    (folder / "config.json").unlink()
    with pytest.raises(BundleError, match=r"config\.json is missing"):
        Embedder.from_bundle(folder, "cpu", audio_only=True)


def test_what_cannot_be_checked_on_its_own_loads_the_whole_model(
    tiny_saved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import engine.audio_bundle as audio_bundle

    def cannot(*_args: object, **_kwargs: object) -> str:
        raise TypeError("no torch dtype for numpy bfloat16")

    monkeypatch.setattr(audio_bundle, "weights_hash", cannot)
    embedder = Embedder.from_bundle(tiny_saved, "cpu", runtime="torch", audio_only=True)
    assert not embedder.audio_only and hasattr(embedder.model, "text_encoder")
    reference = Embedder.from_bundle(tiny_saved, "cpu", runtime="torch")
    windows = np.zeros((1, embedder.cfg.frontend.clip_samples), dtype=np.float32)
    assert np.array_equal(embedder.embed_windows(windows), reference.embed_windows(windows))


def test_a_cached_graph_is_used_without_building_the_torch_model(
    tiny_saved: Path, tmp_path: Path
) -> None:
    from engine.audio_graph import graph_file_name

    first = Embedder.from_bundle(tiny_saved, "cpu", graph_cache=tmp_path, audio_only=True)
    waves = _waves(first, 3)
    exported = first.embed_audio(waves)
    assert first.runtime == "onnx" and first._model is not None  # it had to export
    cached = tmp_path / graph_file_name(first.model_id)
    assert cached.is_file()
    second = Embedder.from_bundle(tiny_saved, "cpu", graph_cache=tmp_path, audio_only=True)
    again = second.embed_audio(waves)
    assert second._model is None and second.runtime == "onnx"
    assert np.array_equal(again.tracks, exported.tracks)
    cached.write_bytes(b"half a graph")  # damaged: exported again, replaced
    third = Embedder.from_bundle(tiny_saved, "cpu", graph_cache=tmp_path, audio_only=True)
    np.testing.assert_allclose(third.embed_audio(waves).tracks, exported.tracks, atol=1e-6)
    assert third._model is not None and cached.stat().st_size > 1000


def test_a_graph_cached_for_other_code_is_not_used(tiny_saved: Path, tmp_path: Path) -> None:
    """The cache name hashes the code the graph is traced through: a change leaves it unused."""
    import engine.audio_graph as audio_graph

    embedder = Embedder.from_bundle(tiny_saved, "cpu", graph_cache=tmp_path, audio_only=True)
    name = audio_graph.graph_file_name(embedder.model_id)
    stale = tmp_path / f"{embedder.model_id}-0000000000000000.onnx"
    stale.write_bytes(b"a graph of older code")
    embedder.embed_windows(np.zeros((1, embedder.cfg.frontend.clip_samples), np.float32))
    assert (tmp_path / name).is_file() and stale.read_bytes() == b"a graph of older code"


def test_the_weights_id_is_the_same_over_numpy_arrays_and_torch_tensors() -> None:
    state = {"b": torch.arange(6.0).reshape(2, 3), "a": torch.tensor(3), "c": torch.ones(2).bool()}
    arrays = {k: v.numpy() for k, v in state.items()}
    assert weights_hash(arrays) == weights_hash(state)
    with pytest.raises(TypeError, match="no torch dtype"):
        weights_hash({"x": np.zeros(2, dtype=np.complex64)})
