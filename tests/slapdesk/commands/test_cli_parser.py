"""The command line registers only the command it runs, and still lists every one for --help."""

from __future__ import annotations

from pathlib import Path

import pytest

from slapdesk.cli import COMMAND_MODULES, build_parser, gui_folders, named_command


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["search", "calm piano"], "search"),
        (["--library", "search", "embed"], "embed"),  # a library file named "search"
        (["--library=x.sqlite", "-v", "tag", "--vocab", "genre"], "tag"),
        (["--help"], None),
        (["serch", "piano"], None),
        ([], None),
    ],
)
def test_named_command(argv: list[str], expected: str | None) -> None:
    assert named_command(argv) == expected


def test_one_command_or_all() -> None:
    def commands(parser) -> list[str]:
        return sorted(parser._subparsers._group_actions[0].choices)

    assert commands(build_parser("search")) == ["search"]
    assert commands(build_parser()) == sorted(COMMAND_MODULES)
    args = build_parser("search").parse_args(["--library", "l.sqlite", "search", "calm", "piano"])
    assert (args.library, args.query, args.limit) == ("l.sqlite", ["calm", "piano"], 20)


def test_folders_still_open_the_window(tmp_path: Path) -> None:
    assert gui_folders(["--library", "l.sqlite", str(tmp_path)]) == ("l.sqlite", [str(tmp_path)],
                                                                     False)
    assert gui_folders(["-v"]) == (None, [], True)
    assert gui_folders(["search", "x"]) is None
    assert gui_folders(["--help"]) is None
