"""The corpus builder: deterministic arrangements, honest captions, valid MIDI, real renders."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import av
import mido
import numpy as np
import pytest

from tools.corpus import recordings, synth
from tools.corpus.arrange import generate
from tools.corpus.build import BuildCfg, merge_manifests, run_jobs
from tools.corpus.captions import captions, labels
from tools.corpus.instruments import DRUM_KITS, INSTRUMENTS
from tools.corpus.midi import to_midi, write_midi
from tools.corpus.render import available
from tools.corpus.styles import STYLES

needs_fluidsynth = pytest.mark.skipif(
    not available(), reason="needs Debian packages fluidsynth (libfluidsynth3) + fluid-soundfont-gm"
)


def test_same_seed_same_arrangement_and_caption():
    a, b = generate([7, 0, 3]), generate([7, 0, 3])
    assert a == b
    assert captions(a, [7, 0, 3]) == captions(b, [7, 0, 3])
    assert generate([7, 0, 4]) != a


def test_parameter_space_is_covered():
    arrs = [generate([1, 0, i]) for i in range(400)]
    assert {a.style for a in arrs} == set(STYLES)
    assert {a.metre for a in arrs} == {"4/4", "3/4", "6/8"}
    assert {a.mode for a in arrs} == {"major", "minor"}
    assert {a.dynamics for a in arrs} == {"soft", "medium", "loud"}
    assert {a.density for a in arrs} == {"sparse", "medium", "dense"}
    assert {a.register for a in arrs} == {"low", "mid", "high"}
    assert {a.ensemble for a in arrs} == {"solo", "duo", "band", "drums"}
    families = Counter(f for a in arrs for f in labels(a)["instrument_families"])
    for family in ("piano", "organ", "guitar", "bass", "strings", "brass", "reed", "flute",
                   "synth lead", "synth pad", "choir", "drums"):
        assert families[family] >= 5, family
    kits = {p.instrument for a in arrs for p in a.parts if p.role == "drums"}
    assert len(kits) >= 6
    tempos = [a.tempo for a in arrs]
    assert min(tempos) < 65 and max(tempos) > 170


def _names(part) -> tuple[str, ...]:
    if part.role == "drums":
        return DRUM_KITS[part.instrument].names
    return INSTRUMENTS[part.instrument].names


def test_every_caption_names_every_instrument_and_nothing_else():
    all_names = {n.lower() for i in INSTRUMENTS.values() for n in i.names}
    for i in range(150):
        arr = generate([2, 0, i])
        caption, alts = captions(arr, [2, 0, i])
        assert caption == alts[0] and len(set(alts)) == len(alts) >= 3
        used = {n.lower() for p in arr.parts for n in _names(p)}
        for text in alts:
            low = text.lower()
            for part in arr.parts:
                assert any(n.lower() in low for n in _names(part)), (text, part.instrument)
            # No instrument is named that does not play (names that are substrings of a
            # playing instrument's names, like "piano" in "electric piano", are fine).
            for name in all_names - used:
                if re.search(rf"\b{re.escape(name)}\b", low):
                    assert any(name in u for u in used), (text, name)


def test_labels_match_the_arrangement():
    arr = generate([3, 0, 11])
    lab = labels(arr)
    assert lab["style"] == arr.style and lab["tempo_bpm"] == arr.tempo
    assert lab["mode"] == arr.mode and lab["metre"] == arr.metre
    melodic = {p.instrument for p in arr.parts if p.role != "drums"}
    assert set(lab["instruments"]) == melodic
    assert ("drums" in lab["instrument_families"]) == (arr.part("drums") is not None)


def test_midi_reads_back_with_expected_tracks_and_programs(tmp_path):
    for i in range(20):
        arr = generate([4, 0, i])
        path = write_midi(arr, tmp_path / f"{i}.mid")
        mid = mido.MidiFile(str(path))
        assert len(mid.tracks) == 1 + len(arr.parts)
        assert mid.ticks_per_beat == 480
        for part, track in zip(arr.parts, mid.tracks[1:], strict=True):
            progs = [m for m in track if m.type == "program_change"]
            assert [(m.channel, m.program) for m in progs] == [(part.channel, part.program)]
            ons = [m for m in track if m.type == "note_on"]
            assert len(ons) == len(part.notes) and all(m.channel == part.channel for m in ons)
        drums = arr.part("drums")
        assert drums is None or drums.channel == 9
        # The music lasts at least the clip (10 s).
        assert mid.length >= 10.0
    assert to_midi(generate([4, 0, 0])).tracks[0][1].type == "set_tempo"


def test_splits_never_share_soundfonts_or_seeds():
    fonts = {split: set(f) for split, f in synth.SPLIT_SOUNDFONTS.items()}
    assert not fonts["train"] & fonts["val"]
    train, val = synth.jobs("train", 50, 0), synth.jobs("val", 50, 0)
    assert {j.params["soundfont"] for j in train} == fonts["train"]
    assert {j.params["soundfont"] for j in val} == fonts["val"]
    assert not {tuple(j.params["seed"]) for j in train} & {tuple(j.params["seed"]) for j in val}
    assert not {j.audio for j in train} & {j.audio for j in val}


def test_reserved_packages_are_refused_for_training():
    with pytest.raises(ValueError, match="reserved"):
        recordings.package_files("freepats")
    assert not {s.package for s in recordings.SOUNDTRACKS} & recordings.RESERVED
    tracks = {s.package: s.split for s in recordings.SOUNDTRACKS}
    assert set(tracks.values()) == {"train", "val"}


def test_archives_give_only_their_music_folder():
    zero_ad = recordings.Soundtrack("0ad-data", "0 A.D.", "train", "CC-BY-SA-3.0", "audio/music/")
    archive = Path("/usr/share/games/0ad/mods/public/public.zip")
    assert recordings._archived_music(zero_ad, archive, "audio/music/Celtica.ogg")
    assert not recordings._archived_music(zero_ad, archive, "audio/ambient/music_box.ogg")
    nexuiz = recordings.Soundtrack("nexuiz-music", "Nexuiz", "train", "GPL-2+", "cdtracks")
    pk3 = Path("/usr/share/games/nexuiz/data/music.pk3")
    assert recordings._archived_music(nexuiz, pk3, "sound/cdtracks/track01.ogg")
    assert recordings._archived_music(nexuiz, pk3, "sound/music/intro.ogg")
    assert not recordings._archived_music(nexuiz, pk3, "sound/weapons/laser.ogg")


def test_sample_names_give_grounded_captions(tmp_path):
    assert recordings.lmms_label(tmp_path / "drums" / "snare_acoustic01.ogg") == {
        "text": "acoustic snare drum", "family": "drums", "play": "hits"}
    assert recordings.lmms_label(tmp_path / "beats" / "jungle01.ogg")["text"] == \
        "a jungle breakbeat loop"
    assert recordings.lmms_label(tmp_path / "misc" / "undefined01.ogg") is None


@needs_fluidsynth
def test_build_renders_clips_writes_manifests_and_resumes(tmp_path):
    cfg = BuildCfg(out=tmp_path, seed=5, workers=1, seconds=2.0, nice=0)
    jobs = synth.jobs("train", 3, 5)
    stats = run_jobs(jobs, cfg, "test", progress_every=1e9)
    assert (stats["done"], stats["errors"]) == (3, 0)
    counts = merge_manifests(tmp_path)
    assert counts == {"train": 3, "val": 0, "eval": 0}
    rows = [json.loads(line) for line in (tmp_path / "train.jsonl").read_text().splitlines()]
    assert [r["audio"] for r in rows] == [j.audio for j in jobs]
    for row in rows:
        assert row["split"] == "train" and row["source"] == "synth"
        assert row["caption"] == row["captions"][0]
        assert row["labels"]["soundfont"] == "fluidr3"
        with av.open(str(tmp_path / row["audio"])) as c:
            stream = c.streams.audio[0]
            assert (stream.codec_context.name, stream.rate, stream.channels) == ("flac", 16000, 1)
            x = np.concatenate([f.to_ndarray().ravel() for f in c.decode(stream)])
        assert len(x) == 32000 and np.abs(x).max() > 1000
    again = run_jobs(jobs, cfg, "test", progress_every=1e9)
    assert (again["skipped"], again["done"]) == (3, 0)
