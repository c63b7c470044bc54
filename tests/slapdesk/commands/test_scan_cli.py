"""``slapdesk scan`` and ``slapdesk library`` as a user runs them (real processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _slapdesk(*args: str, library: Path, env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, "-m", "slapdesk", "--library", str(library), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_scan_json_counts_then_rescan_and_library_summary(
    tmp_path: Path, music_folder: Path
) -> None:
    library = tmp_path / "lib.sqlite"
    first = _slapdesk("scan", "--json", str(music_folder), library=library)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {
        "added": 8, "updated": 0, "removed": 0, "unchanged": 0, "errors": []
    }  # fmt: skip
    again = _slapdesk("scan", "--json", library=library)  # no PATH: the library's folders
    assert json.loads(again.stdout)["unchanged"] == 8
    summary = _slapdesk("library", library=library)
    assert summary.returncode == 0
    assert "Tracks:   8 (8 readable)" in summary.stdout
    assert "m4a 2" in summary.stdout
    assert f"{music_folder}  (8 tracks" in summary.stdout
    assert "Files with errors: 0" in summary.stdout


def test_scan_lists_failures_and_exits_1(tmp_path: Path, music_folder: Path) -> None:
    (music_folder / "empty.mp3").touch()
    (music_folder / "b" / "caf\u00e9.ogg").write_bytes(b"\0" * 10_000)
    library = tmp_path / "lib.sqlite"
    result = _slapdesk("scan", "--json", str(music_folder), library=library)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["added"] == 10
    assert report["errors"] == [
        {"path": str(music_folder / "b" / "caf\u00e9.ogg"), "error": report["errors"][0]["error"]},
        {"path": str(music_folder / "empty.mp3"), "error": "empty file (0 bytes)"},
    ]
    assert report["errors"][0]["error"].startswith("not an audio file")
    text = _slapdesk("scan", str(music_folder), library=library)
    assert text.returncode == 1
    assert "2 files or folders could not be indexed fully:" in text.stdout
    assert f"{music_folder / 'empty.mp3'}: empty file (0 bytes)" in text.stdout
    # Raw reasons stay in --json; people read sentences.
    broken = music_folder / "b" / "caf\u00e9.ogg"
    assert f"{broken}: not a readable audio file" in text.stdout
    listing = _slapdesk("library", "--json", library=library).stdout
    assert json.loads(listing)["problem_count"] == 2


def test_the_library_comes_from_the_environment(tmp_path: Path, music_folder: Path) -> None:
    library = tmp_path / "env.sqlite"
    result = subprocess.run(
        [sys.executable, "-m", "slapdesk", "scan", "--json", str(music_folder / "a")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SLAPDESK_LIBRARY": str(library)},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["added"] == 4
    assert library.is_file()


def test_a_bad_library_file_exits_2_with_advice(tmp_path: Path, music_folder: Path) -> None:
    library = tmp_path / "notes.txt"
    library.write_text("not a database" * 100)
    result = _slapdesk("scan", str(music_folder), library=library)
    assert result.returncode == 2
    assert "is not a SlapDesk library" in result.stderr
    assert "--library PATH" in result.stderr
    missing = _slapdesk("library", library=tmp_path / "none.sqlite")
    assert missing.returncode == 2
    assert "slapdesk scan" in missing.stderr


def test_help_explains_scan() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "slapdesk", "scan", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert "moved or renamed" in result.stdout
    assert "exit status" in result.stdout


def test_a_missing_folder_is_reported_not_fatal(tmp_path: Path, music_folder: Path) -> None:
    library = tmp_path / "lib.sqlite"
    missing = tmp_path / "not-there"
    result = _slapdesk("scan", "--json", str(music_folder), str(missing), library=library)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["added"] == 8
    assert report["errors"] == [
        {"path": str(missing), "error": "cannot open: No such file or directory"}
    ]


def test_durations_read_naturally() -> None:
    from slapdesk.library.store.stats import format_duration

    assert format_duration(42.0) == "42 s"
    assert format_duration(3 * 3600 + 61) == "3 h 1 min"
    assert format_duration(2 * 86400 + 120) == "2 d 0 h 2 min"


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_the_next_scan_resumes(tmp_path: Path) -> None:
    import signal
    import sqlite3
    import time

    from slapdesk.library.demo.audio_files import make_track

    root = tmp_path / "many"
    root.mkdir()
    source = make_track(tmp_path / "src", "flac", tags={"title": "Copy"})
    total = 8000  # long enough that the signal lands mid-scan on an idle machine too
    for index in range(total):
        os.link(source, root / f"{index:05d}.flac")
    library = tmp_path / "lib.sqlite"
    process = subprocess.Popen(
        [sys.executable, "-m", "slapdesk", "--library", str(library), "scan", "--json", str(root)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stored = 0
    deadline = time.monotonic() + 60
    while stored == 0 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
        if library.exists():
            try:
                with sqlite3.connect(f"file:{library}?mode=ro", uri=True) as conn:
                    stored = conn.execute("SELECT COUNT(*) FROM tracks").fetchone()[0]
            except sqlite3.Error:
                stored = 0
    if process.poll() is not None:
        pytest.skip("the scan finished before it could be interrupted")
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Stopping after the current batch" in err
    with sqlite3.connect(library) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        kept = conn.execute("SELECT COUNT(*) FROM tracks").fetchone()[0]
    # On a fast, idle machine the last batch can be committed before the signal lands.
    assert 0 < kept <= total
    assert json.loads(out)["added"] == kept  # what it reports is what it committed
    resumed = _slapdesk("scan", "--json", str(root), library=library)
    assert resumed.returncode == 0
    report = json.loads(resumed.stdout)
    assert (report["added"], report["unchanged"]) == (total - kept, kept)


def test_unreadable_files_and_folders_are_reported_and_kept(
    tmp_path: Path, music_folder: Path
) -> None:
    from tests.slapdesk.library.helpers import unprivileged

    prefix = unprivileged()
    if prefix is None:
        pytest.skip("running as root without setpriv: permissions cannot be tested")
    library = tmp_path / "lib.sqlite"
    assert _slapdesk("scan", str(music_folder), library=library).returncode == 0
    locked_file = music_folder / "b" / "tone_mp3.mp3"
    locked_folder = music_folder / "a"
    locked_file.chmod(0)
    locked_file.touch()  # changed: it must be read again
    locked_folder.chmod(0)
    try:
        result = subprocess.run(
            [*prefix, sys.executable, "-m", "slapdesk", "--library", str(library), "scan",
             "--json", str(music_folder)],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        locked_folder.chmod(0o755)
        locked_file.chmod(0o644)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["removed"] == 0  # the 4 tracks in the unreadable folder stay
    assert report["errors"] == [
        {"path": str(locked_folder), "error": "cannot open the folder: Permission denied"},
        {"path": str(locked_file), "error": "cannot read the file: permission denied"},
    ]


def test_an_unwritable_library_folder_exits_2_with_advice(
    tmp_path: Path, music_folder: Path
) -> None:
    from tests.slapdesk.library.helpers import unprivileged

    prefix = unprivileged()
    if prefix is None:
        pytest.skip("running as root without setpriv: permissions cannot be tested")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        result = subprocess.run(
            [*prefix, sys.executable, "-m", "slapdesk", "--library", str(folder / "l.sqlite"),
             "scan", str(music_folder)],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        folder.chmod(0o755)
    assert result.returncode == 2
    assert "the folder is not writable" in result.stderr
    assert "--library PATH" in result.stderr
