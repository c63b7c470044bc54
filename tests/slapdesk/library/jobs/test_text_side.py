"""The window's searches and proposals load only the model's text side (numpy, no torch)."""

from __future__ import annotations

from pathlib import Path

from engine.inference import Embedder
from engine.textquery import TextQueryEncoder
from slapdesk.library.jobs.active_model import ModelHolder
from slapdesk.library.jobs.control import JobControl
from slapdesk.library.jobs.embed import embed_library, register_model
from slapdesk.library.jobs.propose import propose_tags
from slapdesk.library.jobs.search import Scope, run_search
from slapdesk.library.scan.scanner import run_scan
from slapdesk.library.search.index_cache import IndexCache
from slapdesk.library.search.moments import MomentIndex
from slapdesk.library.search.ranking import LibrarySearch, load_index
from slapdesk.library.store.database import Database


def test_search_loads_only_the_text_side_and_ranks_as_the_torch_path(
    tmp_path: Path, music_folder: Path, tiny_bundle: Path
) -> None:
    library = tmp_path / "lib.sqlite"
    embedder = Embedder.from_bundle(tiny_bundle, device="cpu")
    with Database(library) as db:
        run_scan(db, [music_folder])
        register_model(db, embedder.model_id, "tiny", str(tiny_bundle), embedder.dim)
        assert embed_library(db, embedder).embedded == 8
    holder = ModelHolder(str(tiny_bundle), tmp_path / "models", tmp_path / "runs")
    result = run_search(library, holder, IndexCache(), "high tone -drums", Scope(), 8, 1, None,
                        JobControl())

    assert holder.loaded is None  # the audio tower (and torch model) was never built
    assert isinstance(holder.text(), TextQueryEncoder)
    assert holder.text().model_id == embedder.model_id
    assert result.mode == "sound"
    with Database(library) as db:
        index = load_index(db.conn, embedder.model_id)
        moments = MomentIndex.load(db.conn, embedder.model_id,
                                   embedder.cfg.frontend.clip_seconds)
        search = LibrarySearch(db.conn, index, embedder.embed_text, moments)
        reference = search.search("high tone -drums", 8)
    assert result.ids == [r.track_id for r in reference]
    assert len(result.ids) == 8
    with Database(library) as db:
        proposed = propose_tags(holder, db, "genre", JobControl())
    assert proposed.counts["tracks scored"] == 8
    assert holder.loaded is None


def test_without_a_model_search_falls_back_to_tags(tmp_path: Path, music_folder: Path,
                                                   monkeypatch) -> None:
    from slapdesk.library import models

    monkeypatch.setattr(models, "default_bundle_dir", lambda: None)
    library = tmp_path / "lib.sqlite"
    with Database(library) as db:
        run_scan(db, [music_folder])
    holder = ModelHolder("", tmp_path / "models", tmp_path / "runs")
    result = run_search(library, holder, IndexCache(), "tone flac", Scope(), 8, 1, None,
                        JobControl())
    assert result.mode == "metadata"
    with Database(library) as db:
        title = db.conn.execute("SELECT title FROM tracks WHERE id = ?", (result.ids[0],))
        assert title.fetchone()[0] == "Tone flac"
