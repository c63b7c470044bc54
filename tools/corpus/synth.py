"""Source 1: procedurally generated arrangements rendered through GM soundfonts.

Train clips use FluidR3_GM only; validation clips alternate MuseScore General and
TimGM6mb and use a disjoint seed stream, so validation scores measure transfer to
sounds the model has never heard rather than memorised samples.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tools.corpus.arrange import generate
from tools.corpus.build import BuildCfg, Job
from tools.corpus.captions import captions, labels
from tools.corpus.midi import write_midi
from tools.corpus.render import Synth, normalise, save_flac

SPLIT_SOUNDFONTS: dict[str, tuple[str, ...]] = {
    "train": ("fluidr3",),
    "val": ("musescore", "timgm6mb"),
}
"""Soundfonts per split; a test checks that no soundfont serves two splits."""

SPLIT_STREAM = {"train": 0, "val": 1}  # second seed component: disjoint seed streams


def jobs(split: str, count: int, seed: int, start: int = 0) -> list[Job]:
    """Jobs for ``count`` synth clips of one split (clip i uses seed (seed, stream, i))."""
    fonts = SPLIT_SOUNDFONTS[split]
    return [
        Job("synth", split, f"audio/synth/{split}/{i:06d}.flac",
            {"seed": [seed, SPLIT_STREAM[split], i], "soundfont": fonts[i % len(fonts)]})
        for i in range(start, start + count)
    ]


_SYNTHS: dict[str, Synth] = {}
_PRESETS: dict[str, tuple[set[int], set[int]]] = {}


def synth_for(soundfont: str, sample_rate: int) -> tuple[Synth, set[int], set[int]]:
    """This process's synth for a soundfont, with its melodic programs and drum kits."""
    if soundfont not in _SYNTHS:
        syn = Synth(soundfont, sample_rate)
        presets = syn.presets()
        _SYNTHS[soundfont] = syn
        _PRESETS[soundfont] = ({p for b, p in presets if b == 0},
                               {p for b, p in presets if b == 128})
    melodic, kits = _PRESETS[soundfont]
    return _SYNTHS[soundfont], melodic, kits


def render_job(job: Job, cfg: BuildCfg) -> dict:
    """Generate, write MIDI, render, save FLAC; return the manifest row."""
    seed = job.params["seed"]
    syn, melodic, kits = synth_for(job.params["soundfont"], cfg.sample_rate)
    arr = generate(seed, seconds=cfg.seconds, allowed_programs=melodic, allowed_kits=kits)
    with tempfile.TemporaryDirectory(prefix="corpus-midi-") as tmp:
        midi = write_midi(arr, Path(tmp) / "clip.mid")
        samples = syn.render(midi, cfg.seconds)
    if float(abs(samples).max()) < 1e-4:
        raise RuntimeError("rendered silence")
    save_flac(cfg.out / job.audio, normalise(samples), cfg.sample_rate)
    caption, alts = captions(arr, seed)
    lab = labels(arr)
    lab["soundfont"] = job.params["soundfont"]
    return {"audio": job.audio, "caption": caption, "captions": alts, "source": "synth",
            "labels": lab, "split": job.split, "seed": list(seed)}
