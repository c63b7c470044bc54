"""The numpy text-query path gives the torch path's vectors and rankings, without torch."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.bundle import save_bundle
from engine.config import HeadCfg, TextEncoderCfg
from engine.inference import Embedder
from engine.model import build_model
from engine.textquery import TextQueryEncoder, UnsupportedTowerError, load_text_embedder
from tests.engine.helpers import tiny_cfg

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "resources" / "models" / "default"
QUERIES = [
    "calm piano",
    "mellow acoustic guitar for a rainy evening",
    "LOUD Techno with 808 drums!!",
    "Café del Mar — ambient chill",
    "a",
    "东京 jazz 🎷 saxophone",
    " ".join(["a very long query that the tokenizer must truncate"] * 12),
]


def _assert_same(lean: np.ndarray, reference: np.ndarray) -> None:
    assert lean.dtype == np.float32
    assert lean.shape == reference.shape
    cos = (lean * reference).sum(axis=1)
    assert cos.min() > 0.9999
    assert float(np.abs(lean - reference).max()) < 1e-4


@pytest.fixture(scope="module")
def default_pair() -> tuple[TextQueryEncoder, np.ndarray]:
    """The numpy encoder of the shipped model, and the torch path's vectors of QUERIES."""
    reference = Embedder.from_bundle(DEFAULT, device="cpu")
    assert reference.model_id == "155684bc8b6c7af7"
    return TextQueryEncoder.from_bundle(DEFAULT), reference.embed_text(QUERIES)


def test_default_model_vectors_equal_the_torch_path(
    default_pair: tuple[TextQueryEncoder, np.ndarray],
) -> None:
    lean, reference = default_pair
    assert lean.model_id == "155684bc8b6c7af7"
    assert lean.dim == 512
    _assert_same(lean.embed_text(QUERIES), reference)
    # One at a time (no padding at all) and in small batches give the same vectors.
    single = np.concatenate([lean.embed_text([q]) for q in QUERIES])
    _assert_same(single, reference)
    _assert_same(lean.embed_text(QUERIES, batch_size=3), single)
    assert lean.embed_text([]).shape == (0, 512)


def test_default_model_ranks_like_the_torch_path(
    default_pair: tuple[TextQueryEncoder, np.ndarray],
) -> None:
    lean, reference = default_pair
    # A "library" of clustered vectors, as tracks are: many short descriptions.
    words = ["piano", "guitar", "drums", "techno", "jazz", "calm", "sad", "fast", "vocal",
             "ambient", "rock", "strings", "bass", "happy", "dark", "organ"]
    captions = [f"{a} {b} {c}" for a in words for b in words[::3] for c in ("song", "loop")]
    library = lean.embed_text(captions)
    queries = lean.embed_text(QUERIES)
    for row in range(len(QUERIES)):
        expected = np.argsort(-(library @ reference[row]), kind="stable")
        got = np.argsort(-(library @ queries[row]), kind="stable")
        assert np.array_equal(got[:50], expected[:50])


def test_a_query_typed_again_is_not_embedded_again(
    default_pair: tuple[TextQueryEncoder, np.ndarray], monkeypatch: pytest.MonkeyPatch,
) -> None:
    lean, reference = default_pair
    first = lean.embed_text(["calm piano"])
    calls = []
    monkeypatch.setattr(lean, "_embed", lambda texts, size: calls.append(texts))
    again = lean.embed_text(["calm piano"])
    assert calls == []  # the window re-runs the query in its box after each library change
    _assert_same(again, reference[:1])
    again[0, 0] = 7.0  # the caller's copy: the kept vector is not changed through it
    assert np.array_equal(lean.embed_text(["calm piano"]), first)


@pytest.mark.parametrize(
    ("objective", "norm"), [("slap", "layernorm"), ("slap", "none"), ("clap", "layernorm")]
)
def test_tiny_random_bert_bundles_equal_the_torch_path(
    tmp_path: Path, objective: str, norm: str
) -> None:
    cfg = tiny_cfg(objective)
    cfg = dataclasses.replace(cfg, head=dataclasses.replace(cfg.head, norm=norm))
    torch.manual_seed(3)
    save_bundle(build_model(cfg), tmp_path / "b", "card")
    lean = TextQueryEncoder.from_bundle(tmp_path / "b")
    reference = Embedder.from_bundle(tmp_path / "b", device="cpu")
    assert lean.model_id == reference.model_id
    _assert_same(lean.embed_text(QUERIES), reference.embed_text(QUERIES))


def test_a_text_query_imports_neither_torch_nor_transformers() -> None:
    code = (
        "import sys; from engine.textquery import load_text_embedder; "
        f"e = load_text_embedder({str(DEFAULT)!r}); v = e.embed_text(['calm piano']); "
        "print(type(e).__name__, v.shape, 'torch' in sys.modules, 'transformers' in sys.modules)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["TextQueryEncoder", "(1,", "512)", "False", "False"]


def _electra_bundle(tmp_path: Path) -> Path:
    """A bundle whose text tower is a tiny local ELECTRA folder (not BERT)."""
    from transformers import ElectraConfig, ElectraModel

    from engine.text_source import resolve_text_source

    folder = tmp_path / "electra"
    config = ElectraConfig(vocab_size=30522, embedding_size=16, hidden_size=16,
                           num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    torch.manual_seed(0)
    ElectraModel(config).save_pretrained(folder)
    packaged = resolve_text_source("packaged:minilm")
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt",
                 "special_tokens_map.json"):
        shutil.copy(packaged / name, folder / name)
    cfg = dataclasses.replace(tiny_cfg(), text=TextEncoderCfg(source=str(folder), max_length=16),
                              head=HeadCfg(embed_dim=16, projector_hidden=24, predictor_hidden=32))
    save_bundle(build_model(cfg), tmp_path / "bundle", "card")
    return tmp_path / "bundle"


def test_other_text_towers_fall_back_to_torch(tmp_path: Path) -> None:
    bundle = _electra_bundle(tmp_path)
    assert json.loads((bundle / "config.json").read_text())["text_encoder"] == "text_encoder/"
    with pytest.raises(UnsupportedTowerError, match="electra"):
        TextQueryEncoder.from_bundle(bundle)
    embedder = load_text_embedder(bundle)
    assert isinstance(embedder, Embedder)
    vectors = embedder.embed_text(QUERIES[:2])
    assert vectors.shape == (2, 16)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert isinstance(load_text_embedder(DEFAULT), TextQueryEncoder)


def test_safetensors_are_read_exactly_and_damage_is_a_bundle_error(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    from engine.bundle_info import BundleError
    from engine.textquery import _read_arrays

    arrays = {"a": np.arange(12, dtype=np.float32).reshape(3, 4) / 7,
              "b": np.array([[1.5, -2.25]], dtype=np.float16), "c": np.arange(5, dtype=np.int64)}
    path = tmp_path / "model.safetensors"
    save_file(arrays, str(path), metadata={"aliases": json.dumps({"tied": "a"})})
    read = _read_arrays(path, ["a", "b", "c", "tied", "absent"])
    assert sorted(read) == ["a", "b", "c", "tied"]
    for name, expected in [*arrays.items(), ("tied", arrays["a"])]:
        assert read[name].dtype == expected.dtype and np.array_equal(read[name], expected)
    path.write_bytes(path.read_bytes()[:-8])  # cut inside the last tensor
    with pytest.raises(BundleError, match="damaged"):
        _read_arrays(path, ["a", "b", "c"])
    path.write_bytes(b"\xff" * 64)  # not safetensors at all
    with pytest.raises(BundleError, match="damaged"):
        _read_arrays(path, ["a"])
    header = json.dumps({"w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}).encode()
    path.write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * 4)
    with pytest.raises(UnsupportedTowerError):
        _read_arrays(path, ["w"])
