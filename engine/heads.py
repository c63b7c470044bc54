"""Projector and predictor MLPs of SLAP (BYOL-style heads).

The heads use LayerNorm or no normalisation, never BatchNorm: BatchNorm mixes the samples
of a batch, which would make the loss depend on how a batch is split into micro-batches.
With per-sample normalisation, an accumulated optimizer step equals the large-batch step.
"""

from __future__ import annotations

from torch import nn

from engine.config import HeadCfg


def mlp(in_dim: int, hidden_dim: int, out_dim: int, norm: str = "layernorm") -> nn.Sequential:
    """Build a two-layer MLP: Linear -> (LayerNorm) -> ReLU -> Linear.

    Args:
        in_dim: Input features.
        hidden_dim: Hidden features.
        out_dim: Output features.
        norm: "layernorm" or "none" (BatchNorm is refused on purpose, see module doc).

    Returns:
        The MLP as an ``nn.Sequential`` with stable parameter names ("0", "1", ...).

    Raises:
        ValueError: For an unknown ``norm``.
    """
    if norm == "layernorm":
        norm_layer: nn.Module = nn.LayerNorm(hidden_dim)
    elif norm == "none":
        norm_layer = nn.Identity()
    else:
        raise ValueError(f"head norm must be 'layernorm' or 'none', not {norm!r}")
    return nn.Sequential(
        nn.Linear(in_dim, hidden_dim),
        norm_layer,
        nn.ReLU(inplace=True),
        nn.Linear(hidden_dim, out_dim),
    )


def build_projector(in_dim: int, cfg: HeadCfg) -> nn.Sequential:
    """Projector: encoder output (``in_dim``) -> ``projector_hidden`` -> ``embed_dim``."""
    return mlp(in_dim, cfg.projector_hidden, cfg.embed_dim, cfg.norm)


def build_predictor(cfg: HeadCfg) -> nn.Sequential:
    """Predictor: ``embed_dim`` -> ``predictor_hidden`` -> ``embed_dim``."""
    return mlp(cfg.embed_dim, cfg.predictor_hidden, cfg.embed_dim, cfg.norm)
