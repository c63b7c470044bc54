"""The active model: which bundle it is, loading it once, and embedding the library with it.

The command line and the window both pick a bundle with ``choose_model``; the window keeps
the loaded model in a ``ModelHolder`` so every job and every search thread shares one copy.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slapdesk.library.jobs.control import JobControl, JobResult
from slapdesk.library.models import ModelBundle, ModelChoiceError, active_bundle, find_bundle
from slapdesk.library.progress import Progress
from slapdesk.library.store.preferences import ACTIVE_MODEL, get_setting, set_setting
from slapdesk.library.tags.reasons import plain_reason

if TYPE_CHECKING:
    import sqlite3

    from slapdesk.library.store.database import Database


def library_choice(conn: Database | sqlite3.Connection | None, default: str) -> str:
    """The active model this library chose, else ``default`` (the user's global choice).

    Each library keeps its own choice (a bundle folder; "" = the bundled default model), so
    switching models in one library leaves the others as they were.
    """
    chosen = None if conn is None else get_setting(conn, ACTIVE_MODEL)
    return default if chosen is None else chosen


def choose_for_library(db: Database, folder: str) -> None:
    """Make the bundle at ``folder`` the library's active model ("" = the bundled default)."""
    set_setting(db, ACTIVE_MODEL, folder)


def choose_model(models_dir: Path, runs_dir: Path, active: str = "",
                 name: str | None = None) -> ModelBundle:
    """The bundle asked for by ``name`` (a listed name or a folder), else the active one.

    Args:
        models_dir: imported bundles.
        runs_dir: training runs (each may hold a finished bundle).
        active: the settings' choice ("" = the default, else the first usable bundle).
        name: an explicit choice (the command line's ``--model``); wins over ``active``.

    Raises:
        ModelChoiceError: no such bundle, or no usable bundle at all (the message says what
            to do).
    """
    if name:
        return find_bundle(name, models_dir, runs_dir)
    return active_bundle(active, models_dir, runs_dir)


class ModelHolder:
    """Loads the active model bundle once, on first use, off the GUI thread.

    Built by the composition root. Two sides, loaded separately: the text side (numpy, a
    fraction of a second, no torch) answers searches and names tags, from any thread; the
    whole model (torch) embeds audio on one model worker.
    """

    def __init__(self, active_model: str, models_dir: Path, runs_dir: Path) -> None:
        """Remember where bundles are; ``active_model`` is the settings' choice ("" = default)."""
        self._active = active_model
        self._models_dir = models_dir
        self._runs_dir = runs_dir
        self._embedder: Any = None
        self._audio: Any = None  # loaded for audio only (embedding, the moment pass)
        self._text: Any = None
        self._bundle: ModelBundle | None = None
        self._lock = threading.Lock()
        # Its own lock: a search must not wait while the whole model loads.
        self._text_lock = threading.Lock()

    @property
    def bundle(self) -> Path | None:
        """The bundle folder loaded (None before the first load)."""
        return None if self._bundle is None else self._bundle.path

    @property
    def choice(self) -> str:
        """The active model as chosen: a bundle folder, "" for the default (never loads)."""
        return self._active

    @property
    def loaded(self) -> Any:
        """The whole model's embedder if it is already loaded, else None (never loads)."""
        return self._embedder

    def active_model_id(self) -> str:
        """The active bundle's model id, read from its configuration ("" when none is usable).

        Cheap (no weights, no torch): the map and other views that show stored vectors ask it
        so they show the active model's vectors, not whichever were embedded last.
        """
        from engine.bundle_info import BundleError, read_bundle_info

        with self._lock:
            if self._embedder is not None:
                return str(self._embedder.model_id)
            try:
                bundle = choose_model(self._models_dir, self._runs_dir, self._active)
                return read_bundle_info(bundle.path).model_id
            except (ModelChoiceError, BundleError):
                return ""

    def active(self) -> ModelBundle | None:
        """The active bundle as the models list names it (None when none is usable)."""
        try:
            return choose_model(self._models_dir, self._runs_dir, self._active)
        except ModelChoiceError:
            return None

    def describe(self) -> str:
        """The active model as the status bar names it: "default (musicnn)", or "none"."""
        try:
            bundle = choose_model(self._models_dir, self._runs_dir, self._active)
        except ModelChoiceError:
            return "none (tags only)"
        return f"{bundle.name} ({bundle.architecture})" if bundle.architecture else bundle.name

    def choose(self) -> ModelBundle:
        """The bundle the next load will use (reads its configuration, no weights).

        Raises:
            ModelChoiceError: no usable model bundle is installed.
        """
        return choose_model(self._models_dir, self._runs_dir, self._active)

    def switch(self, active_model: str) -> None:
        """Use another bundle from the next job on."""
        with self._lock, self._text_lock:
            if active_model != self._active:
                self._active, self._embedder, self._audio, self._text, self._bundle = (
                    active_model, None, None, None, None)

    def get(self) -> Any:
        """The ``engine.inference.Embedder`` (loading it the first time).

        Raises:
            ModelChoiceError: no usable model bundle is installed (the message says what to do).
            RuntimeError: the bundle cannot be loaded (the message says why).
        """
        from engine.inference import Embedder
        from slapdesk.library.store.paths import graph_cache_dir

        with self._lock:
            if self._embedder is None:
                self._embedder = self._load(
                    partial(Embedder.from_bundle, graph_cache=graph_cache_dir()))
            return self._embedder

    def audio(self) -> Any:
        """An embedder for audio only: no text tower, no transformers (``audio_only=True``).

        The whole model when it is loaded already. Raises as :meth:`get`.
        """
        from engine.inference import Embedder
        from slapdesk.library.store.paths import graph_cache_dir

        with self._lock:
            if self._embedder is not None:
                return self._embedder
            if self._audio is None:
                self._audio = self._load(
                    partial(Embedder.from_bundle, graph_cache=graph_cache_dir(),
                            audio_only=True))
            return self._audio

    def text(self) -> Any:
        """The text side (``embed_text``, ``model_id``, ``dim``), as ``slapdesk search`` uses it.

        numpy for BERT text towers; a tower only torch runs loads a torch model of its own.
        Raises as :meth:`get`.
        """
        from engine.textquery import load_text_embedder

        with self._text_lock:
            if self._text is None:
                self._text = self._load(load_text_embedder)
            return self._text

    def _load(self, loader: Callable[[Path], Any]) -> Any:
        bundle = choose_model(self._models_dir, self._runs_dir, self._active)
        try:
            loaded = loader(bundle.path)
        except Exception as exc:
            raise RuntimeError(f"Cannot load the model {bundle.path}: {exc}") from exc
        self._bundle = bundle
        return loaded

    def register(self, database: Database, *, audio: bool = True) -> Any:
        """Load the model (or only its text side) and record it in the library; returns it."""
        from slapdesk.library.jobs.embed import register_model

        embedder = self.audio() if audio else self.text()
        assert self._bundle is not None
        register_model(database, embedder.model_id, self._bundle.name, str(self._bundle.path),
                       embedder.dim)
        return embedder


def load_model(holder: ModelHolder, _control: JobControl) -> Any:
    """Load the active model's text side (so the first search by sound does not wait)."""
    return holder.text()


def embed_new_tracks(holder: ModelHolder, database: Database, control: JobControl) -> JobResult:
    """Embed every track that has no vector for the active model yet."""
    from slapdesk.library.jobs.embed import embed_library

    control.report(Progress(0, None, "Loading the model…"), force=True)
    try:
        embedder = holder.register(database)
    except ModelChoiceError as exc:
        return JobResult("Embed", note=f"Search by sound is off: {exc}")
    summary = embed_library(database, embedder, cancel=control.cancel, progress=control.report)
    return JobResult("Embed", counts={"embedded": summary.embedded},
                     errors=[f"{path}: {plain_reason(reason)}" for path, reason in summary.errors],
                     cancelled=summary.cancelled)
