"""Manifests, the fixed split, the toy dataset, decode failures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.config import AudioFrontendCfg
from engine.data import ManifestError, read_manifest, split_clips
from engine.synthetic import N_CLASSES, SyntheticDataset, attributes
from slapdesk.library.demo.audio_files import make_track

FRONTEND = AudioFrontendCfg(sample_rate=8000, clip_seconds=0.5, n_windows=2)


def _touch(folder: Path, name: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_csv_manifest_merges_rows_and_reports_bad_ones(tmp_path: Path) -> None:
    _touch(tmp_path, "audio/a.wav")
    _touch(tmp_path, "audio/b.wav")
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "audio,caption\n"
        "audio/a.wav,calm piano\n"
        "audio/missing.wav,loud drums\n"
        "audio/b.wav,\n"
        "audio/a.wav,soft solo piano\n"
        "audio/b.wav,fast techno\n",
        encoding="utf-8",
    )
    data = read_manifest(manifest)
    assert [c.key for c in data.clips] == ["audio/a.wav", "audio/b.wav"]
    a = data.clips[0]
    assert a.captions == ("calm piano", "soft solo piano")
    assert a.path == str(tmp_path / "audio" / "a.wav")
    assert a.row == 2
    assert data.clips[1].row == 6
    assert [(b.row, b.reason.split(":")[0]) for b in data.bad] == [
        (3, "audio file not found"),
        (4, "empty caption"),
    ]
    assert str(data.bad[0]).startswith(f"{manifest}: row 3: audio file not found")


def test_jsonl_manifest_with_caption_lists(tmp_path: Path) -> None:
    _touch(tmp_path, "x.flac")
    manifest = tmp_path / "m.jsonl"
    lines = [
        json.dumps({"audio": "x.flac", "captions": ["one", "", "two"]}),
        "{not json",
        "",
        json.dumps({"audio": "x.flac", "caption": "three", "captions": ["one"]}),
        json.dumps({"caption": "no audio"}),
        json.dumps(["a", "list"]),
    ]
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = read_manifest(manifest)
    assert len(data.clips) == 1
    assert data.clips[0].captions == ("one", "two", "three")
    assert [(b.row, b.reason[:12]) for b in data.bad] == [
        (2, "not valid JS"),
        (5, "no audio pat"),
        (6, "not a JSON o"),
    ]


def test_manifest_without_columns_is_an_error(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("file_name,label\nx.wav,rock\n", encoding="utf-8")
    with pytest.raises(ManifestError, match="'audio'"):
        read_manifest(manifest)
    with pytest.raises(ManifestError, match="cannot read"):
        read_manifest(tmp_path / "absent.csv")


def test_split_is_fixed_by_path() -> None:
    from engine.data import Clip

    clips = [Clip(f"/m/{i}.wav", ("c",), i, f"{i}.wav") for i in range(400)]
    train, val = split_clips(clips, 0.1)
    assert len(train) + len(val) == 400
    assert 20 < len(val) < 60
    # Adding clips never moves an existing one.
    more = clips + [Clip(f"/m/n{i}.wav", ("c",), i, f"n{i}.wav") for i in range(100)]
    _, val2 = split_clips(more, 0.1)
    assert {c.key for c in val} <= {c.key for c in val2}


def test_synthetic_dataset_is_deterministic_per_epoch() -> None:
    ds = SyntheticDataset(2 * N_CLASSES, FRONTEND, seed=3)
    first = ds[5]
    assert first["waveform"].shape == (FRONTEND.clip_samples,)
    assert first["waveform"].dtype == np.float32
    assert first["caption"] in ds.captions(5)
    register, timbre, rhythm = attributes(5)
    assert all(register in c and timbre in c for c in ds.captions(5))
    assert any(rhythm in c for c in ds.captions(5))
    np.testing.assert_array_equal(ds[5]["waveform"], first["waveform"])
    ds.set_epoch(1)
    assert not np.array_equal(ds[5]["waveform"], first["waveform"])
    windows = ds.fixed_windows(5)
    assert windows.shape == (2, FRONTEND.clip_samples)
    np.testing.assert_array_equal(windows, ds.fixed_windows(5))
    assert len({attributes(i) for i in range(N_CLASSES)}) == N_CLASSES


def test_undecodable_audio_is_reported_and_replaced(tmp_path: Path) -> None:
    pytest.importorskip("engine.audio")
    from engine.data import ClipDataset, collate

    good = make_track(tmp_path / "good", "wav", seconds=1.0)
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"ID3 this is not audio" * 50)
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"audio,caption\n{broken.name},noise\n{good.name},a tone\n")
    data = read_manifest(manifest)
    ds = ClipDataset(data.clips, FRONTEND, seed=0)
    batch = collate([ds[0], ds[1]])
    assert batch["waveform"].shape == (2, FRONTEND.clip_samples)
    assert batch["captions"] == ["a tone", "a tone"]
    assert batch["index"].tolist() == [1, 1]
    assert len(batch["failures"]) == 1
    failure = batch["failures"][0]
    assert failure.row == 2
    assert "broken.mp3" in str(failure)


def test_weight_column_sets_how_often_a_clip_is_drawn(tmp_path: Path) -> None:
    from engine.data import ClipDataset, EpochIndices

    for name in ("a", "b", "c", "d"):
        _touch(tmp_path, f"{name}.wav")
    rows = [{"audio": "a.wav", "caption": "x", "weight": 3}, {"audio": "b.wav", "caption": "y"},
            {"audio": "a.wav", "caption": "z", "weight": 2},  # merged: the larger weight stays
            {"audio": "c.wav", "caption": "w", "weight": 0.5},  # not a whole number >= 1
            {"audio": "d.wav", "caption": "v", "weight": "2"}]
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    data = read_manifest(manifest)
    assert [(c.key, c.weight, c.captions) for c in data.clips] == [
        ("a.wav", 3, ("x", "z")), ("b.wav", 1, ("y",)), ("d.wav", 2, ("v",))]
    assert [(b.row, b.reason) for b in data.bad] == [(4, "weight 0.5 is not a whole number >= 1")]
    draws = EpochIndices(ClipDataset(data.clips, FRONTEND))
    assert [draws[j] for j in range(len(draws))] == [0, 0, 0, 1, 2, 2]


def test_epoch_indices_of_cached_features_and_of_unweighted_data() -> None:
    from engine.data import Clip, EpochIndices
    from engine.features import CachedAudioDataset

    clips = [Clip(f"/m/{i}.wav", ("c",), i, f"{i}.wav", weight=i + 1) for i in range(3)]

    class Source:
        def __init__(self) -> None:
            self.clips = clips

        def __len__(self) -> int:
            return len(clips)

    import torch

    # Clip 0 failed to decode: the cached rows are clips 1 and 2 (weights 2 and 3).
    cached = CachedAudioDataset(torch.zeros(2, 1, 4), [1, 2], Source(), seed=0)  # type: ignore[arg-type]
    assert EpochIndices(cached).indices == [0, 0, 1, 1, 1]
    toy = SyntheticDataset(5, FRONTEND, seed=0)
    assert EpochIndices(toy).indices == [0, 1, 2, 3, 4]
