"""A frozen packaged text tower is stored by reference: small bundles, identical embeddings."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import torch

from engine.bundle import load_bundle, save_bundle
from engine.config import SlapCfg, TextEncoderCfg
from engine.inference import Embedder
from engine.model import build_model


def _minilm_model() -> torch.nn.Module:
    cfg = SlapCfg.from_name("slap_test")
    cfg = dataclasses.replace(cfg, text=TextEncoderCfg(source="packaged:minilm", max_length=16))
    torch.manual_seed(0)
    return build_model(cfg)


def test_frozen_packaged_text_is_referenced_not_copied(tmp_path: Path) -> None:
    model = _minilm_model()
    model_id = save_bundle(model, tmp_path / "ref", "card")
    config = json.loads((tmp_path / "ref" / "config.json").read_text())
    assert config["external_weights"] == {"text_encoder.": "packaged:minilm"}
    assert (tmp_path / "ref" / "model.safetensors").stat().st_size < 5_000_000  # not 90 MB

    loaded = load_bundle(tmp_path / "ref", device="cpu", with_target=False)
    assert loaded.model_id == model_id
    texts = ["a calm piano piece", "loud drums"]
    model.eval()
    expected = model.encode_text(model.tokenize(texts), normalize=True).detach().numpy()
    got = Embedder(loaded.model, device="cpu").embed_text(texts)
    assert np.array_equal(got, expected)


def test_a_fine_tuned_text_tower_is_stored(tmp_path: Path) -> None:
    model = _minilm_model()
    with torch.no_grad():
        next(model.text_encoder.parameters()).add_(0.01)
    save_bundle(model, tmp_path / "tuned", "card")
    config = json.loads((tmp_path / "tuned" / "config.json").read_text())
    assert config["external_weights"] == {}
    assert (tmp_path / "tuned" / "model.safetensors").stat().st_size > 50_000_000
    load_bundle(tmp_path / "tuned", device="cpu", with_target=False)
