"""The embed / search / export / models commands, run as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _cli(home: Path, library: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "cfg"))
    return subprocess.run(
        [sys.executable, "-m", "slapdesk", "--library", str(library), *args],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=300,
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_models_embed_search_export(
    tmp_path: Path, home: Path, music_folder: Path, tiny_bundle: Path
) -> None:
    library = tmp_path / "lib.sqlite"
    assert _cli(home, library, "scan", str(music_folder)).returncode == 0

    imported = _cli(home, library, "models", "import", str(tiny_bundle), "--name", "tiny")
    assert imported.returncode == 0, imported.stderr
    used = _cli(home, library, "models", "use", "tiny")
    assert used.returncode == 0, used.stderr
    assert "8 track(s) need vectors" in used.stdout
    listed = _cli(home, library, "models")
    lines = listed.stdout.splitlines()
    assert any(line.startswith("* tiny") for line in lines)  # the active one is marked
    assert any(line.lstrip().startswith("default") for line in lines)  # the shipped model

    embedded = _cli(home, library, "embed", "--json", "--device", "cpu")
    assert embedded.returncode == 0, embedded.stderr
    assert json.loads(embedded.stdout) == {
        "embedded": 8, "abstained": 0, "errors": [], "failed_before": 0,
        "cancelled": False
    }
    again = _cli(home, library, "embed", "--json", "--device", "cpu")
    assert json.loads(again.stdout)["embedded"] == 0

    found = _cli(home, library, "search", "--json", "--limit", "3", "tone", "flac")
    assert found.returncode == 0, found.stderr
    rows = [json.loads(line) for line in found.stdout.splitlines()]
    assert len(rows) == 3
    assert rows[0]["title"] == "Tone flac"
    assert set(rows[0]) >= {"path", "score", "title", "artist"}

    playlist = tmp_path / "out" / "list.m3u8"
    playlist.parent.mkdir()
    exported = _cli(home, library, "export", "--m3u8", str(playlist), "genre:jazz")
    assert exported.returncode == 0, exported.stderr
    lines = playlist.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#EXTM3U"
    entries = [x for x in lines if x.startswith("#EXTINF:")]
    assert len(entries) == 8
    assert all(",The Testers - Tone " in x for x in entries)
    assert sum(not x.startswith("#") for x in lines) == 8


def test_clear_messages(tmp_path: Path, home: Path, music_folder: Path) -> None:
    missing = _cli(home, tmp_path / "none.sqlite", "search", "piano")
    assert missing.returncode == 2
    assert "slapdesk scan" in missing.stderr

    library = tmp_path / "lib.sqlite"
    _cli(home, library, "scan", str(music_folder))
    nothing = _cli(home, library, "search", "year<1000")
    assert nothing.returncode == 0
    assert nothing.stdout.strip() == "No matching tracks."
    no_vectors = _cli(home, library, "search", "like:#1")
    assert no_vectors.returncode == 2
    assert "slapdesk embed" in no_vectors.stderr


# Runs the CLI, then reports on stderr whether the process ever imported torch or transformers.
_WATCHED = (
    "import sys; from slapdesk.cli import main; rc = main(sys.argv[1:]); "
    "sys.stderr.write('\\nIMPORTED ' + ' '.join(m for m in ('torch', 'transformers') "
    "if m in sys.modules) + '\\n'); sys.exit(rc)"
)


def _watched_cli(home: Path, library: Path, *args: str) -> tuple[str, list[str]]:
    env = dict(os.environ, XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "cfg"),
               PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", _WATCHED, "--library", str(library), *args],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    imported = out.stderr.rsplit("IMPORTED", 1)[1].split()
    return out.stdout, imported


def test_text_queries_run_without_torch_and_rank_as_the_torch_path(
    tmp_path: Path, home: Path, music_folder: Path, tiny_bundle: Path
) -> None:
    from engine.inference import Embedder
    from slapdesk.library.search.moments import MomentIndex
    from slapdesk.library.search.ranking import LibrarySearch, load_index
    from slapdesk.library.store.database import Database

    library = tmp_path / "lib.sqlite"
    assert _cli(home, library, "scan", str(music_folder)).returncode == 0
    assert _cli(home, library, "models", "import", str(tiny_bundle), "--name", "t").returncode == 0
    assert _cli(home, library, "models", "use", "t").returncode == 0
    assert _cli(home, library, "embed", "--device", "cpu").returncode == 0

    query = "high tone -drums"  # no track is tagged "drums": all 8 stay
    stdout, imported = _watched_cli(home, library, "search", "--json", "--limit", "8", query)
    assert imported == []
    lean = [json.loads(line) for line in stdout.splitlines()]
    embedder = Embedder.from_bundle(tiny_bundle, device="cpu")
    with Database(library) as db:
        index = load_index(db.conn, embedder.model_id)
        moments = MomentIndex.load(db.conn, embedder.model_id,
                                   embedder.cfg.frontend.clip_seconds)
        search = LibrarySearch(db.conn, index, embedder.embed_text, moments)
        reference = search.search(query, limit=8)
    assert [row["id"] for row in lean] == [r.track_id for r in reference]
    assert len(lean) == 8
    for row, ref in zip(lean, reference, strict=True):
        assert abs(row["similarity"] - ref.similarity) < 1e-4

    _, imported = _watched_cli(home, library, "tag", "--terms", "low, high", "--json")
    assert imported == []
    playlist = tmp_path / "p.m3u8"
    _, imported = _watched_cli(home, library, "export", "--m3u8", str(playlist), "high tone")
    assert imported == []
    assert playlist.read_text(encoding="utf-8").count("#EXTINF:") == 8


def test_a_query_of_only_negative_terms_is_a_query(tmp_path: Path, home: Path,
                                                   music_folder: Path) -> None:
    library = tmp_path / "lib.sqlite"
    _cli(home, library, "scan", str(music_folder))
    found = _cli(home, library, "search", "-flac", "--json")
    assert found.returncode == 0, found.stderr
    paths = [json.loads(line)["path"] for line in found.stdout.splitlines()]
    assert len(paths) == 7
    assert not any(p.endswith(".flac") for p in paths)
    unknown = _cli(home, library, "search", "piano", "--bogus")
    assert unknown.returncode == 2
    assert "unrecognized arguments: --bogus" in unknown.stderr
