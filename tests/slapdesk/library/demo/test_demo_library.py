"""The demo library generator: a deterministic plan, real files in every format, tags."""

from __future__ import annotations

from pathlib import Path

import mutagen
import numpy as np

from slapdesk.library.demo.audio_files import FORMATS
from slapdesk.library.demo.library import DemoCfg, build_demo, plan_demo, render_track
from slapdesk.library.demo.synth import STYLES


def test_plan_is_deterministic_and_covers_every_format_and_style() -> None:
    cfg = DemoCfg(tracks=16, seconds=3, seed=5)
    plan = plan_demo(cfg)
    assert plan == plan_demo(cfg)
    assert plan != plan_demo(DemoCfg(tracks=16, seconds=3, seed=6))
    assert {t.format for t in plan} == set(FORMATS)
    assert {t.style for t in plan} == set(STYLES)
    assert len({t.relpath for t in plan}) == 16
    for track in plan:
        low, high = STYLES[track.style].tempo
        assert low <= track.tempo <= high
        assert track.tags["genre"] == track.style
        assert track.tags["bpm"] == str(track.tempo)
        assert 1968 <= int(track.tags["year"]) <= 2024
        assert track.relpath.endswith(FORMATS[track.format].suffix)


def test_render_is_deterministic_and_styles_differ() -> None:
    cfg = DemoCfg(tracks=8, seconds=2)
    plan = plan_demo(cfg)
    first = render_track(plan[0], cfg)
    assert first.dtype == np.float32
    assert first.shape == (2 * cfg.sample_rate,)
    assert np.array_equal(first, render_track(plan[0], cfg))
    assert abs(float(np.max(np.abs(first))) - 0.8) < 1e-4
    # Different styles give clearly different spectra (a crude check of "distinct timbres").
    spectra = [np.abs(np.fft.rfft(render_track(t, cfg)))[:4000] for t in plan]
    spectra = [s / np.linalg.norm(s) for s in spectra]
    similarity = np.array([[float(a @ b) for b in spectra] for a in spectra])
    off_diagonal = similarity[~np.eye(len(plan), dtype=bool)]
    assert off_diagonal.max() < 0.95


def test_build_writes_tagged_files_in_every_format_and_keeps_them(tmp_path: Path) -> None:
    cfg = DemoCfg(tracks=8, seconds=2, seed=1)
    seen: list[tuple[int, int]] = []
    report = build_demo(tmp_path, cfg, progress=lambda d, n, _p: seen.append((d, n)))
    assert report.errors == [] and not report.cancelled
    assert len(report.written) == 8 and seen[-1] == (8, 8)
    assert {p.suffix for p in report.files} == {s.suffix for s in FORMATS.values()}
    assert not [p for p in tmp_path.rglob(".partial-*")]
    for track in plan_demo(cfg):
        audio = mutagen.File(tmp_path / track.relpath, easy=True)
        assert audio is not None, track.relpath
        assert 1.5 < audio.info.length < 2.5
        if audio.tags is not None and "title" in audio.tags:  # easy keys: not WAV/AIFF/MP4 bpm
            assert audio.tags["title"] == [track.tags["title"]]
    again = build_demo(tmp_path, cfg)
    assert again.written == [] and len(again.kept) == 8
