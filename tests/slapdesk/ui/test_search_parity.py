"""The window and ``slapdesk search`` rank the same library the same way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slapdesk.cli import main


def test_window_search_and_cli_search_give_the_same_order(
    make_window, music_folder: Path, tiny_bundle: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    # The window reads this file; the command line finds it through $SLAPDESK_CONFIG.
    (config / "settings.toml").write_text(f"active_model = {json.dumps(str(tiny_bundle))}\n")
    monkeypatch.setenv("SLAPDESK_CONFIG", str(config))
    window = make_window([str(music_folder)])
    # Scanning chained into embedding, which ran in the worker process: the window has vectors
    # but never loaded the audio model itself.
    assert window.ctx.database.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0] >= 2
    assert window.ctx.models.loaded is None
    answers = []
    window.search.results_ready.connect(answers.append)
    limit = str(window.ctx.settings.value.result_limit)
    library = str(window.ctx.library_path)
    for query in ("tone flac", "calm evening", "genre:jazz tone", "-piano tone"):
        window.search.run_now(query)
        answer = answers[-1]
        assert (answer.query, answer.mode) == (query, "sound")
        capsys.readouterr()
        assert main(["--library", library, "search", "--json", "--device", "cpu",
                     "--limit", limit, query]) == 0
        rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert len(rows) >= 2, query
        assert [row["id"] for row in rows] == answer.ids, query
        assert [round(answer.scores[row["id"]], 6) for row in rows] == [
            row["score"] for row in rows
        ], query
