"""The MSD + MTT musicnn pair tower: layout of its output and where each teacher's logits sit."""

import torch

from engine.towers.musicnn import build_musicnn, musicnn_frontend_cfg
from engine.towers.musicnn_pair import build_musicnn_pair, layer_slices


def test_pair_concatenates_both_teachers_and_slices_find_their_logits():
    frontend = musicnn_frontend_cfg()
    pair = build_musicnn_pair(frontend, layer="pooled+penultimate+logits")
    assert pair.out_dim == 2 * (1506 + 200 + 50) == 3512
    mel = torch.rand(2, 96, 187, generator=torch.Generator().manual_seed(0)) * 4
    with torch.inference_mode():
        out = pair(mel)
        msd = build_musicnn(frontend, layer="logits", weights="packaged:msd_musicnn")(mel)
        mtt = build_musicnn(frontend, layer="logits", weights="packaged:mtt_musicnn")(mel)
    where = layer_slices("pooled+penultimate+logits")
    assert out.shape == (2, 3512)
    assert where["msd.logits"] == slice(1706, 1756)
    assert where["mtt.logits"] == slice(3462, 3512)
    torch.testing.assert_close(out[:, where["msd.logits"]], msd)
    torch.testing.assert_close(out[:, where["mtt.logits"]], mtt)
    assert not any(p.requires_grad for p in pair.parameters())


def test_pair_keeps_batchnorm_frozen_in_train_mode():
    pair = build_musicnn_pair(musicnn_frontend_cfg(), layer="penultimate").train()
    norms = [m for m in pair.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    assert norms and not any(m.training for m in norms)
