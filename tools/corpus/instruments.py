"""General MIDI instruments the generator uses, with the words captions may call them.

Each entry is grounded in the GM program it plays: the caption names come from the
instrument, the family is the GM program group (the same grouping the zero-shot
evaluation set uses), and the range keeps each part where the real instrument plays.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Instrument:
    """One General MIDI melodic program."""

    program: int  # GM program number, 0-based
    key: str  # stable id used in labels, e.g. "distortion_guitar"
    names: tuple[str, ...]  # caption wordings, most specific first
    family: str  # instrument family (GM group), used in labels and some captions
    low: int  # lowest comfortable MIDI note
    high: int  # highest comfortable MIDI note
    sustained: bool = False  # holds notes (organ, strings, pads) rather than decaying


@dataclass(frozen=True)
class DrumKit:
    """One GM drum kit (bank 128 preset)."""

    program: int
    key: str
    names: tuple[str, ...]


def _i(program: int, key: str, names: str, family: str, low: int, high: int, sus: bool = False):
    return Instrument(program, key, tuple(names.split("|")), family, low, high, sus)


INSTRUMENTS: dict[str, Instrument] = {
    inst.key: inst
    for inst in (
        _i(0, "grand_piano", "piano|grand piano|acoustic piano", "piano", 36, 96),
        _i(1, "bright_piano", "bright piano|piano", "piano", 36, 96),
        _i(4, "electric_piano", "electric piano|Rhodes-style electric piano|e-piano", "piano",
           40, 88),
        _i(5, "fm_piano", "FM electric piano|electric piano", "piano", 40, 88),
        _i(6, "harpsichord", "harpsichord", "piano", 36, 89),
        _i(7, "clavinet", "clavinet|funky clavinet", "piano", 40, 84),
        _i(8, "celesta", "celesta|celeste", "mallet percussion", 60, 100),
        _i(9, "glockenspiel", "glockenspiel|bells", "mallet percussion", 72, 105),
        _i(11, "vibraphone", "vibraphone|vibes", "mallet percussion", 53, 89),
        _i(12, "marimba", "marimba", "mallet percussion", 45, 96),
        _i(13, "xylophone", "xylophone", "mallet percussion", 65, 108),
        _i(14, "tubular_bells", "tubular bells|chimes|bells", "mallet percussion", 60, 77),
        _i(16, "drawbar_organ", "organ|Hammond organ|drawbar organ", "organ", 36, 96, True),
        _i(17, "percussive_organ", "percussive organ|organ", "organ", 36, 96, True),
        _i(18, "rock_organ", "rock organ|organ", "organ", 36, 96, True),
        _i(19, "church_organ", "church organ|pipe organ|organ", "organ", 24, 96, True),
        _i(21, "accordion", "accordion", "organ", 53, 89, True),
        _i(22, "harmonica", "harmonica|blues harp", "organ", 60, 84, True),
        _i(24, "nylon_guitar", "nylon-string guitar|classical guitar|acoustic guitar", "guitar",
           40, 83),
        _i(25, "steel_guitar", "acoustic guitar|steel-string acoustic guitar", "guitar", 40, 83),
        _i(26, "jazz_guitar", "jazz guitar|hollow-body electric guitar|electric guitar", "guitar",
           40, 86),
        _i(27, "clean_guitar", "clean electric guitar|electric guitar", "guitar", 40, 86),
        _i(28, "muted_guitar", "muted electric guitar|palm-muted guitar", "guitar", 40, 76),
        _i(29, "overdrive_guitar", "overdriven electric guitar|overdriven guitar|crunchy guitar",
           "guitar", 40, 86),
        _i(30, "distortion_guitar", "distorted electric guitar|distorted guitar|heavy guitar",
           "guitar", 40, 86),
        _i(32, "acoustic_bass", "upright bass|acoustic bass|double bass", "bass", 28, 55),
        _i(33, "finger_bass", "electric bass|bass guitar|fingered bass", "bass", 28, 55),
        _i(34, "pick_bass", "picked bass|electric bass|bass guitar", "bass", 28, 55),
        _i(35, "fretless_bass", "fretless bass", "bass", 28, 55),
        _i(36, "slap_bass", "slap bass", "bass", 28, 55),
        _i(38, "synth_bass", "synth bass|synthesizer bass", "bass", 28, 55),
        _i(39, "synth_bass_2", "analog synth bass|synth bass", "bass", 28, 55),
        _i(40, "violin", "violin", "strings", 55, 96, True),
        _i(41, "viola", "viola", "strings", 48, 84, True),
        _i(42, "cello", "cello", "strings", 36, 72, True),
        _i(45, "pizzicato", "pizzicato strings|plucked strings", "strings", 40, 84),
        _i(46, "harp", "harp|concert harp", "strings", 36, 96),
        _i(48, "strings", "strings|string section|string ensemble", "strings", 40, 88, True),
        _i(49, "slow_strings", "lush strings|slow strings|strings", "strings", 40, 88, True),
        _i(50, "synth_strings", "synth strings|synthesizer strings", "strings", 40, 88, True),
        _i(52, "choir", "choir|choir singing aah|vocal choir", "choir", 48, 79, True),
        _i(53, "voice_oohs", "wordless vocal oohs|voices|choir", "choir", 48, 79, True),
        _i(56, "trumpet", "trumpet", "brass", 55, 82),
        _i(57, "trombone", "trombone", "brass", 40, 72),
        _i(58, "tuba", "tuba", "brass", 28, 58),
        _i(59, "muted_trumpet", "muted trumpet", "brass", 55, 82),
        _i(60, "french_horn", "French horn|horn", "brass", 41, 77, True),
        _i(61, "brass_section", "brass section|brass", "brass", 45, 82),
        _i(62, "synth_brass", "synth brass", "brass", 45, 82),
        _i(64, "soprano_sax", "soprano saxophone|soprano sax", "reed", 56, 87),
        _i(65, "alto_sax", "alto saxophone|alto sax|saxophone", "reed", 49, 81),
        _i(66, "tenor_sax", "tenor saxophone|tenor sax|saxophone", "reed", 44, 76),
        _i(67, "baritone_sax", "baritone saxophone|bari sax", "reed", 36, 69),
        _i(68, "oboe", "oboe", "reed", 58, 91),
        _i(70, "bassoon", "bassoon", "reed", 34, 72),
        _i(71, "clarinet", "clarinet", "reed", 50, 91),
        _i(72, "piccolo", "piccolo", "flute", 74, 108),
        _i(73, "flute", "flute", "flute", 60, 96),
        _i(74, "recorder", "recorder", "flute", 60, 91),
        _i(75, "pan_flute", "pan flute|panpipes", "flute", 60, 91),
        _i(78, "whistle", "whistle|tin whistle", "flute", 72, 96),
        _i(79, "ocarina", "ocarina", "flute", 60, 86),
        _i(80, "square_lead", "square-wave synth lead|chiptune square lead|synth lead",
           "synth lead", 48, 96),
        _i(81, "saw_lead", "sawtooth synth lead|saw lead|synth lead", "synth lead", 48, 96),
        _i(84, "charang_lead", "gritty synth lead|synth lead", "synth lead", 48, 90),
        _i(87, "bass_lead", "fat synth lead|synth lead", "synth lead", 40, 84),
        _i(88, "new_age_pad", "new age synth pad|synth pad", "synth pad", 48, 84, True),
        _i(89, "warm_pad", "warm synth pad|synth pad|pad", "synth pad", 48, 84, True),
        _i(90, "polysynth", "polysynth|synthesizer chords", "synth pad", 48, 84, True),
        _i(91, "choir_pad", "airy choir pad|synth pad", "synth pad", 48, 84, True),
        _i(92, "bowed_pad", "bowed glass pad|synth pad", "synth pad", 48, 84, True),
        _i(94, "halo_pad", "halo pad|shimmering synth pad", "synth pad", 48, 84, True),
        _i(95, "sweep_pad", "sweeping synth pad|synth pad", "synth pad", 48, 84, True),
        _i(104, "sitar", "sitar", "ethnic", 48, 84),
        _i(105, "banjo", "banjo", "ethnic", 48, 84),
        _i(107, "koto", "koto", "ethnic", 48, 84),
        _i(108, "kalimba", "kalimba|thumb piano", "ethnic", 60, 91),
        _i(109, "bagpipe", "bagpipes", "ethnic", 60, 81, True),
        _i(110, "fiddle", "fiddle|folk fiddle", "strings", 55, 93),
        _i(114, "steel_drums", "steel drums|steelpan", "mallet percussion", 55, 88),
    )
}

DRUM_KITS: dict[str, DrumKit] = {
    kit.key: kit
    for kit in (
        DrumKit(0, "standard", ("drums", "a drum kit", "acoustic drums")),
        DrumKit(8, "room", ("drums", "a live drum kit", "room drums")),
        DrumKit(16, "power", ("big rock drums", "drums", "a powerful drum kit")),
        DrumKit(24, "electronic", ("electronic drums", "drum machine", "electronic beat")),
        DrumKit(25, "tr808", ("808 drum machine", "TR-808 drums", "drum machine")),
        DrumKit(32, "jazz", ("jazz drums", "drums", "a jazz drum kit")),
        DrumKit(40, "brush", ("brushed drums", "drums played with brushes", "brush kit")),
        DrumKit(48, "orchestra", ("orchestral percussion", "timpani and orchestral drums")),
    )
}

# Families listed for evaluation and coverage checks; "drums" is the kit.
FAMILIES: tuple[str, ...] = tuple(sorted({i.family for i in INSTRUMENTS.values()} | {"drums"}))


def by_program(program: int) -> Instrument | None:
    """Return the catalogue entry for a GM program number, if the generator uses it."""
    for inst in INSTRUMENTS.values():
        if inst.program == program:
            return inst
    return None


GM_GROUPS: tuple[str, ...] = (
    "piano", "mallet percussion", "organ", "guitar", "bass", "strings", "strings", "brass",
    "reed", "flute", "synth lead", "synth pad", "synth effects", "ethnic", "percussive",
    "sound effects",
)  # fmt: skip
"""Family of each block of eight GM programs (ensemble and choir share block 6)."""


def gm_family(program: int) -> str:
    """Return the instrument family of any GM program (0-127)."""
    if 52 <= program <= 54:
        return "choir"
    return GM_GROUPS[program // 8]
