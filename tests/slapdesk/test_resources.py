from __future__ import annotations

import tomllib

from slapdesk.resources import resource_path, resources_dir


def test_resources_found_from_checkout() -> None:
    assert (resources_dir() / "vocab").is_dir()


def test_vocabularies_parse_and_are_not_empty() -> None:
    for name in ("genre", "mood", "instrument"):
        data = tomllib.loads(resource_path("vocab", f"{name}.toml").read_text(encoding="utf-8"))
        assert len(data["terms"]) >= 8, name
