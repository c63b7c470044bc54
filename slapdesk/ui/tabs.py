"""The window's tabs: each view registers how its tab is built; the window builds them in order.

A tab's module decorates one factory with ``register_tab``. The factory gets the window, builds
the view and its controller, connects them to the window's public slots and signals, and
returns a ``Tab``. Adding a view is one module with one factory, plus its name in
``TAB_MODULES``; the window itself knows no tab by name except the library it searches.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from slapdesk.ui.main_window import MainWindow

# The modules whose import registers a tab (the window imports them when it builds its tabs).
TAB_MODULES = (
    "slapdesk.ui.search_controller",
    "slapdesk.ui.tagging_controller",
    "slapdesk.ui.audit_controller",
    "slapdesk.ui.map_controller",
    "slapdesk.ui.training_controller",
    "slapdesk.ui.models_controller",
)


@dataclass
class Tab:
    """One built tab: its widget, the controller that drives it, what to do when it is shown."""

    view: QWidget
    controller: QObject | None = None
    on_shown: Callable[[], None] | None = None  # called each time the tab becomes current


@dataclass(frozen=True)
class TabSpec:
    """How to build one tab."""

    name: str  # the key the window and tests use, e.g. "map"
    title: str  # the tab's label
    order: int  # tabs are shown by increasing order
    build: Callable[[MainWindow], Tab]
    shows_tracks: bool = False  # the track-details panel stays beside this tab


_REGISTRY: dict[str, TabSpec] = {}


def register_tab(name: str, title: str, order: int, *, shows_tracks: bool = False
                 ) -> Callable[[Callable[[MainWindow], Tab]], Callable[[MainWindow], Tab]]:
    """Decorate a tab factory so that every window builds that tab.

    Raises:
        ValueError: another factory already registered ``name``.
    """

    def decorate(build: Callable[[MainWindow], Tab]) -> Callable[[MainWindow], Tab]:
        known = _REGISTRY.get(name)
        if known is not None and known.build.__qualname__ != build.__qualname__:
            raise ValueError(f"two tabs are named {name!r}")
        _REGISTRY[name] = TabSpec(name, title, order, build, shows_tracks)
        return build

    return decorate


def registered_tabs() -> list[TabSpec]:
    """Every tab, in display order (importing the modules that register them)."""
    for module in TAB_MODULES:
        importlib.import_module(module)
    return sorted(_REGISTRY.values(), key=lambda spec: (spec.order, spec.name))
