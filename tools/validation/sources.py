"""The validation clips: real recordings from non-reserved Debian packages, grounded labels.

Nothing here is training data: the game-music packages are ones ``tools.corpus`` puts in its
validation split (hyperrogue, planetblupi) or does not read at all (hedgewars, lincity-ng,
pathological, funnyboat, chromium-bsu), and the LMMS samples are the files the corpus keeps
for validation (``crc32(name) % 5 == 0``). Labels come only from what the packages say:

- game music: ``genre: soundtrack`` (the package is a game's music), the game, the file's
  title tag or name; a style word only where the title names a style ("City Blues");
- LMMS samples: instrument family, sample description and style words from the folder and
  file name (``beats/house_loop01`` -> drums, "house", "electronic", "loop");
- controls made here: digital silence, near-silence, white noise and a 440 Hz test tone
  (``kind: nonmusic``), which a model should never tag.

Mood is not labelled: no package states one.
"""

from __future__ import annotations

import re
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tools.corpus.recordings import (
    AUDIO_EXT,
    LMMS_ROOT,
    RESERVED,
    duration,
    lay_out,
    lmms_label,
    read_window,
)
from tools.corpus.render import normalise, save_flac

SAMPLE_RATE = 16_000
SECONDS = 10.0


@dataclass(frozen=True)
class GameMusic:
    """A non-reserved Debian package whose music files become validation clips."""

    package: str
    game: str
    licence: str  # from /usr/share/doc/PKG/copyright
    pattern: str  # regex a file's path must match to count as music (not sound effects)


GAME_MUSIC = (
    GameMusic("hyperrogue-music", "HyperRogue", "CC-BY(-SA)-3.0/4.0, CC0", r"/music/"),
    GameMusic("planetblupi-music-ogg", "Planet Blupi", "GPL-3+", r"/music/"),
    GameMusic("hedgewars-data", "Hedgewars", "GPL-2 / CC-BY(-SA)", r"/Music/"),
    GameMusic("lincity-ng-data", "LinCity-NG", "GPL-2+ / CC-BY-SA", r"/music/"),
    GameMusic("pathological", "Pathological", "GPL-2+", r"/music/"),
    GameMusic("funnyboat", "Funny Boat", "GPL-2+ / CC-BY-SA", r"JDruid-Trip"),
    GameMusic("chromium-bsu-data", "Chromium B.S.U.", "Artistic / Clarified Artistic",
              r"/music_"),
)

# Style words a title or file name states outright (nothing is inferred from listening).
_TITLE_STYLES = {"blues": "blues", "march": "march", "waltz": "waltz", "jazz": "jazz"}
# LMMS name parts that name a style.
_SAMPLE_STYLES = {"house": ("house", "electronic"), "jungle": ("jungle", "electronic"),
                  "rave": ("rave", "electronic"), "techno": ("techno", "electronic"),
                  "acid": ("acid", "electronic"), "909": ("electronic",),
                  "303": ("electronic",), "electro": ("electronic",), "latin": ("latin",),
                  "hiphop": ("hip hop",), "juno": ("electronic",)}


def package_files(package: str) -> list[Path]:
    """Audio files a Debian package installed (none when it is not installed)."""
    if package in RESERVED:
        raise ValueError(f"{package} is reserved for tools.zeroshot_eval")
    res = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True, check=False)
    return sorted(Path(p) for p in res.stdout.splitlines()
                  if p.lower().endswith(AUDIO_EXT) and Path(p).is_file())


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:60]


def game_rows(windows: int = 2) -> list[dict]:
    """Row stubs (audio path still to render) for every game-music track installed."""
    from tools.corpus.recordings import _tags

    rows = []
    for gm in GAME_MUSIC:
        for path in package_files(gm.package):
            if not re.search(gm.pattern, str(path)):
                continue
            length = duration(path)
            if length < 20:  # jingles and stingers: too short to hold a 10 s window
                continue
            tags = _tags(path)
            title = tags.get("title") or path.stem.replace("_", " ")
            words = set(re.findall(r"[a-z]+", title.lower()))
            styles = sorted({_TITLE_STYLES[w] for w in words if w in _TITLE_STYLES})
            for w in range(windows):
                rows.append({
                    "audio": f"audio/game/{gm.package}/{_slug(path.stem)}_{w}.flac",
                    "caption": f"music from the video game {gm.game}",
                    "render": {"file": str(path), "start": length * (w + 1) / (windows + 1) - 5},
                    "labels": {"kind": "game music", "genre": "soundtrack", "styles": styles,
                               "game": gm.game, "title": title, "package": gm.package,
                               "licence": gm.licence, "track": str(path)},
                })
    return rows


def sample_rows() -> list[dict]:
    """Row stubs for the LMMS samples the corpus holds out (its validation files)."""
    rows = []
    if not LMMS_ROOT.is_dir():
        return rows
    for path in sorted(LMMS_ROOT.glob("*/*.ogg")):
        label = lmms_label(path)
        if label is None or zlib.crc32(path.name.encode()) % 5 != 0:
            continue
        parts = set(re.split(r"[_\d]+", path.stem.lower())) | {path.parent.name}
        styles = sorted({s for p in parts for s in _SAMPLE_STYLES.get(p, ())})
        rows.append({
            "audio": f"audio/samples/{path.parent.name}_{path.stem}.flac",
            "caption": label["text"],
            "render": {"file": str(path), "play": label["play"]},
            "labels": {"kind": "sample", "instrument_family": label["family"],
                       "sample": label["text"], "play": label["play"], "styles": styles,
                       "package": "lmms-common", "licence": "GPL-2+", "track": str(path)},
        })
    return rows


def control_rows() -> list[dict]:
    """Silence, near-silence, white noise and a test tone: audio no tag should describe."""
    kinds = {"silence": "digital silence", "near_silence": "near-silent hiss at -70 dBFS",
             "white_noise": "white noise", "test_tone": "a 440 Hz sine test tone"}
    return [{"audio": f"audio/controls/{name}.flac", "caption": text,
             "render": {"control": name},
             "labels": {"kind": "nonmusic", "control": name, "styles": [],
                        "package": "generated here", "track": name}}
            for name, text in kinds.items()]


def control_audio(name: str) -> np.ndarray:
    """The waveform of one control clip (deterministic)."""
    n = int(SECONDS * SAMPLE_RATE)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    if name == "silence":
        return np.zeros(n, np.float32)
    if name == "near_silence":
        return (rng.standard_normal(n) * 10 ** (-70 / 20)).astype(np.float32)
    if name == "white_noise":
        return (rng.standard_normal(n) * 0.25).clip(-1, 1).astype(np.float32)
    t = np.arange(n) / SAMPLE_RATE
    return (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)


def render(row: dict, out: Path) -> None:
    """Write the row's 10 s mono 16 kHz FLAC under ``out`` (skipped when it exists)."""
    target = out / row["audio"]
    if target.is_file():
        return
    spec = row["render"]
    n = int(SECONDS * SAMPLE_RATE)
    if "control" in spec:
        save_flac(target, control_audio(spec["control"]), SAMPLE_RATE)
        return
    path = Path(spec["file"])
    if "play" in spec:
        rng = np.random.default_rng(zlib.crc32(path.name.encode()))
        y = lay_out(read_window(path, 0.0, SECONDS, SAMPLE_RATE), spec["play"], n, rng)
    else:
        y = read_window(path, max(0.0, spec["start"]), SECONDS, SAMPLE_RATE)
    if len(y) < n // 2 or float(np.abs(y).max(initial=0)) < 1e-3:
        raise RuntimeError("too short or silent")
    save_flac(target, normalise(y[:n]), SAMPLE_RATE)
