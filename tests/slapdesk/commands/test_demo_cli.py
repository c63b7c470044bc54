"""``slapdesk demo --no-gui`` as a user runs it: files, a scanned library, embeddings."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from slapdesk.library.demo.library import DemoCfg, plan_demo

ROOT = Path(__file__).resolve().parents[3]


def _demo(home: Path, *args: str, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "cfg"))
    if config is not None:
        env["SLAPDESK_CONFIG"] = str(config)
    return subprocess.run(
        [sys.executable, "-m", "slapdesk", *args],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=300,
    )


def test_demo_builds_scans_and_embeds(tmp_path: Path, tiny_bundle: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.toml").write_text(f"active_model = {json.dumps(str(tiny_bundle))}\n")
    folder = tmp_path / "demo"
    done = _demo(tmp_path / "home", "demo", "--no-gui", "--tracks", "8", "--seconds", "3",
                 "--device", "cpu", str(folder), config=config)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "8 added" in done.stdout
    assert "Embedded 8 track(s)." in done.stdout

    library = folder / "library.sqlite"
    with sqlite3.connect(library) as conn:
        rows = conn.execute(
            "SELECT title, artist, album, genre, year, bpm, status FROM tracks ORDER BY title"
        ).fetchall()
        vectors = conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
    plan = plan_demo(DemoCfg(tracks=8, seconds=3))
    expected = sorted(
        (t.tags["title"], t.tags["artist"], t.tags["album"], [t.tags["genre"]],
         int(t.tags["year"]), float(t.tags["bpm"]))
        for t in plan
    )
    got = sorted((r[0], r[1], r[2], json.loads(r[3]), r[4], r[5]) for r in rows)
    assert got == expected
    assert {r[6] for r in rows} == {"ok"}
    assert vectors == 8

    found = _demo(tmp_path / "home", "--library", str(library), "search", "--json",
                  "genre:jazz", config=config)
    assert found.returncode == 0, found.stderr
    hits = [json.loads(line) for line in found.stdout.splitlines()]
    assert [h["artist"] for h in hits] == [t.tags["artist"] for t in plan if t.style == "jazz"]


def test_demo_without_a_model_still_builds_a_searchable_library(tmp_path: Path) -> None:
    library = tmp_path / "elsewhere.sqlite"
    done = _demo(tmp_path / "home", "--library", str(library), "demo", "--no-gui",
                 "--tracks", "2", "--seconds", "2", str(tmp_path / "d"),
                 config=tmp_path / "no-config")
    assert done.returncode == 0, done.stderr
    assert library.is_file() and not (tmp_path / "d" / "library.sqlite").exists()
    assert "2 added" in done.stdout
