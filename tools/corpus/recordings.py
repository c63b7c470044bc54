"""Source 3: real recordings from Debian packages, captioned only with grounded labels.

Soundtracks: the game named in the package description, plus the files' own tags
(title, artist, album, genre) where present; several 10 s windows per track. Sample
packs (lmms-common): the sample's folder and file name (e.g. drums/snare_acoustic01 ->
"acoustic snare drum"). Whole packages go to one split. The packages reserved for
independent validation (see RESERVED) are refused here.
"""

from __future__ import annotations

import re
import subprocess
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import av
import mutagen
import numpy as np
import soxr

from tools.corpus.build import BuildCfg, Job
from tools.corpus.render import normalise, save_flac

RESERVED = frozenset({"freepats", "hydrogen-drumkits", "hydrogen-drumkits-effects",
                      "sonic-pi-samples", "wesnoth-1.16-music", "fretsonfire-songs-muldjord",
                      "fretsonfire-songs-sectoid"})
"""Packages kept for the zero-shot evaluation set: never training data."""

AUDIO_EXT = (".ogg", ".opus", ".mp3", ".wav", ".flac")


@dataclass(frozen=True)
class Soundtrack:
    """A Debian package of game music."""

    package: str
    game: str  # as the package description names it
    split: str
    licence: str  # from /usr/share/doc/PKG/copyright
    subdir: str = "music"  # only files under a folder containing this


SOUNDTRACKS = (
    Soundtrack("warzone2100-music", "Warzone 2100", "train", "GPL-2+ / CC-BY-SA-3.0 / CC0"),
    Soundtrack("nexuiz-music", "Nexuiz", "train", "GPL-2+", "cdtracks"),
    Soundtrack("ufoai-music", "UFO: Alien Invasion", "train", "GPL-2 / CC-BY(-SA)-3.0"),
    Soundtrack("singularity-music", "Endgame: Singularity", "train", "CC-BY-SA-3.0"),
    Soundtrack("drascula-music", "Drascula: The Vampire Strikes Back", "train",
               "Drascula licence (free redistribution)", "audio"),
    Soundtrack("asc-music", "Advanced Strategic Command", "train", "GPL-2+"),
    # Orchestral, folk and world scores (the packages above are mostly electronic): their
    # files' own genre tags ("Classical", "Thrash Metal", "folk") ground a genre where given.
    Soundtrack("widelands-data", "Widelands", "train", "GPL-2+ / CC-BY-SA-3.0", "/music/"),
    Soundtrack("megaglest-data", "MegaGlest", "train", "CC-BY-SA-3.0", "/music/"),
    Soundtrack("0ad-data", "0 A.D.", "train", "CC-BY-SA-3.0", "audio/music/"),
    Soundtrack("flare-game", "Flare", "train", "CC-BY-SA-3.0+", "/music/"),  # fantasy scores
    Soundtrack("hyperrogue-music", "HyperRogue", "val", "CC-BY(-SA)-3.0/4.0, CC0"),
    Soundtrack("planetblupi-music-ogg", "Planet Blupi", "val", "GPL-3+"),
)
LMMS_ROOT = Path("/usr/share/lmms/samples")


def package_files(package: str) -> list[Path]:
    """Files a Debian package installed (empty when it is not installed)."""
    if package in RESERVED:
        raise ValueError(f"{package} is reserved for independent evaluation")
    res = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True, check=False)
    return [Path(p) for p in res.stdout.splitlines() if Path(p).is_file()]


def _soundtrack_files(st: Soundtrack, cache: Path) -> list[Path]:
    files: list[Path] = []
    for f in package_files(st.package):
        if f.suffix.lower() in AUDIO_EXT and st.subdir in str(f):
            files.append(f)
        elif f.suffix in (".pk3", ".zip"):  # zip archives of oggs: extract once into the cache
            with zipfile.ZipFile(f) as zf:
                for name in zf.namelist():
                    if name.lower().endswith(AUDIO_EXT) and _archived_music(st, f, name):
                        target = cache / st.package / name
                        if not target.is_file():
                            target.parent.mkdir(parents=True, exist_ok=True)
                            target.write_bytes(zf.read(name))
                        files.append(target)
    return sorted(files)


def _archived_music(st: Soundtrack, archive: Path, name: str) -> bool:
    """Whether a file inside an archive is the package's music.

    A ``.pk3`` holds a game's sounds and music side by side: a "music" folder is enough. A
    ``.zip`` can hold anything (0 A.D.'s holds every asset), so only ``subdir`` counts.
    """
    if archive.suffix == ".pk3":
        return st.subdir in name or "music" in name
    return st.subdir in name


def duration(path: Path) -> float:
    """Duration in seconds, from the container (0 when unknown)."""
    try:
        with av.open(str(path)) as c:
            return float(c.duration or 0) / 1e6
    except (av.FFmpegError, OSError):
        return 0.0


def read_window(path: Path, start: float, seconds: float, sr: int) -> np.ndarray:
    """Decode ``seconds`` of mono audio from ``start`` (seeking), resampled to ``sr``."""
    with av.open(str(path)) as c:
        stream = c.streams.audio[0]
        if start > 0:
            c.seek(int(start * 1e6), any_frame=False, backward=True)
        chunks, got, rate = [], 0, 0
        for frame in c.decode(stream):
            rate = rate or frame.sample_rate  # (some streams only know it once decoded)
            t = float(frame.pts * frame.time_base) if frame.pts is not None else start
            raw = frame.to_ndarray()
            x = raw.astype(np.float32)
            if np.issubdtype(raw.dtype, np.integer):
                x /= float(np.iinfo(raw.dtype).max)
            if frame.format.is_planar:
                x = x.mean(axis=0)
            else:
                x = x.reshape(-1, frame.layout.nb_channels).mean(axis=1)
            skip = max(0, round((start - t) * rate))
            x = x[skip:]
            chunks.append(x)
            got += len(x)
            if got >= seconds * rate:
                break
    y = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    y = y[: int(seconds * rate)]
    return soxr.resample(y, rate, sr).astype(np.float32) if rate and rate != sr else y


def jobs(max_windows: int = 6, cache: Path | None = None) -> list[Job]:
    """Jobs for every installed soundtrack package and the lmms-common sample pack."""
    out: list[Job] = []
    for st in SOUNDTRACKS:
        files = _soundtrack_files(st, cache or Path("/tmp/corpus-pk3"))
        for f in files:
            dur = duration(f)
            n = int(np.clip(dur // 30, 1, max_windows))
            slug = re.sub(r"[^A-Za-z0-9]+", "_", f.stem).strip("_")[:60]
            for w in range(n):
                start = dur * (w + 0.5) / n - 5 if dur > 12 else 0.0
                out.append(Job("recordings", st.split,
                               f"audio/recordings/{st.split}/{st.package}/{slug}_{w}.flac",
                               {"kind": "soundtrack", "file": str(f), "start": max(0.0, start),
                                "package": st.package, "game": st.game, "licence": st.licence}))
    if LMMS_ROOT.is_dir():
        for f in sorted(LMMS_ROOT.glob("*/*.ogg")):
            label = lmms_label(f)
            if label is None:
                continue
            split = "val" if zlib.crc32(f.name.encode()) % 5 == 0 else "train"
            out.append(Job("recordings", split,
                           f"audio/recordings/{split}/lmms/{f.parent.name}_{f.stem}.flac",
                           {"kind": "sample", "file": str(f), "package": "lmms-common",
                            "licence": "GPL-2+ (lmms-common samples)", **label}))
    return out


_DRUM_WORDS = {"bassdrum": "bass drum", "kick": "kick drum", "snare": "snare drum",
               "hihat_closed": "closed hi-hat", "hihat_opened": "open hi-hat",
               "hihat_foot": "pedal hi-hat", "clap": "hand clap", "crash": "crash cymbal",
               "ride": "ride cymbal", "rim": "rimshot", "sidestick": "side stick",
               "shaker": "shaker", "tom": "tom drum", "clav": "claves", "cowbell": "cowbell",
               "hihat": "hi-hat", "cymbal": "cymbal", "tambourine": "tambourine"}
_QUALIFIERS = {"acoustic": "acoustic", "distorted": "distorted", "hard": "hard",
               "hardcore": "hardcore", "hiphop": "hip hop", "soft": "soft", "electro": "electronic",
               "muffled": "muffled", "harsh": "harsh", "long": "long", "nasty": "gritty",
               "acid": "acid", "rave": "rave", "techno": "techno", "horror": "dark",
               "punch": "punchy"}
_FIXED = {
    "beats/909beat": ("a TR-909 drum machine beat loop", "drums", "loop"),
    "beats/break": ("a breakbeat drum loop", "drums", "loop"),
    "beats/electro_beat": ("an electro drum beat loop", "drums", "loop"),
    "beats/house_loop": ("a house music drum loop", "drums", "loop"),
    "beats/jungle": ("a jungle breakbeat loop", "drums", "loop"),
    "beats/rave_hihat": ("a rave hi-hat loop", "drums", "loop"),
    "beats/rave_kick": ("a rave kick drum loop", "drums", "loop"),
    "beats/rave_snare": ("a rave snare drum loop", "drums", "loop"),
    "bassloops/briff": ("a bass riff loop", "bass", "loop"),
    "bassloops/rave_bass": ("a rave synth bass loop", "bass", "loop"),
    "bassloops/tb303": ("a TB-303 acid bass line loop", "bass", "loop"),
    "bassloops/techno_bass": ("a techno bass loop", "bass", "loop"),
    "bassloops/techno_synth": ("a techno synth loop", "synth lead", "loop"),
    "latin/latin_brass": ("a Latin brass riff", "brass", "loop"),
    "latin/latin_guitar": ("a Latin guitar loop", "guitar", "loop"),
    "instruments/bassslap": ("a slap bass note", "bass", "note"),
    "instruments/cello": ("a cello note", "strings", "note"),
    "instruments/church_organ": ("a church organ chord", "organ", "note"),
    "instruments/e_organ": ("an electric organ note", "organ", "note"),
    "instruments/e_piano_accord": ("an electric piano chord", "piano", "note"),
    "instruments/flute": ("a flute note", "flute", "note"),
    "instruments/harpsichord": ("a harpsichord note", "piano", "note"),
    "instruments/piano": ("a piano note", "piano", "note"),
    "instruments/steel_guitar_heavy_distorted": ("a heavily distorted guitar", "guitar", "note"),
    "instruments/steel_guitar_medium_distorted": ("a distorted guitar", "guitar", "note"),
    "instruments/steel_guitar_slight_distorted": ("a slightly overdriven guitar", "guitar",
                                                  "note"),
    "instruments/steel_guitar": ("a steel-string guitar", "guitar", "note"),
    "instruments/trumpet": ("a trumpet note", "brass", "note"),
    "instruments/violin_double_stop": ("a violin double stop", "strings", "note"),
    "instruments/violin_fingered": ("a fingered violin note", "strings", "note"),
    "instruments/violin_pizzicato": ("a pizzicato violin note", "strings", "note"),
    "stringsnpads/bell_choir": ("a bell choir", "mallet percussion", "note"),
    "stringsnpads/chorus": ("a choir chord", "choir", "note"),
    "stringsnpads/heaven_strings": ("a lush string pad", "strings", "note"),
    "stringsnpads/juno_pad": ("a Roland Juno synth pad", "synth pad", "note"),
    "stringsnpads/korg_poly6_drone": ("a Korg Poly-6 synth drone", "synth pad", "note"),
    "stringsnpads/nord_ambient": ("an ambient synth pad", "synth pad", "note"),
    "stringsnpads/orion_string": ("a synth string pad", "strings", "note"),
    "stringsnpads/rave_choir": ("a rave choir stab", "choir", "note"),
    "stringsnpads/space_strings": ("spacey synth strings", "strings", "note"),
    "stringsnpads/strings": ("a string section chord", "strings", "note"),
    "misc/applause": ("applause", "none", "note"),
    "misc/raving_crowd": ("a cheering crowd", "none", "note"),
    "misc/metronome": ("metronome clicks", "none", "loop"),
    "effects/wind_chimes": ("wind chimes", "mallet percussion", "note"),
    "effects/scratch": ("a DJ vinyl scratch", "none", "note"),
    "effects/explode": ("an explosion sound effect", "none", "note"),
    "effects/filter_sweep": ("a synth filter sweep", "synth pad", "note"),
}  # fmt: skip


def lmms_label(path: Path) -> dict | None:
    """Caption parts for an lmms sample from its folder and file name (None: no label)."""
    stem = re.sub(r"\d+$", "", path.stem)
    key = f"{path.parent.name}/{stem}"
    if key in _FIXED:
        text, family, kind = _FIXED[key]
        return {"text": text, "family": family, "play": kind}
    tokens = stem.split("_")
    if path.parent.name == "drums":
        for word, name in sorted(_DRUM_WORDS.items(), key=lambda kv: -len(kv[0])):
            if stem.startswith(word) or word in tokens:
                quals = [_QUALIFIERS[t] for t in tokens if t in _QUALIFIERS]
                return {"text": " ".join([*quals, name]), "family": "drums", "play": "hits"}
    if path.parent.name == "basses":
        quals = [_QUALIFIERS[t] for t in tokens if t in _QUALIFIERS]
        name = "plucked synth bass" if "pluck" in stem else (
            "synth bass" if quals or "synth" in tokens else "bass")
        return {"text": " ".join([*dict.fromkeys(quals), name]), "family": "bass", "play": "hits"}
    return None


def lay_out(sample: np.ndarray, play: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Lay a short sample out over ``n`` samples: loops tile, hits repeat, notes play once."""
    out = np.zeros(n, np.float32)
    if play == "loop":
        reps = int(np.ceil(n / max(1, len(sample))))
        return np.tile(sample, reps)[:n]
    if play == "hits":
        gap = int(rng.integers(n // 12, n // 5))
        for start in range(0, n, gap):
            seg = sample[: n - start]
            out[start : start + len(seg)] += seg
        return out
    seg = sample[:n]
    out[: len(seg)] = seg
    return out


def render_job(job: Job, cfg: BuildCfg) -> dict:
    """Cut (or lay out) one 10 s clip and caption it from grounded labels only."""
    p = job.params
    path = Path(p["file"])
    n = int(cfg.seconds * cfg.sample_rate)
    if p["kind"] == "sample":
        rng = np.random.default_rng(zlib.crc32(path.name.encode()))
        y = lay_out(read_window(path, 0.0, cfg.seconds, cfg.sample_rate), p["play"], n, rng)
        caption = p["text"]
        alts = [caption, f"{caption} (sample)", f"{p['text']}, recorded sample"]
        if p["play"] == "hits":
            alts = [f"repeated {p['text']} hits", f"{p['text']} hits", f"a {p['text']} sample"]
            caption = alts[0]
        labels = {"kind": "sample", "instrument_family": p["family"], "sample": p["text"]}
    else:
        y = read_window(path, p["start"], cfg.seconds, cfg.sample_rate)
        tags = _tags(path)
        caption, alts = _soundtrack_captions(p["game"], tags)
        labels = {"kind": "game soundtrack", "game": p["game"], **tags}
    if len(y) < n // 2 or float(np.abs(y).max(initial=0)) < 1e-3:
        raise RuntimeError("too short or silent")
    save_flac(cfg.out / job.audio, normalise(y[:n]), cfg.sample_rate)
    labels.update(package=p["package"], licence=p["licence"], file=str(path))
    return {"audio": job.audio, "caption": caption, "captions": alts, "source": "recordings",
            "labels": labels, "split": job.split}


def _tags(path: Path) -> dict:
    try:
        m = mutagen.File(path)
    except mutagen.MutagenError:
        return {}
    if m is None or not m.tags:
        return {}
    out = {}
    for key in ("title", "artist", "album", "genre"):
        for k in (key, key.upper(), key.capitalize()):
            try:
                v = m.tags.get(k)
            except (KeyError, ValueError):
                v = None
            if v:
                out[key] = str(v[0] if isinstance(v, list) else v).strip()
                break
    return out


def _soundtrack_captions(game: str, tags: dict) -> tuple[str, list[str]]:
    alts = [f"music from the video game {game}", f"{game} game soundtrack",
            f"video game music ({game})"]
    if tags.get("genre"):
        alts.insert(0, f"{tags['genre'].lower()} video game music from {game}")
    if tags.get("title"):
        by = f" by {tags['artist']}" if tags.get("artist") else ""
        alts.append(f"\"{tags['title']}\"{by}, from the {game} soundtrack")
    return alts[0], alts
