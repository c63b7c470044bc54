"""Shared fixtures: offscreen Qt, markers, and small real audio files generated at test time."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

# Qt must never try to open a display in tests (Picard's conftest does the same).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Nothing may be fetched from a model hub, in tests least of all.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# The app's caches (exported model graphs) go to a folder of the test run, not the user's.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="slapdesk-tests-cache-")

from slapdesk.library.demo.audio_files import FORMATS, make_track
from slapdesk.library.demo.synth import STYLES, render

KNOWN_TAGS = {
    "title": "Test Tone",
    "artist": "The Testers",
    "album": "Fixtures",
    "albumartist": "Various",
    "genre": ["Rock", "Jazz"],
    "mood": "Happy",
    "year": "1999",
    "track": "3",
    "comment": "made by the test suite",
    "bpm": "120",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip GPU tests on machines without CUDA."""
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:
        has_cuda = False
    if has_cuda:
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Torch on one thread: tiny models on a shared 2-core machine run several times faster."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(params=sorted(FORMATS))
def format_name(request: pytest.FixtureRequest) -> str:
    """Each supported format in turn."""
    return request.param


@pytest.fixture
def tagged_track(tmp_path: Path, format_name: str) -> Path:
    """A one-second 440 Hz tone with ``KNOWN_TAGS`` in the parametrised format."""
    return make_track(tmp_path / f"tone_{format_name}", format_name, tags=KNOWN_TAGS)


def short_music(index: int, seconds: float = 1.0, sample_rate: int = 44_100) -> np.ndarray:
    """``seconds`` of the demo synthesizer, a different style per ``index`` (music, not a
    test tone: the embedder marks pure tones as nothing to describe)."""
    style = list(STYLES.values())[index % len(STYLES)]
    return render(style, style.tempo[0], seconds, np.random.default_rng(index), sample_rate)


@pytest.fixture
def music_folder(tmp_path: Path) -> Path:
    """A folder with one tagged second of music per format, in two sub-folders."""
    root = tmp_path / "music"
    for index, name in enumerate(sorted(FORMATS)):
        folder = root / ("a" if index % 2 else "b")
        folder.mkdir(parents=True, exist_ok=True)
        tags = dict(KNOWN_TAGS, title=f"Tone {name}", track=str(index + 1))
        make_track(folder / f"tone_{name}", name, samples=short_music(index), tags=tags)
    return root


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real model bundle with the tiny test architecture (random weights, seed 0)."""
    import torch

    from engine.bundle import save_bundle
    from engine.config import SlapCfg
    from engine.model import build_model

    torch.manual_seed(0)
    model = build_model(SlapCfg.from_name("slap_test"))
    folder = tmp_path_factory.mktemp("bundles") / "tiny"
    save_bundle(model, folder, "# tiny test model\nRandom weights, for tests only.\n")
    return folder
