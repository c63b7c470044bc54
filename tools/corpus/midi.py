"""Write an ``Arrangement`` as a Standard MIDI File (type 1, one track per part)."""

from __future__ import annotations

from pathlib import Path

import mido

from tools.corpus.arrange import TICKS_PER_BEAT, Arrangement, Part

_MAJOR_KEYS = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
_MINOR_KEYS = ("Cm", "C#m", "Dm", "Ebm", "Em", "Fm", "F#m", "Gm", "G#m", "Am", "Bbm", "Bm")


def _conductor(arr: Arrangement) -> mido.MidiTrack:
    num, den = (int(x) for x in arr.metre.split("/"))
    key = (_MINOR_KEYS if arr.mode == "minor" else _MAJOR_KEYS)[arr.tonic]
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=f"{arr.style} seed {arr.seed}", time=0))
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(arr.quarter_bpm), time=0))
    track.append(mido.MetaMessage("time_signature", numerator=num, denominator=den, time=0))
    track.append(mido.MetaMessage("key_signature", key=key, time=0))
    return track


def _part_track(part: Part) -> mido.MidiTrack:
    ch = part.channel
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=f"{part.role}:{part.instrument}", time=0))
    track.append(mido.Message("program_change", channel=ch, program=part.program, time=0))
    for control, value in ((7, part.volume), (10, part.pan), (91, part.reverb), (93, 20)):
        track.append(mido.Message("control_change", channel=ch, control=control, value=value))
    events: list[tuple[int, int, int, int]] = []  # (tick, order, pitch, velocity)
    for start, length, pitch, velocity in part.notes:
        events.append((start, 1, pitch, velocity))
        events.append((start + length, 0, pitch, 0))  # note-offs first at equal ticks
    events.sort()
    now = 0
    for tick, is_on, pitch, velocity in events:
        kind = "note_on" if is_on else "note_off"
        track.append(mido.Message(kind, channel=ch, note=pitch, velocity=velocity,
                                  time=tick - now))
        now = tick
    return track


def to_midi(arr: Arrangement) -> mido.MidiFile:
    """Build the MIDI file of an arrangement (conductor track first, then one per part)."""
    mid = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    mid.tracks.append(_conductor(arr))
    for part in arr.parts:
        mid.tracks.append(_part_track(part))
    return mid


def write_midi(arr: Arrangement, path: Path) -> Path:
    """Write the arrangement's MIDI file to ``path`` and return it."""
    to_midi(arr).save(str(path))
    return path
