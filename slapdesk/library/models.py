"""The model bundles a user has: the bundled default, imported ones, and trained runs.

Listing reads only each bundle's ``config.json`` and ``model_card.md`` (cheap, no torch);
importing copies the bundle into the user's models folder and loads the copy completely before
it is listed; a bundle with a symbolic link is refused.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from slapdesk.resources import ResourcesNotFoundError, resource_path

CONFIG_FILE = "config.json"
CARD_FILE = "model_card.md"


@dataclass(frozen=True)
class ModelBundle:
    """One bundle as the models panel lists it."""

    name: str  # unique in the list: the folder's name, a trained model's run name
    path: Path  # bundle folder
    kind: str  # default | imported | trained
    model_id: str = ""  # stable hash of the weights ("" when unreadable)
    created: str = ""  # UTC ISO time of writing
    architecture: str = ""  # audio tower name, e.g. "cnn-small"
    metrics: dict[str, Any] = field(default_factory=dict)  # measured figures
    card: str = ""  # model_card.md text
    problem: str = ""  # why it cannot be used ("" when fine)


def describe_bundle(folder: Path, kind: str, name: str | None = None) -> ModelBundle:
    """Read what ``config.json`` and the card say (no weights are loaded).

    ``name`` defaults to the folder's name; a trained bundle (``RUN/bundle``) is named after
    its run.
    """
    name = name or (folder.parent.name if kind == "trained" else folder.name)
    card_path = folder / CARD_FILE
    card = card_path.read_text(encoding="utf-8", errors="replace") if card_path.is_file() else ""
    try:
        config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ModelBundle(name, folder, kind, card=card,
                           problem=f"{CONFIG_FILE} is missing: not a model bundle")
    except (OSError, ValueError) as exc:
        return ModelBundle(name, folder, kind, card=card,
                           problem=f"{CONFIG_FILE} cannot be read: {exc}")
    model = config.get("model") if isinstance(config.get("model"), dict) else {}
    audio: Any = model.get("audio") if isinstance(model.get("audio"), dict) else {}  # JSON
    return ModelBundle(
        name=name,
        path=folder,
        kind=kind,
        model_id=str(config.get("model_id", "")),
        created=str(config.get("created", "")),
        architecture=str(audio.get("name", "")),
        metrics=dict(config.get("metrics") or {}),
        card=card,
    )


def default_bundle_dir() -> Path | None:
    """The bundled default model, when this installation has one."""
    try:
        folder = resource_path("models", "default")
    except ResourcesNotFoundError:
        return None
    return folder if (folder / CONFIG_FILE).is_file() else None


def list_bundles(models_dir: Path, runs_dir: Path) -> list[ModelBundle]:
    """Default first, then imported (by name), then trained runs (newest first).

    Every name in the list is distinct (``slapdesk models use NAME`` picks by name): a later
    bundle whose name is taken gets its kind appended ("default-imported"), then a number.
    """
    found = []
    default = default_bundle_dir()
    if default is not None:
        found.append(describe_bundle(default, "default"))
    if models_dir.is_dir():
        found += [describe_bundle(p, "imported") for p in sorted(models_dir.iterdir())
                  if p.is_dir() and not p.name.startswith(".")]
    if runs_dir.is_dir():
        found += [describe_bundle(p / "bundle", "trained")
                  for p in sorted(runs_dir.iterdir(), reverse=True) if (p / "bundle").is_dir()]
    return _distinct_names(found)


def _distinct_names(bundles: list[ModelBundle]) -> list[ModelBundle]:
    taken: set[str] = set()
    named = []
    for bundle in bundles:
        name, number = bundle.name, 2
        if name in taken:
            name = base = f"{bundle.name}-{bundle.kind}"
            while name in taken:
                name, number = f"{base}-{number}", number + 1
        taken.add(name)
        named.append(bundle if name == bundle.name else replace(bundle, name=name))
    return named


def _links_in(source: Path) -> list[Path]:
    """Symbolic links in a folder tree (the folder itself included), without following any."""
    found = [source] if source.is_symlink() else []
    for root, dirs, files in os.walk(source):
        found += [Path(root, n) for n in (*dirs, *files) if Path(root, n).is_symlink()]
    return found


def import_bundle(source: Path, models_dir: Path, name: str | None = None) -> ModelBundle:
    """Copy a bundle folder into ``models_dir`` once it loads completely; returns the copy.

    The copy is checked, not the source: it is loaded with the engine (every file, every tensor
    shape, the weights' hash) in a hidden folder, and only then renamed into the list. A bundle
    holding a symbolic link is refused: a link could make the copy read any file on the disk.

    Args:
        source: the bundle folder.
        models_dir: the user's imported models.
        name: the name to list it under (default: the folder's name).

    Raises:
        ValueError: the folder is not a usable bundle (the message says why), holds a symbolic
            link, or a bundle of that name is already imported.
    """
    from engine.bundle import BundleError, load_bundle, read_bundle_info

    source = Path(source)
    name = name or source.name
    links = _links_in(source)
    if links:
        raise ValueError(
            f"{links[0]} is a symbolic link; a model bundle to import must hold only its own "
            "files (copy the real files in, then import again)"
        )
    try:
        read_bundle_info(source)
    except BundleError as exc:
        raise ValueError(str(exc)) from exc
    target = models_dir / name
    if name.startswith(".") or Path(name).name != name:
        raise ValueError(f"{name!r} cannot be a model name (a plain folder name is needed)")
    if target.exists():
        raise ValueError(f"a model named {name!r} is already imported ({target})")
    models_dir.mkdir(parents=True, exist_ok=True)
    partial = models_dir / f".{name}.importing"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        shutil.copytree(source, partial, symlinks=True)
        if _links_in(partial):
            raise ValueError(f"{source} gained a symbolic link while it was copied")
        load_bundle(partial, device="cpu", with_target=False)
    except BundleError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise ValueError(str(exc).replace(str(partial), str(source))) from exc
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    partial.rename(target)
    return describe_bundle(target, "imported")


class ModelChoiceError(Exception):
    """No usable model, or the one asked for does not exist; the message says what to do."""


def _listed_or_folder(folder: Path, models_dir: Path, runs_dir: Path) -> ModelBundle:
    """The bundle at ``folder`` under the name the list gives it (a folder elsewhere: its own)."""
    resolved = folder.resolve()
    for bundle in list_bundles(models_dir, runs_dir):
        if bundle.path.resolve() == resolved:
            return bundle
    return describe_bundle(resolved, "trained" if resolved.name == "bundle" else "folder")


def find_bundle(name: str, models_dir: Path, runs_dir: Path) -> ModelBundle:
    """The bundle listed as ``name``, or the bundle folder at that path.

    A listed name wins over a folder of the same name in the working directory.

    Raises:
        ModelChoiceError: if there is none, or it cannot be used.
    """
    listed = list_bundles(models_dir, runs_dir)
    matches = [b for b in listed if b.name == name]
    path = Path(name).expanduser()
    if matches:
        found = matches[0]
    elif (path / CONFIG_FILE).is_file():
        found = _listed_or_folder(path, models_dir, runs_dir)
    else:
        known = ", ".join(b.name for b in listed) or "none"
        raise ModelChoiceError(f"no model bundle named {name!r}; known: {known}")
    if found.problem:
        raise ModelChoiceError(f"{found.path}: {found.problem}")
    return found


def active_bundle(active_model: str, models_dir: Path, runs_dir: Path) -> ModelBundle:
    """The bundle the settings name (``active_model``), else the default, else the first.

    Raises:
        ModelChoiceError: when no usable bundle exists at all.
    """
    if active_model and (Path(active_model) / CONFIG_FILE).is_file():
        chosen = _listed_or_folder(Path(active_model), models_dir, runs_dir)
        if not chosen.problem:
            return chosen
    usable = [b for b in list_bundles(models_dir, runs_dir) if not b.problem]
    if usable:
        return usable[0]
    raise ModelChoiceError(
        "No model bundle is installed: import one with `slapdesk models import DIR`, or train "
        "one with `slapdesk-train`."
    )


# What people read for the figures a trained bundle records (engine.evaluate's keys).
METRIC_LABELS = {
    "n_audio": "held-out tracks",
    "t2a_R@1": "text → audio R@1",
    "t2a_R@5": "text → audio R@5",
    "t2a_R@10": "text → audio R@10",
    "a2t_R@1": "audio → text R@1",
    "a2t_R@5": "audio → text R@5",
    "a2t_R@10": "audio → text R@10",
    "t2a_median_rank": "text → audio median rank",
    "a2t_median_rank": "audio → text median rank",
    "modality_gap": "modality gap",
    "linear_separability": "audio/text separability",
}


def readable_metrics(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    """The figures people read, in a fixed order, as (label, value text); others are left out."""
    shown = []
    for key, label in METRIC_LABELS.items():
        value = metrics.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        whole = key.startswith("n_") or key.endswith("_rank")
        shown.append((label, f"{value:,.0f}" if whole else f"{value:.3f}"))
    return shown


def evaluation_summary(metrics: dict[str, Any]) -> str:
    """How a model did on its held-out tracks, in two sentences, with what chance would do."""
    figures = [metrics.get(k) for k in ("t2a_R@1", "t2a_R@10", "a2t_R@1", "a2t_R@10")]
    held = metrics.get("n_audio")
    if not all(isinstance(v, int | float) for v in figures) or not held:
        return ("Not evaluated: too few tagged tracks to hold some out for a fair test "
                "(about 60 are needed).")
    t2a1, t2a10, a2t1, a2t10 = (float(v) for v in figures)  # type: ignore[arg-type]
    return (f"Evaluated on {held:,.0f} held-out tracks. Text → audio: R@1 {t2a1:.2f}, "
            f"R@10 {t2a10:.2f}; audio → text: R@1 {a2t1:.2f}, R@10 {a2t10:.2f}. "
            f"Chance: R@1 {min(1.0, 1 / float(held)):.2f}, R@10 {min(1.0, 10 / float(held)):.2f}; "
            "1.00 is perfect.")
