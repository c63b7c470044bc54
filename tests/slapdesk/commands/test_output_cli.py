"""Nothing a command prints can drive the terminal: escape sequences in names and tags show."""

from __future__ import annotations

import io
import json
from pathlib import Path

from slapdesk import cli
from slapdesk.commands.output import SafeStream, neutralise
from slapdesk.library.demo.audio_files import make_track

# An OSC that sets the window title, a screen clear, a C1 CSI, a right-to-left override.
TITLE = "Song\x1b]0;owned\x07\x1b[2J\x9b31m\u202eevil"
NAME = "file\x1b[1A\r\nfake"


def test_neutralise_shows_every_control_character() -> None:
    assert neutralise(TITLE) == "Song\\u001b]0;owned\\u0007\\u001b[2J\\u009b31m\\u202eevil"
    assert neutralise("a\tb\nc\r") == "a\tb\nc\\u000d"
    assert neutralise("a\tb\nc", newlines=False) == "a\\u0009b\\u000ac"
    assert neutralise("50%\r", carriage_return=True) == "50%\r"
    assert neutralise("caf\udce9 \u2028") == "caf\\udce9 \\u2028"
    assert neutralise("ordinary text: é ü 日本 ♫") == "ordinary text: é ü 日本 ♫"


def test_safe_stream_keeps_json_exact() -> None:
    out = io.StringIO()
    SafeStream(out).write(json.dumps({"title": TITLE}, ensure_ascii=False) + "\n")
    assert "\x1b" not in out.getvalue() and "\x9b" not in out.getvalue()
    assert json.loads(out.getvalue()) == {"title": TITLE}


def test_search_output_cannot_reach_the_terminal(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "music"
    folder.mkdir()
    make_track(folder / NAME, "flac", tags={"title": TITLE, "artist": "Band"})
    library = str(tmp_path / "library.sqlite")
    assert cli.main(["--library", library, "scan", "--workers", "0", str(folder)]) == 0
    capsys.readouterr()
    assert cli.main(["--library", library, "search", "artist:band"]) == 0
    out = capsys.readouterr().out
    assert not any(c in out for c in "\x1b\x07\x9b\r\u202e")
    assert "Song\\u001b]0;owned\\u0007" in out and "file\\u001b[1A\\u000d\\u000afake.flac" in out
    assert len(out.splitlines()) == 2  # one result: its name line and its path line
    assert cli.main(["--library", library, "search", "--json", "artist:band"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert json.loads(out)["title"] == TITLE


def test_search_json_carries_genre_mood_and_year(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "music"
    folder.mkdir()
    make_track(folder / "song", "flac", tags={"title": "Song", "artist": "Band",
                                               "genre": "Jazz", "year": "1959",
                                               "mood": "Calm"})
    make_track(folder / "bare", "flac", tags={"title": "Bare", "artist": "Band"})
    library = str(tmp_path / "library.sqlite")
    assert cli.main(["--library", library, "scan", "--workers", "0", str(folder)]) == 0
    capsys.readouterr()
    assert cli.main(["--library", library, "search", "--json", "artist:band"]) == 0
    rows = {row["title"]: row for row in map(json.loads, capsys.readouterr().out.splitlines())}
    song = rows["Song"]
    assert (song["genre"], song["mood"], song["year"]) == (["Jazz"], ["Calm"], 1959)
    assert (rows["Bare"]["genre"], rows["Bare"]["year"]) == ([], None)
