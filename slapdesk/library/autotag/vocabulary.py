"""Tag vocabularies: TOML files of terms (genre, mood, instrument, the user's own).

A vocabulary file looks like::

    name = "genre"
    field = "genre"            # logical tag field the terms are written to
    multi_value = true
    terms = ["rock", "jazz", "hip hop"]
    [prompts]                  # optional wording the model reads instead of the term
    "hip hop" = ["hip hop beat", "rap music"]

Bundled files live in ``resources/vocab``; users add theirs to the config folder's
``vocab`` folder, or pass terms inline (``--terms "lofi, vaporwave"``).
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path

from slapdesk.library.store.paths import config_dir
from slapdesk.resources import resource_path


class VocabularyError(ValueError):
    """A vocabulary is missing or malformed; the message names the file."""


@dataclass(frozen=True)
class Vocabulary:
    """A named list of terms and the tag field they fill."""

    name: str
    field: str
    terms: tuple[str, ...]
    # dataclasses.field spelled out: the attribute ``field`` above shadows the name here.
    prompts: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    multi_value: bool = True

    def wordings(self, term: str) -> tuple[str, ...]:
        """What the model reads for ``term``: custom prompts, else the term itself."""
        return self.prompts.get(term, (term,))


def user_vocab_dir() -> Path:
    """The folder where users put their own vocabulary files."""
    return config_dir() / "vocab"


def _search_dirs() -> list[Path]:
    return [user_vocab_dir(), resource_path("vocab")]


def available_vocabularies() -> list[str]:
    """Names of every vocabulary found (user files first, then bundled)."""
    names: dict[str, None] = {}
    for folder in _search_dirs():
        if folder.is_dir():
            names.update(dict.fromkeys(sorted(p.stem for p in folder.glob("*.toml"))))
    return list(names)


def load_vocabulary(name_or_path: str | Path) -> Vocabulary:
    """Load a vocabulary by name (``genre``) or from a TOML file path.

    Raises:
        VocabularyError: when it cannot be found or read.
    """
    path = Path(name_or_path)
    if path.suffix != ".toml":
        for folder in _search_dirs():
            if (folder / f"{name_or_path}.toml").is_file():
                path = folder / f"{name_or_path}.toml"
                break
        else:
            known = ", ".join(available_vocabularies())
            raise VocabularyError(f"no vocabulary named {name_or_path!r}; known: {known}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise VocabularyError(f"{path}: cannot read vocabulary ({error})") from error
    return _from_toml(path, data)


def _from_toml(path: Path, data: dict) -> Vocabulary:
    terms = data.get("terms")
    if not isinstance(terms, list) or not all(isinstance(t, str) and t.strip() for t in terms):
        raise VocabularyError(f"{path}: 'terms' must be a list of non-empty strings")
    prompts = {
        str(term): tuple(wordings) if isinstance(wordings, list) else (str(wordings),)
        for term, wordings in data.get("prompts", {}).items()
    }
    return Vocabulary(
        name=str(data.get("name", path.stem)),
        field=str(data.get("field", path.stem)),
        terms=tuple(dict.fromkeys(t.strip() for t in terms)),
        prompts=prompts,
        multi_value=bool(data.get("multi_value", True)),
    )


def inline_vocabulary(terms: str, field_name: str = "genre") -> Vocabulary:
    """A vocabulary from comma-separated terms typed by the user."""
    parsed = tuple(dict.fromkeys(t.strip() for t in terms.split(",") if t.strip()))
    if not parsed:
        raise VocabularyError("no terms given: separate them with commas, e.g. 'lofi, vaporwave'")
    return Vocabulary(name="inline", field=field_name, terms=parsed)
