"""Text towers: the packaged MiniLM, pooling, random init for tests, missing models."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine.config import TextEncoderCfg
from engine.towers import MissingModelError, build_text_encoder
from engine.towers.text import resolve_text_source

CAPTIONS = ["mellow acoustic guitar for a rainy evening", "loud techno", "a"]


def test_packaged_minilm_matches_mean_pooled_automodel() -> None:
    from transformers import AutoModel

    encoder = build_text_encoder(TextEncoderCfg(max_length=32)).eval()
    assert encoder.out_dim == 384
    tokens = encoder.tokenize(CAPTIONS)
    assert tokens["input_ids"].shape == (3, 32)  # fixed length
    with torch.inference_mode():
        ours = encoder(**tokens)
    # The wrapped model is the plain AutoModel from the package's folder.
    folder = resolve_text_source("packaged:minilm")
    assert isinstance(encoder.model, AutoModel._model_mapping[type(encoder.model.config)])
    assert encoder.model.name_or_path == str(folder)
    batch = encoder.tokenizer(CAPTIONS, padding=True, return_tensors="pt")  # dynamic padding
    with torch.inference_mode():
        hidden = encoder.model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    reference = (hidden * mask).sum(1) / mask.sum(1)
    assert ours.shape == (3, 384)
    assert torch.allclose(ours, reference, atol=1e-5)
    # Different captions are different; the model is pretrained, not random.
    cos = torch.nn.functional.cosine_similarity(ours[0], ours[1], dim=0)
    assert float(cos) < 0.9


def test_cls_pooling_takes_the_first_token() -> None:
    mean = build_text_encoder(TextEncoderCfg(max_length=16, random_init={"hidden_size": 32}))
    cls = build_text_encoder(
        TextEncoderCfg(max_length=16, pooling="cls", random_init={"hidden_size": 32})
    )
    tokens = mean.tokenize(CAPTIONS)
    with torch.inference_mode():
        hidden = mean.model(**tokens).last_hidden_state
        assert torch.allclose(cls(**tokens), hidden[:, 0])


def test_random_init_is_tiny_and_reproducible() -> None:
    cfg = TextEncoderCfg(max_length=16, random_init={"hidden_size": 32, "num_hidden_layers": 2})
    a, b = build_text_encoder(cfg).eval(), build_text_encoder(cfg).eval()
    assert a.out_dim == 32
    tokens = a.tokenize(CAPTIONS)
    with torch.inference_mode():
        assert torch.equal(a(**tokens), b(**tokens))
    assert sum(p.numel() for p in a.parameters()) < 1_100_000  # mostly the 30k-word embedding


def test_missing_folder_gives_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MissingModelError, match=r"not found.*never downloaded"):
        build_text_encoder(TextEncoderCfg(source=str(tmp_path / "no-model")))
    (tmp_path / "empty").mkdir()
    with pytest.raises(MissingModelError, match=r"no config\.json"):
        build_text_encoder(TextEncoderCfg(source=str(tmp_path / "empty")))
    with pytest.raises(MissingModelError, match="unknown packaged text model"):
        build_text_encoder(TextEncoderCfg(source="packaged:roberta"))


def test_loading_the_packaged_model_prints_no_progress_bar(
    capfd: pytest.CaptureFixture[str],
) -> None:
    build_text_encoder(TextEncoderCfg(max_length=32))
    assert "Loading weights" not in capfd.readouterr().err  # the app shows its own progress
