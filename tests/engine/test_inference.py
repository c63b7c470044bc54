from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.inference import Embedder
from slapdesk.library.demo.audio_files import make_track

from .helpers import tiny_model

SR = 22_050


def _music(seconds: float = 4.0, seed: int = 0) -> np.ndarray:
    """A little arpeggio with harmonics and a noise floor: richer than a sine."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    notes = [220.0, 277.2, 329.6, 440.0]
    freq = np.array(notes)[(t * 4).astype(int) % 4]
    phase = 2 * np.pi * np.cumsum(freq) / SR
    tone = sum(np.sin(k * phase) / k for k in (1, 2, 3))
    return (0.2 * tone + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(tiny_model(seed=1), device="cpu")


@pytest.fixture(scope="module")
def tracks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tracks")
    samples = _music()
    out = {
        fmt: make_track(folder / "song", fmt, samples=samples, sample_rate=SR)
        for fmt in ("mp3", "flac", "wav")
    }
    out["other"] = make_track(
        folder / "other", "flac", samples=_music(3.0, seed=5)[::-1].copy(), sample_rate=SR
    )
    return out


def test_same_song_in_mp3_flac_and_wav_embeds_alike(
    embedder: Embedder, tracks: dict[str, Path]
) -> None:
    result = embedder.embed_audio([tracks["mp3"], tracks["flac"], tracks["wav"]])
    assert result.errors == [] and result.indices.tolist() == [0, 1, 2]
    mp3, flac, wav = result.tracks
    assert float(flac @ wav) > 0.999
    assert float(mp3 @ wav) > 0.99
    assert float(mp3 @ flac) > 0.99


def test_output_is_unit_norm_float32_and_deterministic(
    embedder: Embedder, tracks: dict[str, Path]
) -> None:
    paths = [tracks["flac"], tracks["other"], tracks["mp3"]]
    first = embedder.embed_audio(paths, batch_size=2)
    second = embedder.embed_audio(paths, batch_size=2)
    assert first.tracks.dtype == np.float32 and first.tracks.shape == (3, embedder.dim)
    assert np.array_equal(first.tracks, second.tracks)  # bit for bit
    np.testing.assert_allclose(np.linalg.norm(first.tracks, axis=1), 1.0, atol=1e-6)
    k = embedder.cfg.frontend.n_windows
    for windows in first.windows:
        assert windows.dtype == np.float32 and windows.shape == (k, embedder.dim)
        np.testing.assert_allclose(np.linalg.norm(windows, axis=1), 1.0, atol=1e-6)
    # The track vector is the renormalised mean of its unit window vectors.
    mean = first.windows[1].mean(axis=0)
    np.testing.assert_allclose(first.tracks[1], mean / np.linalg.norm(mean), atol=1e-6)
    # Alone or among others: the same vector to float precision (BLAS may round a batch of
    # another size differently in the last bit) ...
    alone = embedder.embed_audio([tracks["other"]])
    np.testing.assert_allclose(alone.tracks[0], first.tracks[1], atol=1e-6)
    # ... and bit for bit with batch_size=1, where every track is its own model call.
    single = embedder.embed_audio(paths, batch_size=1)
    assert np.array_equal(alone.tracks[0], single.tracks[1])
    assert np.array_equal(
        embedder.embed_audio(paths[::-1], batch_size=1).tracks[::-1], single.tracks
    )


def test_bad_files_are_reported_and_the_job_goes_on(
    embedder: Embedder, tracks: dict[str, Path], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"this is not audio" * 100)
    missing = tmp_path / "missing.flac"
    seen: list[tuple[int, int]] = []
    result = embedder.embed_audio(
        [broken, tracks["wav"], missing, tracks["flac"]],
        progress=lambda done, total: seen.append((done, total)),
    )
    assert result.indices.tolist() == [1, 3]
    assert result.tracks.shape == (2, embedder.dim)
    assert [path for path, _ in result.errors] == [str(broken), str(missing)]
    assert all(message for _, message in result.errors)
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert not result.cancelled
    lean = embedder.embed_audio([tracks["wav"], tracks["flac"]], keep_windows=False)
    assert lean.windows == [] and lean.tracks.shape == (2, embedder.dim)


def test_cancel_stops_the_job_and_keeps_finished_rows(
    embedder: Embedder, tracks: dict[str, Path]
) -> None:
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        if done == 2:
            cancel.set()

    result = embedder.embed_audio(
        [tracks["wav"]] * 6, batch_size=1, progress=progress, cancel=cancel
    )
    assert result.cancelled
    assert result.indices.tolist() == [0, 1]


def test_waveforms_short_ones_included(embedder: Embedder) -> None:
    sr = embedder.cfg.frontend.sample_rate
    rng = np.random.default_rng(0)
    waves = [
        0.1 * rng.standard_normal(sr // 2).astype(np.float32),  # 0.5 s: repeat-padded
        0.1 * rng.standard_normal(5 * sr).astype(np.float32),
        np.zeros((2, 3), dtype=np.float32),
    ]  # wrong shape: reported, not fatal
    result = embedder.embed_audio(waves)
    assert result.indices.tolist() == [0, 1]
    assert result.errors[0][0] == "<waveform 2>" and "mono" in result.errors[0][1]
    np.testing.assert_allclose(np.linalg.norm(result.tracks, axis=1), 1.0, atol=1e-6)
    assert embedder.embed_audio([]).tracks.shape == (0, embedder.dim)


def test_embed_text_is_unit_norm_and_matches_the_model(embedder: Embedder) -> None:
    texts = ["calm piano", "aggressive drums and bass", "calm piano"]
    vectors = embedder.embed_text(texts, batch_size=2)
    assert vectors.dtype == np.float32 and vectors.shape == (3, embedder.dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    # Batches of different sizes may round differently in the last bit; the same call not.
    np.testing.assert_allclose(vectors[0], vectors[2], atol=1e-6)
    assert np.array_equal(embedder.embed_text(texts, batch_size=2), vectors)
    with torch.inference_mode():
        expected = embedder.model.encode_text(embedder.model.tokenize(texts), normalize=True)
    np.testing.assert_allclose(vectors, expected.numpy(), atol=1e-6)
    assert embedder.embed_text([]).shape == (0, embedder.dim)
    assert isinstance(embedder.model_id, str) and len(embedder.model_id) == 16


def test_device_can_be_explicit_or_automatic() -> None:
    from engine.device import resolve_device

    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available() and torch.backends.mps.is_available():
        expected = "mps"
    assert resolve_device(None).type == expected
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            resolve_device("cuda")


def test_iter_audio_yields_every_input_in_order_with_starts_and_marks(
    embedder: Embedder, tracks: dict[str, Path], tmp_path: Path
) -> None:
    sr = embedder.cfg.frontend.sample_rate
    broken = tmp_path / "broken.flac"
    broken.write_bytes(b"not audio" * 50)
    silent = np.zeros(3 * sr, dtype=np.float32)
    items = [tracks["flac"], broken, silent, tracks["other"]]
    results = list(embedder.iter_audio(items, batch_size=2))
    assert [r.index for r in results] == [0, 1, 2, 3]
    assert [r.ok for r in results] == [True, False, True, True]
    assert results[1].source == str(broken) and results[1].track is None and results[1].error
    assert [r.abstain for r in results] == [None, None, "silence", None]
    # Windows of 1 s, evenly spaced over the 4 s song and the 3 s silence.
    assert results[0].starts.tolist() == pytest.approx([0.1666667, 1.5, 2.8333333], abs=1e-4)
    assert results[2].starts.tolist() == pytest.approx([0.0, 1.0, 2.0])
    # embed_audio is the same path, collected.
    collected = embedder.embed_audio(items, batch_size=2)
    assert collected.indices.tolist() == [0, 2, 3]
    assert collected.abstain == [None, "silence", None]
    assert np.array_equal(collected.tracks, np.stack([results[i].track for i in (0, 2, 3)]))


def test_cpu_vectors_do_not_depend_on_the_batch_size_and_threads_are_restored(
    embedder: Embedder, tracks: dict[str, Path]
) -> None:
    paths = [tracks["flac"], tracks["other"], tracks["mp3"], tracks["wav"], tracks["other"]]
    threads = torch.get_num_threads()
    reference = embedder.embed_audio(paths, batch_size=1)
    for batch_size in (2, 3, 5, 16):
        other = embedder.embed_audio(paths, batch_size=batch_size)
        np.testing.assert_allclose(other.tracks, reference.tracks, rtol=0, atol=1e-5)
        for mine, theirs in zip(other.windows, reference.windows, strict=True):
            np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-5)
    # The model loop runs on one intra-op thread but leaves the caller's setting alone.
    assert torch.get_num_threads() == threads
