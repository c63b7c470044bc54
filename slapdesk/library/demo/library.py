"""Build a small demo music library offline: generated tracks in every format, with tags.

``plan_demo`` decides everything (style, tempo, key, format, tags, file name) from a seed;
``build_demo`` renders and encodes the files (``slapdesk.library.demo.synth`` makes the
audio, ``slapdesk.library.demo.audio_files`` encodes it and writes the tags). Files already there
from an earlier run with the same plan are kept, so running it twice is quick.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.atomic_files import replace_file
from slapdesk.library.demo.audio_files import FORMATS, make_track
from slapdesk.library.demo.synth import SAMPLE_RATE, STYLES, render

log = logging.getLogger(__name__)

# Fictional artists, two per style; albums per artist. Names are made up for the demo.
_ARTISTS: dict[str, tuple[tuple[str, str], ...]] = {
    "classical": (("Clara Moss", "Nocturnes for a Small Room"),
                  ("The Linden Ensemble", "Etudes in Glass")),
    "jazz": (("Miles Arden Trio", "Late Set at the Blue Lamp"),
             ("Dot Calloway", "Brushes and Bourbon")),
    "electronic": (("Neon Cartography", "Grid Lines"), ("Kilohertz", "Afterhours Protocol")),
    "ambient": (("Slow Lantern", "Tidal Hours"), ("Fieldnote", "Between Weather")),
    "rock": (("The Rust Engines", "Loud Country Roads"), ("Sister Voltage", "Amplifier Hymns")),
    "hip hop": (("MC Paperweight", "Boom Bap Diaries"), ("Lo-Fi Librarian", "Study Tapes")),
    "folk": (("Hollis Greer", "Kitchen Table Songs"), ("The Wren Sisters", "Northbound")),
    "soul": (("Deacon Grey & the Vestry", "Sunday Organ"), ("Velvet Mae", "Slow Burn")),
}  # fmt: skip
_TITLE_A = ("Midnight", "Paper", "Golden", "Quiet", "Electric", "Rainy", "Northern", "Velvet",
            "Broken", "Silver", "Lazy", "Hollow", "Bright", "Distant", "Crooked", "Amber")
_TITLE_B = ("Harbour", "Lantern", "Avenue", "Morning", "Static", "Orchard", "Signal", "River",
            "Stairway", "Postcard", "Engine", "Garden", "Window", "Parade", "Echo", "Meadow")


@dataclass(frozen=True)
class DemoCfg:
    """What to generate."""

    tracks: int = 32  # number of files; formats and styles rotate so each gets its share
    seconds: float = 15.0  # length of each track
    seed: int = 0  # every choice follows from it: same seed, same library
    sample_rate: int = SAMPLE_RATE  # synthesis rate in Hz (Opus files are resampled to 48 kHz)


@dataclass(frozen=True)
class DemoTrack:
    """One planned file: where it goes, what it sounds like and how it is tagged."""

    relpath: str  # path below the demo folder, with the format's suffix
    format: str  # a key of audiogen.FORMATS
    style: str  # a key of demosynth.STYLES (also the genre tag)
    tempo: int  # beats per minute (also the BPM tag)
    seed: int  # the track's own random seed
    tags: dict[str, str] = field(hash=False)  # logical tag name -> value


@dataclass
class DemoReport:
    """What ``build_demo`` did."""

    folder: Path
    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)  # already there from an earlier run
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    cancelled: bool = False

    @property
    def files(self) -> list[Path]:
        """Every demo file now present."""
        return sorted(self.written + self.kept)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in " -_&'" else "_" for c in name).strip()


def plan_demo(cfg: DemoCfg) -> list[DemoTrack]:
    """Decide every track of the demo from ``cfg`` alone (no I/O).

    Styles rotate fastest and formats are offset per round, so a library of 8 or more
    tracks holds every format and (with 8 or more) every style, in varied pairings.
    """
    rng = np.random.default_rng(cfg.seed)
    styles, formats = list(STYLES), sorted(FORMATS)
    plan = []
    for index in range(cfg.tracks):
        style = styles[index % len(styles)]
        fmt = formats[(index + index // len(formats)) % len(formats)]
        low, high = STYLES[style].tempo
        tempo = int(rng.integers(low, high + 1))
        artist, album = _ARTISTS[style][(index // len(styles)) % 2]
        title = f"{_TITLE_A[int(rng.integers(len(_TITLE_A)))]} " \
                f"{_TITLE_B[int(rng.integers(len(_TITLE_B)))]}"
        number = index // (2 * len(styles)) + 1
        tags = {
            "title": title, "artist": artist, "album": album, "albumartist": artist,
            "genre": style, "year": str(int(rng.integers(1968, 2025))), "bpm": str(tempo),
            "track": str(number),
            "comment": "SlapDesk demo: " + ", ".join(STYLES[style].instruments),
        }  # fmt: skip
        suffix = FORMATS[fmt].suffix
        relpath = f"{_safe(artist)}/{_safe(album)}/{number:02d} {_safe(title)} ({fmt}){suffix}"
        plan.append(DemoTrack(relpath, fmt, style, tempo, int(rng.integers(2**31)), tags))
    return plan


def render_track(track: DemoTrack, cfg: DemoCfg) -> np.ndarray:
    """The audio of one planned track (mono float32 at ``cfg.sample_rate``)."""
    return render(STYLES[track.style], track.tempo, cfg.seconds,
                  np.random.default_rng(track.seed), cfg.sample_rate)


ProgressFn = Callable[[int, int, str], None]


def build_demo(folder: Path, cfg: DemoCfg, *, progress: ProgressFn | None = None,
               cancel: threading.Event | None = None) -> DemoReport:
    """Write the demo tracks into ``folder`` (created if needed).

    Args:
        folder: where the tracks go (``Artist/Album/NN Title (format).ext``).
        cfg: how many tracks, how long, which seed.
        progress: called as ``progress(done, total, relpath)`` after each file.
        cancel: set it to stop after the current file.

    Returns:
        The report; a file that could not be written is listed with the reason and the
        others are still made.
    """
    folder = Path(folder)
    report = DemoReport(folder)
    plan = plan_demo(cfg)
    for done, track in enumerate(plan, start=1):
        if cancel is not None and cancel.is_set():
            report.cancelled = True
            break
        target = folder / track.relpath
        if target.is_file() and target.stat().st_size > 0:
            report.kept.append(target)
        else:
            try:
                _write(target, track, cfg)
                report.written.append(target)
            except Exception as exc:  # one bad file must not stop the demo
                log.warning("demo track %s failed: %s", target, exc)
                report.errors.append((str(target), f"{type(exc).__name__}: {exc}"))
        if progress is not None:
            progress(done, len(plan), track.relpath)
    return report


def _write(target: Path, track: DemoTrack, cfg: DemoCfg) -> None:
    """Encode into a hidden temporary name (scanners skip it), then rename into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".partial-{os.getpid()}-{target.name}")
    try:
        written = make_track(partial, track.format, samples=render_track(track, cfg),
                             sample_rate=cfg.sample_rate, tags=track.tags)
        replace_file(written, target)
    finally:
        partial.unlink(missing_ok=True)
