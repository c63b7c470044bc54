from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from engine.loss import clap_loss, cosine_distance, slap_loss, slap_loss_terms
from engine.schedule import cosine_tau, ema_tau, linear_tau, warmup_cosine_lr


def _d(q: np.ndarray, z: np.ndarray) -> np.ndarray:
    """1 - cos per row, in float64 numpy."""
    return 1.0 - (q * z).sum(1) / (np.linalg.norm(q, axis=1) * np.linalg.norm(z, axis=1))


@pytest.mark.parametrize("lam", [0.5, 0.3])
def test_slap_loss_equals_the_formula_term_by_term(lam: float) -> None:
    gen = torch.Generator().manual_seed(1)
    qa, qt, za, zt = (torch.randn(6, 8, generator=gen, dtype=torch.float64) for _ in range(4))
    terms = slap_loss_terms(qa, qt, za, zt, lam)
    n = [x.numpy() for x in (qa, qt, za, zt)]
    expected = {
        "a2t": _d(n[0], n[3]),  # d(qA, z̄T)
        "t2a": _d(n[1], n[2]),  # d(qT, z̄A)
        "a2a": _d(n[0], n[2]),  # d(qA, z̄A)
        "t2t": _d(n[1], n[3]),  # d(qT, z̄T)
    }
    for name, value in expected.items():
        np.testing.assert_allclose(terms[name].numpy(), value, rtol=0, atol=1e-12)
    total = lam * (expected["a2t"] + expected["t2a"]) + (1 - lam) * (
        expected["a2a"] + expected["t2t"]
    )
    np.testing.assert_allclose(terms["loss"].numpy(), total, rtol=0, atol=1e-12)
    means = slap_loss(qa, qt, za, zt, lam)
    assert means["loss"].item() == pytest.approx(total.mean(), abs=1e-12)


def test_cosine_distance_of_known_vectors() -> None:
    q = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    z = torch.tensor([[2.0, 0.0], [0.0, 3.0], [-1.0, 0.0]])
    assert cosine_distance(q, z).tolist() == pytest.approx([0.0, 1.0, 2.0])


def test_targets_get_no_gradient() -> None:
    qa, qt, za, zt = (torch.randn(4, 5, requires_grad=True) for _ in range(4))
    slap_loss(qa, qt, za, zt)["loss"].backward()
    assert qa.grad is not None and qt.grad is not None
    assert za.grad is None and zt.grad is None


def test_clap_loss_equals_hand_computed_infonce_on_3x3() -> None:
    # Unit vectors, so the similarities are the dot products below.
    audio = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    text = torch.tensor([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
    scale = 2.0
    sims = [[1.0, 0.8, 0.0], [0.0, 0.6, 1.0], [0.6, 0.96, 0.8]]  # audio i . text j

    def ce(row: list[float], target: int) -> float:
        logits = [scale * s for s in row]
        return -logits[target] + math.log(sum(math.exp(v) for v in logits))

    a2t = sum(ce(sims[i], i) for i in range(3)) / 3
    t2a = sum(ce([sims[j][i] for j in range(3)], i) for i in range(3)) / 3
    out = clap_loss(audio, text, scale)
    assert out["a2t"].item() == pytest.approx(a2t, abs=1e-6)
    assert out["t2a"].item() == pytest.approx(t2a, abs=1e-6)
    assert out["loss"].item() == pytest.approx((a2t + t2a) / 2, abs=1e-6)
    # Scaling the inputs changes nothing: they are normalised first.
    assert clap_loss(3 * audio, text, scale)["loss"].item() == pytest.approx(out["loss"].item())


def test_tau_schedules() -> None:
    assert ema_tau(0, 100) == 0.95
    assert ema_tau(77, 100, 0.9) == 0.9
    assert cosine_tau(0, 101, 0.95, 1.0) == pytest.approx(0.95)
    assert cosine_tau(50, 101, 0.95, 1.0) == pytest.approx(0.975)
    assert cosine_tau(100, 101, 0.95, 1.0) == pytest.approx(1.0)
    assert linear_tau(25, 101, 0.9, 1.0) == pytest.approx(0.925)
    assert ema_tau(500, 101, 0.9, "linear") == pytest.approx(1.0)
    with pytest.raises(ValueError, match="unknown EMA schedule"):
        ema_tau(0, 10, 0.9, "step")  # type: ignore[arg-type]


def test_warmup_cosine_lr() -> None:
    lrs = [warmup_cosine_lr(s, 1e-3, 10, 110, 1e-5) for s in range(120)]
    assert lrs[0] == pytest.approx(1e-4)
    assert lrs[9] == pytest.approx(1e-3)
    assert lrs[10] == pytest.approx(1e-3)
    assert lrs[60] == pytest.approx(1e-5 + (1e-3 - 1e-5) * 0.5)
    assert lrs[115] == 1e-5
    assert all(a >= b for a, b in itertools.pairwise(lrs[10:]))
