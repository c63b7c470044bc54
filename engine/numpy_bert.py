"""A BERT encoder forward pass in numpy (float32), for text queries that must not load torch.

Follows Hugging Face ``BertModel`` in eval mode: word + position + token-type embeddings,
LayerNorm, then per layer self-attention (padding masked), residual + LayerNorm, a GELU
feed-forward, residual + LayerNorm. Weights are the ``BertModel`` state dict's arrays under
their own names (``embeddings.word_embeddings.weight``, ``encoder.layer.0...``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# Abramowitz & Stegun 7.1.26: |erf error| < 1.5e-7, far below float32 GELU noise in a forward.
_AS_P = 0.3275911
_AS_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
_SQRT_HALF = np.float32(np.sqrt(0.5))
# Added to the attention scores of padding keys: their softmax weight underflows to 0.
_MASKED = np.float32(-1e30)
# HF BertConfig defaults for the fields a random-init spec may leave out.
_BERT_DEFAULTS = {
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "max_position_embeddings": 512,
    "layer_norm_eps": 1e-12,
    "hidden_act": "gelu",
}


def _erf(x: np.ndarray) -> np.ndarray:
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + _AS_P * a)
    poly = t * (_AS_A[0] + t * (_AS_A[1] + t * (_AS_A[2] + t * (_AS_A[3] + t * _AS_A[4]))))
    return sign * (1.0 - poly * np.exp(-a * a))


def gelu(x: np.ndarray) -> np.ndarray:
    """The exact (erf) GELU that BERT's ``"gelu"`` activation uses."""
    return (0.5 * x * (1.0 + _erf(x * _SQRT_HALF))).astype(np.float32, copy=False)


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm over the last axis (biased variance, as torch)."""
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, axis=-1, keepdims=True)
    return centred / np.sqrt(var + np.float32(eps)) * weight + bias


def linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """``x @ weight.T + bias`` with torch's [out, in] weight layout, over the last axis of x."""
    # One 2-D product: numpy runs a stacked 3-D product with a transposed operand ~9x slower.
    out = (x.reshape(-1, x.shape[-1]) @ weight.T).reshape(*x.shape[:-1], weight.shape[0])
    return out + bias if bias is not None else out


@dataclass(frozen=True)
class BertSpec:
    """The architecture numbers a forward pass needs (from a Hugging Face ``config.json``)."""

    hidden_size: int  # width of every token state
    num_layers: int  # transformer layers
    num_heads: int  # attention heads per layer
    max_positions: int  # learned position embeddings: the longest input
    layer_norm_eps: float  # LayerNorm epsilon inside the encoder

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> BertSpec:
        """Read a BERT ``config.json`` (or a random-init spec over BertConfig's defaults).

        Raises:
            ValueError: for an activation other than exact GELU.
        """
        merged = {**_BERT_DEFAULTS, **config}
        if merged["hidden_act"] != "gelu":
            raise ValueError(f"hidden_act {merged['hidden_act']!r} is not supported here")
        return cls(
            hidden_size=int(merged["hidden_size"]),
            num_layers=int(merged["num_hidden_layers"]),
            num_heads=int(merged["num_attention_heads"]),
            max_positions=int(merged["max_position_embeddings"]),
            layer_norm_eps=float(merged["layer_norm_eps"]),
        )

    def weight_names(self) -> list[str]:
        """Every array the forward reads (pooler weights are optional, read when present)."""
        names = [f"embeddings.{n}" for n in (
            "word_embeddings.weight", "position_embeddings.weight",
            "token_type_embeddings.weight", "LayerNorm.weight", "LayerNorm.bias")]
        for i in range(self.num_layers):
            prefix = f"encoder.layer.{i}."
            for part in ("attention.self.query", "attention.self.key", "attention.self.value",
                         "attention.output.dense", "intermediate.dense", "output.dense"):
                names += [f"{prefix}{part}.weight", f"{prefix}{part}.bias"]
            for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
                names += [f"{prefix}{norm}.weight", f"{prefix}{norm}.bias"]
        return names


class NumpyBert:
    """``hidden_states(ids, mask)`` and ``pooled(ids, mask, pooling)`` for a BERT encoder."""

    def __init__(self, spec: BertSpec, weights: dict[str, np.ndarray]) -> None:
        """Keep the weights (float32).

        Raises:
            KeyError: a weight the forward needs is missing.
        """
        missing = [name for name in spec.weight_names() if name not in weights]
        if missing:
            raise KeyError(f"{len(missing)} BERT weights missing (e.g. {', '.join(missing[:3])})")
        self.spec = spec
        self.w = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in weights.items()}

    def _attention(self, x: np.ndarray, bias: np.ndarray, prefix: str) -> np.ndarray:
        heads = self.spec.num_heads
        batch, length, width = x.shape
        size = width // heads

        def split(name: str) -> np.ndarray:
            projected = self._dense(x, f"{prefix}{name}")
            return projected.reshape(batch, length, heads, size).transpose(0, 2, 1, 3)

        q, k, v = split("query"), split("key"), split("value")
        scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(size)) + bias
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        probs = scores / scores.sum(axis=-1, keepdims=True)
        return (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, width)

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        return linear(x, self.w[f"{name}.weight"], self.w[f"{name}.bias"])

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        return layer_norm(x, self.w[f"{name}.weight"], self.w[f"{name}.bias"],
                          self.spec.layer_norm_eps)

    def _layer(self, x: np.ndarray, bias: np.ndarray, i: int) -> np.ndarray:
        p = f"encoder.layer.{i}."
        context = self._attention(x, bias, f"{p}attention.self.")
        x = self._norm(self._dense(context, f"{p}attention.output.dense") + x,
                       f"{p}attention.output.LayerNorm")
        inner = gelu(self._dense(x, f"{p}intermediate.dense"))
        return self._norm(self._dense(inner, f"{p}output.dense") + x, f"{p}output.LayerNorm")

    def hidden_states(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Token states [B, L, H] of token ids [B, L] (``mask`` 1 for tokens, 0 for padding)."""
        w = self.w
        length = ids.shape[1]
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:length]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = self._norm(x, "embeddings.LayerNorm")
        bias = np.where(mask[:, None, None, :] > 0, np.float32(0), _MASKED)
        for i in range(self.spec.num_layers):
            x = self._layer(x, bias, i)
        return x

    def pooled(self, ids: np.ndarray, mask: np.ndarray, pooling: str) -> np.ndarray:
        """One vector per input [B, H]: masked mean of the token states, CLS, or the pooler."""
        hidden = self.hidden_states(ids, mask)
        if pooling == "mean":
            weights = mask[..., None].astype(np.float32)
            return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        if pooling == "cls":
            return hidden[:, 0]
        if pooling == "pooler":
            return np.tanh(self._dense(hidden[:, 0], "pooler.dense"))
        raise ValueError(f"unknown text pooling {pooling!r}")
