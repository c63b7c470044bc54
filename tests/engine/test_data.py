"""Manifest and library sources, captions from tags, the fixed split, the toy dataset."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from engine.captions import clean_tags, compose_captions
from engine.config import AudioFrontendCfg
from engine.data import ManifestError, read_library, read_manifest, split_clips
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


def test_captions_from_tags() -> None:
    tags = clean_tags(
        {
            "genre": '["Jazz", "jazz", "Bebop"]',
            "mood": "Melancholic",
            "artist": "Chet Baker",
            "year": "1954-03-01",
            "bpm": "72.0",
            "comment": "http://example.com",
        }
    )
    assert tags.genres == ("Jazz", "Bebop")
    assert tags.comment == ""  # a URL is no description
    captions = compose_captions(tags, key="/music/a.mp3", limit=20)
    assert "a melancholic jazz and bebop song" in captions
    assert "slow jazz and bebop at 72 BPM" in captions
    assert "1950s jazz and bebop" in captions
    assert "a melancholic jazz and bebop track by Chet Baker from the 1950s" in captions
    assert len(set(captions)) == len(captions)
    assert len(compose_captions(tags, key="/music/a.mp3")) == 8
    # Artist / album / year alone say nothing about the sound.
    assert compose_captions(clean_tags({"artist": "X", "year": "2001"})) == []
    assert compose_captions(clean_tags({"comment": "dreamy synth pads"})) == ["dreamy synth pads"]
    assert clean_tags({"comment": "00000A2F 00000B11 0000C3D2 00001F2A"}).comment == ""


def _library(tmp_path: Path, rows: list[tuple]) -> Path:
    db = tmp_path / "library.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE tracks (id INTEGER PRIMARY KEY, path BLOB, title TEXT, artist TEXT,"
            " album TEXT, albumartist TEXT, genre TEXT, mood TEXT, year TEXT, comment TEXT,"
            " bpm REAL, status TEXT)"
        )
        conn.executemany(
            "INSERT INTO tracks (path, artist, genre, mood, year, bpm, status)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    return db


def test_library_source(tmp_path: Path) -> None:
    odd_name = os.fsencode(str(tmp_path)) + b"/caf\xe9.flac"  # not UTF-8: stored losslessly
    Path(os.fsdecode(odd_name)).write_bytes(b"x")
    ok = _touch(tmp_path, "ok.mp3")
    plain = _touch(tmp_path, "plain.mp3")
    db = _library(
        tmp_path,
        [
            (os.fsencode(str(ok)), "Band", '["Rock"]', '["Happy"]', "1999", 128, "ok"),
            (odd_name, None, '["Ambient"]', None, None, None, "ok"),
            (os.fsencode(str(plain)), "Band", None, None, "2001", None, "ok"),
            (b"/gone/away.mp3", "Band", '["Pop"]', None, None, None, "ok"),
            (os.fsencode(str(ok)), "Band", '["Pop"]', None, None, None, "error"),
        ],
    )
    data = read_library(db)
    assert [c.row for c in data.clips] == [1, 2]
    assert data.clips[1].path == os.fsdecode(odd_name)
    every = compose_captions(
        clean_tags(
            {"genre": "Rock", "mood": "Happy", "artist": "Band", "year": "1999", "bpm": 128}
        ),
        limit=99,
    )
    assert "a happy rock track by Band from the 1990s" in every
    assert len(data.clips[0].captions) == 8
    assert set(data.clips[0].captions) <= set(every)
    assert data.clips[1].captions == ("ambient music", "an ambient track")
    assert data.untagged == 1
    assert [b.row for b in data.bad] == [4, 5]
    assert "1 without usable tags" in data.description


def test_library_must_be_a_library(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(ManifestError, match="not a SlapDesk library"):
        read_library(other)


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


def test_library_written_by_the_scanner(tmp_path: Path, music_folder: Path) -> None:
    from slapdesk.library.scan.scanner import ScanCfg, run_scan
    from slapdesk.library.store.database import Database

    make_track(music_folder / "untagged", "wav", tags={"title": "No tags"})
    db = Database(tmp_path / "library.sqlite")
    try:
        run_scan(db, [music_folder], cfg=ScanCfg(workers=0))
    finally:
        db.close()
    data = read_library(tmp_path / "library.sqlite")
    assert len(data.clips) == 8  # one per format; the untagged file is counted, not used
    assert data.untagged == 1
    assert data.bad == []
    for clip in data.clips:
        assert len(clip.captions) == 8
        assert any("rock and jazz" in c for c in clip.captions), clip.captions
        assert all("happy" in c or "jazz" in c or "test suite" in c for c in clip.captions)
