"""HTS-AT: shapes, Swin details, and LAION-CLAP checkpoint key compatibility."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from engine.config import AudioEncoderCfg, AudioFrontendCfg, SlapCfg
from engine.towers import build_audio_encoder, init_audio_encoder_from
from engine.towers.htsat import _merge, _partition, _relative_position_index, _shift_mask

TEST_FRONTEND = SlapCfg.from_name("slap_test").frontend  # 32 mels, 1 s clips

# Parameter names and shapes of LAION-CLAP's HTSAT-base audio branch (its checkpoints'
# ``audio_branch.*`` keys; shapes as in LAION-AI/CLAP issues #113 and #162).
LAION_HTSAT_BASE_KEYS = {
    "bn0.weight": (64,),
    "bn0.running_var": (64,),
    "bn0.num_batches_tracked": (),
    "patch_embed.proj.weight": (128, 1, 4, 4),
    "patch_embed.norm.bias": (128,),
    "layers.0.blocks.0.norm1.weight": (128,),
    "layers.0.blocks.0.attn.relative_position_bias_table": (225, 4),
    "layers.0.blocks.0.attn.relative_position_index": (64, 64),
    "layers.0.blocks.0.attn.qkv.weight": (384, 128),
    "layers.0.blocks.1.attn_mask": (64, 64, 64),
    "layers.0.blocks.1.mlp.fc1.weight": (512, 128),
    "layers.0.downsample.reduction.weight": (256, 512),
    "layers.0.downsample.norm.weight": (512,),
    "layers.1.blocks.1.attn_mask": (16, 64, 64),
    "layers.1.blocks.1.attn.relative_position_bias_table": (225, 8),
    "layers.2.blocks.5.attn.qkv.weight": (1536, 512),
    "layers.2.blocks.5.attn.proj.bias": (512,),
    "layers.2.blocks.11.mlp.fc2.weight": (512, 2048),
    "layers.2.downsample.reduction.weight": (1024, 2048),
    "layers.3.blocks.1.attn.relative_position_bias_table": (225, 32),
    "layers.3.blocks.1.attn.qkv.weight": (3072, 1024),
    "norm.weight": (1024,),
    "tscam_conv.weight": (527, 1024, 2, 3),
    "tscam_conv.bias": (527,),
    "head.weight": (527, 527),
}
# Keys LAION does not have: no shift mask where the map is one window, no merging at the end.
ABSENT = ["layers.0.blocks.0.attn_mask", "layers.3.blocks.1.attn_mask", "layers.3.downsample"]


@pytest.fixture(scope="module")
def htsat_base() -> torch.nn.Module:
    frontend = SlapCfg.from_name("htsat-base").frontend
    return build_audio_encoder(AudioEncoderCfg(name="htsat-base"), frontend).eval()


def test_htsat_base_matches_the_laion_key_list(htsat_base: torch.nn.Module) -> None:
    state = htsat_base.state_dict()
    for key, shape in LAION_HTSAT_BASE_KEYS.items():
        assert key in state, key
        assert tuple(state[key].shape) == shape, key
    for prefix in ABSENT:
        assert not any(k.startswith(prefix) for k in state), prefix
    # 2 + 2 + 12 + 2 blocks; 3 merges; 15 tensors per block (+ attn_mask on shifted ones).
    blocks = {k.rsplit(".", 2)[0] for k in state if ".blocks." in k and k.endswith("norm1.weight")}
    assert len(blocks) == 18
    assert htsat_base.out_dim == 1024
    n_params = sum(p.numel() for p in htsat_base.parameters())
    assert 65e6 < n_params < 75e6  # ~68M for the Swin body + 3.5M for the frozen tscam head


def test_laion_style_checkpoint_initialises_htsat_base(
    htsat_base: torch.nn.Module, tmp_path: Path
) -> None:
    original = {k: v.clone() for k, v in htsat_base.state_dict().items()}
    state = {f"module.audio_branch.{k}": v for k, v in original.items()}
    # LAION's own front-end tensors and the other branches sit in the same file.
    state["module.audio_branch.spectrogram_extractor.stft.conv_real.weight"] = torch.zeros(2, 1, 4)
    state["module.audio_branch.logmel_extractor.melW"] = torch.zeros(513, 64)
    state["module.text_branch.embeddings.word_embeddings.weight"] = torch.zeros(4, 4)
    state["module.audio_projection.0.weight"] = torch.zeros(512, 1024)
    path = tmp_path / "clap_htsat_base.safetensors"
    save_file(state, str(path))
    del state
    # Scramble the tower, then initialise it from the file: everything comes back.
    with torch.no_grad():
        for param in htsat_base.parameters():
            param.zero_()
    report = init_audio_encoder_from(htsat_base, path, strict=True)
    assert report.prefix == "audio_branch."
    assert (report.missing, report.unexpected, report.mismatched) == ([], [], [])
    assert sorted(report.ignored) == [
        "logmel_extractor.melW",
        "spectrogram_extractor.stft.conv_real.weight",
    ]
    assert len(report.loaded) == len(original) == 284
    for key, value in htsat_base.state_dict().items():
        assert torch.equal(value, original[key]), key


def test_htsat_tiny_shapes_and_image_folding() -> None:
    tower = build_audio_encoder(AudioEncoderCfg(name="htsat-tiny"), TEST_FRONTEND).eval()
    assert tower.out_dim == 32 and tower.spec_size == 64 and tower.freq_ratio == 2
    mel = torch.randn(3, 32, 101)
    with torch.inference_mode():
        assert tower(mel).shape == (3, 32)
        # The image stacks the two time halves along frequency (after bn0 and resizing).
        tower.bn0.reset_running_stats()
        ramp = torch.arange(128.0).expand(1, 32, 128)
        image = tower.to_image(ramp)
    assert image.shape == (1, 1, 64, 64)
    assert torch.allclose(image[0, 0, 0], torch.arange(64.0), atol=1e-3)
    assert torch.allclose(image[0, 0, 32], torch.arange(64.0, 128.0), atol=1e-3)
    assert sum(p.numel() for p in tower.parameters() if p.requires_grad) < 40_000


def test_htsat_tiny_trains_but_the_tscam_head_is_frozen() -> None:
    tower = build_audio_encoder(AudioEncoderCfg(name="htsat-tiny"), TEST_FRONTEND).train()
    tower(torch.randn(2, 32, 101)).pow(2).mean().backward()
    assert tower.layers[0].blocks[1].attn.qkv.weight.grad is not None
    assert tower.tscam_conv.weight.grad is None and not tower.head.weight.requires_grad


def test_window_helpers() -> None:
    x = torch.randn(2, 16, 16, 5)
    windows = _partition(x, 4)
    assert windows.shape == (2 * 16, 16, 5)
    assert torch.equal(windows[0], x[0, :4, :4].reshape(16, 5))
    assert torch.equal(_merge(windows, 4, 16, 16), x)
    index = _relative_position_index(8)
    assert index.shape == (64, 64)
    assert int(index[0, 0]) == 7 * 15 + 7  # same token: the table's centre
    assert int(index.max()) == 15 * 15 - 1 and int(index.min()) == 0
    mask = _shift_mask(16, 16, 8, 4)
    assert mask.shape == (4, 64, 64)
    assert torch.all(mask[0] == 0)  # the top-left window holds one region only
    assert set(mask[3].unique().tolist()) == {-100.0, 0.0}


def test_spec_size_must_fit_the_mels() -> None:
    with pytest.raises(ValueError, match="multiple of n_mels"):
        build_audio_encoder(
            AudioEncoderCfg(name="htsat-tiny", params={"spec_size": 50}), AudioFrontendCfg()
        )
