"""``python -m tools.distill.soup A B --alpha 0.5 --out DIR``: average two bundles' weights.

Weight-space ensembling of a model and its fine-tune (WiSE-FT, Wortsman et al. 2022):
``(1 - alpha) * A + alpha * B``, tensor by tensor. Only meaningful when B was fine-tuned from
A (``slapdesk-train --init A``): both must have the same configuration and tensors. The
frozen towers are equal in both, so only the heads really mix. Choose ``alpha`` before
looking at any reserved figure (never on the reserved packages).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch


def average_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], alpha: float
                  ) -> dict[str, torch.Tensor]:
    """``(1 - alpha) * a + alpha * b`` for floating tensors; others (counters) from ``b``.

    Raises:
        ValueError: the two hold different tensor names or shapes.
    """
    if a.keys() != b.keys():
        raise ValueError(f"different tensors: {sorted(a.keys() ^ b.keys())[:5]}")
    out = {}
    for name, ta in a.items():
        tb = b[name]
        if ta.shape != tb.shape:
            raise ValueError(f"{name}: shape {tuple(ta.shape)} against {tuple(tb.shape)}")
        out[name] = torch.lerp(ta, tb, alpha) if ta.is_floating_point() else tb.clone()
    return out


def soup(first: str | Path, second: str | Path, alpha: float, out: str | Path) -> str:
    """Write the averaged bundle to ``out``; return its model id."""
    from engine.bundle import load_bundle, save_bundle

    a = load_bundle(first, device="cpu", with_target=False)
    b = load_bundle(second, device="cpu", with_target=False)
    if a.cfg != b.cfg:
        raise ValueError("the two bundles have different configurations")
    model = b.model
    model.load_state_dict(average_state(a.model.state_dict(), model.state_dict(), alpha))
    card = (f"# Weight average of two bundles\n\n(1 - {alpha}) x `{a.model_id}` ({first}) + "
            f"{alpha} x `{b.model_id}` ({second}), `python -m tools.distill.soup`.\n")
    return save_bundle(model, out, card, {"soup": {"a": a.model_id, "b": b.model_id,
                                                   "alpha": alpha}})


def main(argv: list[str] | None = None) -> int:
    """Average two bundles."""
    p = argparse.ArgumentParser(prog="python -m tools.distill.soup", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("first", help="the bundle fine-tuned from (alpha 0)")
    p.add_argument("second", help="its fine-tune (alpha 1)")
    p.add_argument("--alpha", type=float, default=0.5)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    sys.stdout.write(soup(args.first, args.second, args.alpha, args.out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
