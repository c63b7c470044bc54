"""The independent zero-shot evaluation set, built ONLY from the reserved packages.

Nothing here may feed training: these packages (``recordings.RESERVED``) are kept apart so
that zero-shot figures on them mean something. Labels are grounded in the packages:

- freepats: each patch is named after its General MIDI program; short phrases are played
  through it with TiMidity++ (freepats' own player config) -> ``instrument_family``
  (the GM group); its drum set -> "drums".
- hydrogen-drumkits: grooves assembled from each kit's kick/snare/hi-hat samples -> "drums".
- sonic-pi-samples: the sample-name category (bass_, bd_, sn_, drum_, tabla_, guit_,
  loop_amen, ambi_piano, ambi_choir, ...) -> ``instrument_family``; ambi_ drones -> style.
- wesnoth-1.16-music: the files' own genre tag ("Romantic Classical" -> "classical").
- fretsonfire songs: guitar stems -> "guitar"; Muldjord's readme calls the band a metal
  band -> genre "metal" for their full mixes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import zlib
from pathlib import Path

import mido
import numpy as np

from tools.corpus import patterns as pt
from tools.corpus.build import BuildCfg, Job
from tools.corpus.instruments import by_program, gm_family
from tools.corpus.recordings import duration, lay_out, read_window
from tools.corpus.render import normalise, save_flac

FREEPATS = Path("/usr/share/midi/freepats")
FREEPATS_CFG = Path("/etc/timidity/freepats.cfg")
HYDROGEN = Path("/usr/share/hydrogen/data/drumkits")
SONIC_PI = Path("/usr/share/sonic-pi/samples")
FOF = Path("/usr/share/games/fretsonfire/data/songs")
SKIP_KITS = ("GuitarStrums", "Gimme A Hand")  # not drum kits
WINDOWS = (0.25, 0.5, 0.75)  # where 10 s windows of full tracks are cut (fraction of length)

SONIC_PI_LABELS: dict[str, dict] = {
    "bass_": {"instrument_family": "bass"}, "bd_": {"instrument_family": "drums"},
    "sn_": {"instrument_family": "drums"}, "drum_": {"instrument_family": "drums"},
    "tabla_": {"instrument_family": "drums"}, "guit_": {"instrument_family": "guitar"},
    "loop_amen": {"instrument_family": "drums"}, "loop_breakbeat": {"instrument_family": "drums"},
    "loop_tabla": {"instrument_family": "drums"}, "loop_safari": {"instrument_family": "drums"},
    "loop_compus": {"instrument_family": "drums"}, "loop_mika": {"instrument_family": "drums"},
    "loop_industrial": {"instrument_family": "drums"},
    "ambi_piano": {"instrument_family": "piano"}, "ambi_choir": {"instrument_family": "choir"},
    "ambi_drone": {"style": "ambient"}, "ambi_glass_hum": {"style": "ambient"},
    "ambi_haunted_hum": {"style": "ambient"}, "ambi_lunar_land": {"style": "ambient"},
}  # fmt: skip


def jobs(per_class: int = 60, seed: int = 0) -> list[Job]:
    """Jobs for every reserved source that is installed (missing packages are skipped)."""
    out = _freepats_jobs(per_class, seed) + _hydrogen_jobs(per_class, seed)
    out += _sonic_pi_jobs() + _music_jobs()
    return out


def _job(audio: str, **params) -> Job:
    return Job("eval", "eval", f"audio/eval/{audio}.flac", params)


def _freepats_jobs(per_class: int, seed: int) -> list[Job]:
    if not (FREEPATS / "Tone_000").is_dir() or shutil.which("timidity") is None:
        return []
    patches = sorted((FREEPATS / "Tone_000").glob("*.pat"))
    by_family: dict[str, list[tuple[int, str]]] = {}
    for p in patches:
        prog = int(p.name[:3])
        by_family.setdefault(gm_family(prog), []).append((prog, p.stem[4:]))
    out = []
    for family, progs in sorted(by_family.items()):
        if family in ("sound effects", "synth effects", "percussive"):
            continue  # no instrument family a listener would name
        n = min(per_class, 6 * len(progs))
        for i in range(n):
            prog, name = progs[i % len(progs)]
            out.append(_job(f"freepats/{family.replace(' ', '_')}_{prog:03d}_{i:03d}",
                            kind="freepats", program=prog, patch=name, family=family,
                            seed=[seed, 77, prog, i]))
    for i in range(per_class):
        out.append(_job(f"freepats/drums_{i:03d}", kind="freepats", program=-1, patch="Drum_000",
                        family="drums", seed=[seed, 78, i]))
    return out


def _hydrogen_jobs(per_class: int, seed: int) -> list[Job]:
    if not HYDROGEN.is_dir():
        return []
    kits = [k for k in sorted(HYDROGEN.iterdir())
            if (k / "drumkit.xml").is_file() and not any(s in k.name for s in SKIP_KITS)]
    out = []
    for i in range(min(per_class, 5 * len(kits))):
        kit = kits[i % len(kits)]
        slug = re.sub(r"[^A-Za-z0-9]+", "_", kit.name)
        out.append(_job(f"hydrogen/{slug}_{i:03d}", kind="hydrogen", kit=str(kit),
                        seed=[seed, 79, i]))
    return out


def _sonic_pi_jobs() -> list[Job]:
    if not SONIC_PI.is_dir():
        return []
    out = []
    for f in sorted(SONIC_PI.glob("*.flac")):
        label = next((v for k, v in sorted(SONIC_PI_LABELS.items(), key=lambda kv: -len(kv[0]))
                      if f.stem.startswith(k)), None)
        if label:
            out.append(_job(f"sonic_pi/{f.stem}", kind="sonic_pi", file=str(f), labels=label))
    return out


def _music_jobs() -> list[Job]:
    out = []
    wesnoth = Path("/usr/share/games/wesnoth/1.16/data/core/music")
    for f in sorted(wesnoth.glob("*.ogg")) if wesnoth.is_dir() else []:
        for w, frac in enumerate(WINDOWS):
            out.append(_job(f"wesnoth/{f.stem}_{w}", kind="track", file=str(f), frac=frac))
    for song in sorted(FOF.glob("*/*/song.ini")) if FOF.is_dir() else []:
        d = song.parent
        slug = re.sub(r"[^A-Za-z0-9]+", "_", f"{d.parent.name}_{d.name}")
        readme = d / "readme.txt"
        metal = readme.is_file() and "metal band" in readme.read_text(errors="replace")
        for w, frac in enumerate(WINDOWS):
            if (d / "guitar.ogg").is_file():
                out.append(_job(f"fretsonfire/{slug}_guitar_{w}", kind="stem", frac=frac,
                                file=str(d / "guitar.ogg"), labels={"instrument_family": "guitar"}))
            if metal:
                out.append(_job(f"fretsonfire/{slug}_mix_{w}", kind="mix", file=str(d / "song.ogg"),
                                frac=frac, extra=str(d / "guitar.ogg"), labels={"genre": "metal"}))
    return out


def _phrase_midi(program: int, rng: np.random.Generator, path: Path) -> None:
    """A short phrase (melody, plus chords for most families) for one GM program."""
    mid = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(int(rng.integers(80, 140)))))
    tonic, mode = int(rng.integers(12)), str(rng.choice(["major", "minor"]))
    chords = [pt.chord_pcs(tonic, mode, d, False, True) for d in (0, 3, 4, 0, 5, 3, 4, 0)]
    events: list[tuple[int, int, int, int]] = []  # tick, on, channel, pitch/vel packed
    if program < 0:  # drums: a plain rock beat on channel 10
        for bar in range(6):
            for s, ln, p, v in pt.drum_bar("rock", "4/4", bar, rng):
                t = int((bar * 16 + s) * 120)
                events += [(t, 1, 9, p, int(100 * v)), (t + int(ln * 120), 0, 9, p, 0)]
    else:
        inst = by_program(program)
        lo, hi = (inst.low, inst.high) if inst else (48, 84)
        voiced = [pt.voicing(c, max(lo, 45), min(hi, 79), (max(lo, 45) + min(hi, 79)) // 2)
                  for c in chords]
        for s, ln, p, v in pt.melody(8, "4/4", "medium", voiced, mode, tonic, lo, hi, rng):
            events += [(int(s * 120), 1, 0, p, int(96 * v)), (int((s + ln) * 120), 0, 0, p, 0)]
        if gm_family(program) in ("piano", "guitar", "organ", "strings", "mallet percussion"):
            for bar, chord in enumerate(voiced):
                for p in chord:
                    events += [(bar * 1920, 1, 0, p - 12, 60), (bar * 1920 + 1800, 0, 0, p - 12, 0)]
        track.append(mido.Message("program_change", channel=0, program=program))
    now = 0
    for t, on, ch, p, v in sorted(events):
        kind = "note_on" if on else "note_off"
        track.append(mido.Message(kind, channel=ch, note=max(0, min(127, p)), velocity=v,
                                  time=t - now))
        now = t
    mid.save(str(path))


def _timidity(midi: Path, wav: Path, sr: int) -> np.ndarray:
    subprocess.run(["timidity", "-c", str(FREEPATS_CFG), "-Ow", "--output-mono", "-s", str(sr),
                    "-o", str(wav), str(midi)], check=True, capture_output=True, timeout=120)
    return read_window(wav, 0.0, 30.0, sr)


def _hydrogen_groove(kit: Path, rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    xml = (kit / "drumkit.xml").read_text(errors="replace")
    found: dict[str, Path] = {}
    for block in re.findall(r"<instrument>(.*?)</instrument>", xml, flags=re.S):
        name = (re.search(r"<name>(.*?)</name>", block) or [None, ""])[1].lower()
        fnames = re.findall(r"<filename>(.*?)</filename>", block)
        if not fnames:
            continue
        for role, words in (("kick", ("kick", "bassdrum", "bass drum", "bd")),
                            ("snare", ("snare",)), ("hat", ("hat", "hh"))):
            if role not in found and any(w in name for w in words):
                found[role] = kit / fnames[len(fnames) // 2]  # a middle velocity layer
    if "kick" not in found or "snare" not in found:
        raise RuntimeError(f"{kit.name}: no kick/snare instrument found in drumkit.xml")
    samples = {r: read_window(p, 0.0, 2.0, sr) for r, p in found.items()}
    step = int(sr * 60 / int(rng.integers(80, 150)) / 4)
    out = np.zeros(n, np.float32)
    hits = {"kick": (0, 8, 10), "snare": (4, 12), "hat": (0, 2, 4, 6, 8, 10, 12, 14)}
    for bar_start in range(0, n, 16 * step):
        for role, steps in hits.items():
            if role in samples:
                for s in steps:
                    start = bar_start + s * step
                    seg = samples[role][: max(0, n - start)] * (0.6 if role == "hat" else 1.0)
                    out[start : start + len(seg)] += seg
    return out


def render_job(job: Job, cfg: BuildCfg) -> dict:
    """Render or cut one evaluation clip and label it."""
    p = job.params
    n = int(cfg.seconds * cfg.sample_rate)
    sr = cfg.sample_rate
    rng = np.random.default_rng(p.get("seed", zlib.crc32(job.audio.encode())))
    caption = ""
    if p["kind"] == "freepats":
        with tempfile.TemporaryDirectory(prefix="corpus-eval-") as tmp:
            _phrase_midi(p["program"], rng, Path(tmp) / "x.mid")
            y = _timidity(Path(tmp) / "x.mid", Path(tmp) / "x.wav", sr)
        labels = {"instrument_family": p["family"], "program": p["program"], "patch": p["patch"]}
        caption = p["patch"].replace("_", " ").lower()
        source = "freepats"
    elif p["kind"] == "hydrogen":
        y = _hydrogen_groove(Path(p["kit"]), rng, n, sr)
        labels, caption, source = {"instrument_family": "drums", "kit": Path(p["kit"]).name}, \
            "drum kit groove", "hydrogen-drumkits"
    elif p["kind"] == "sonic_pi":
        raw = read_window(Path(p["file"]), 0.0, cfg.seconds, sr)
        play = "loop" if Path(p["file"]).stem.startswith("loop_") else (
            "hits" if len(raw) < sr * 1.5 else "note")
        y = lay_out(raw, play, n, rng)
        labels, source = dict(p["labels"]), "sonic-pi-samples"
        caption = Path(p["file"]).stem.replace("_", " ")
    else:
        path = Path(p["file"])
        dur = duration(path)
        start = max(0.0, dur * p["frac"] - cfg.seconds / 2)
        y = read_window(path, start, cfg.seconds, sr)
        if p["kind"] == "mix":  # the band without the guitar stem is not the song: add it
            g = read_window(Path(p["extra"]), start, cfg.seconds, sr)
            m = min(len(y), len(g))
            y = y[:m] + g[:m]
        if p["kind"] == "track":
            tags = _wesnoth_tags(path)
            genre = tags.get("genre", "").lower()
            labels = {"genre": "classical" if "classical" in genre else "soundtrack"}
            labels.update({f"tag_{k}": v for k, v in tags.items()})
            source, caption = "wesnoth-1.16-music", tags.get("title", path.stem)
        else:
            labels, source = dict(p["labels"]), "fretsonfire"
            caption = f"{path.parent.name} ({path.stem})"
    y = y[:n]
    if len(y) < sr or float(np.abs(y).max(initial=0)) < 1e-3:
        raise RuntimeError("too short or silent")
    save_flac(cfg.out / job.audio, normalise(y), sr)
    return {"audio": job.audio, "caption": caption, "captions": [caption], "source": source,
            "labels": labels, "split": "eval"}


def _wesnoth_tags(path: Path) -> dict:
    import mutagen

    m = mutagen.File(path)
    if m is None or not m.tags:
        return {}
    return {k: str(m.tags[k][0]) for k in ("title", "artist", "genre") if k in m.tags}
