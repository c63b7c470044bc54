"""Frozen-encoder features kept on disk: a second run reads them instead of recomputing."""

from __future__ import annotations

from pathlib import Path

from safetensors.torch import load_file

from engine.config import TrainCfg
from engine.train import run_train


def _cfg(out: Path, cache: Path, **changes: object) -> TrainCfg:
    base = TrainCfg(
        model="slap_test",
        synthetic=16,
        steps=2,
        batch_size=4,
        val_fraction=0.0,
        device="cpu",
        workers=0,
        progress=False,
        out=str(out),
        checkpoint_every=0,
        warmup_steps=1,
        freeze_text=True,
        freeze_audio_encoder=True,
        feature_cache=str(cache),
    )
    return TrainCfg(**{**base.to_dict(), **changes})


def test_second_run_reuses_the_cached_features(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert run_train(_cfg(tmp_path / "a", cache, cache_windows=2)) == 0
    files = sorted(cache.glob("[!t]*.safetensors"))
    assert len(files) == 1
    assert len(list(cache.glob("text-*.safetensors"))) == 1
    features = load_file(str(files[0]))["features"]
    assert features.shape[:2] == (16, 2)  # 16 clips x 2 cached windows
    stamp = files[0].stat().st_mtime_ns

    # Another objective on the same backbone and clips: the file is read, not rewritten.
    assert run_train(_cfg(tmp_path / "b", cache, cache_windows=2, objective="clap")) == 0
    assert sorted(cache.glob("[!t]*.safetensors")) == files
    assert files[0].stat().st_mtime_ns == stamp

    # A different window count is a different cache entry.
    assert run_train(_cfg(tmp_path / "c", cache, cache_windows=1)) == 0
    assert len(list(cache.glob("[!t]*.safetensors"))) == 2
    assert len(list(cache.glob("text-*.safetensors"))) == 1  # same captions: one text entry


def test_held_out_subsets_of_equal_size_get_different_cache_keys():
    # The key covers the clips' paths: two validation manifests of the same length must not
    # share one cached feature file.
    from engine.config import SlapCfg
    from engine.data import Clip, ClipDataset
    from engine.features import _cache_key
    from engine.model import build_model
    from engine.run_parts import _Subset

    model = build_model(SlapCfg.from_name("slap_test"))
    sets = [[Clip(f"/m{m}/{i}.flac", ("x",), i, str(i)) for i in range(3)] for m in (1, 2)]
    subsets = [_Subset(ClipDataset(c, model.cfg.frontend), 2) for c in sets]
    assert [c.path for c in subsets[0].clips] == ["/m1/0.flac", "/m1/1.flac"]
    assert _cache_key(model, subsets[0], 1) != _cache_key(model, subsets[1], 1)
