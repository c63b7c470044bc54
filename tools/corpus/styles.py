"""Style recipes: which metres, tempi, patterns and instruments make a style.

A style only biases the draw: with some probability each role takes any instrument of
the catalogue, so instruments and styles do not always come together and the model has
to hear each on its own.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Style:
    """A style the arrangement generator can play."""

    key: str  # label value, e.g. "rock"
    words: tuple[str, ...]  # caption wordings of the style ("rock", "rock and roll")
    nouns: tuple[str, ...]  # what a clip of it is called ("track", "song", "groove")
    metres: tuple[str, ...]  # "4/4", "3/4", "6/8"
    tempo: tuple[int, int]  # felt beats per minute (dotted quarters in 6/8)
    minor_p: float  # probability of a minor key
    drums: str | None  # drum pattern name, None for no drums
    kits: tuple[str, ...]  # drum kits to draw from
    bass: tuple[str, ...]  # bass pattern names
    comp: tuple[str, ...]  # comping pattern names
    lead: tuple[str, ...]  # lead instrument keys
    harmony: tuple[str, ...]  # comping instrument keys
    basses: tuple[str, ...]  # bass instrument keys
    pads: tuple[str, ...] = ()  # optional sustained layer
    progressions: str = "pop"  # progression family, see arrange.PROGRESSIONS
    swing: bool = False  # swung eighths
    density: tuple[str, ...] = ("sparse", "medium", "dense")


_GTR = ("clean_guitar", "overdrive_guitar", "distortion_guitar")
_KEYS = ("grand_piano", "electric_piano", "drawbar_organ", "rock_organ")

STYLES: dict[str, Style] = {
    s.key: s
    for s in (
        Style("rock", ("rock", "classic rock", "guitar rock"), ("track", "song", "tune"),
              ("4/4",), (96, 150), 0.5, "rock", ("standard", "room", "power"),
              ("eighths", "root_quarters"), ("power", "strum"),
              ("overdrive_guitar", "distortion_guitar", "rock_organ", "saw_lead"),
              (*_GTR, "rock_organ"), ("finger_bass", "pick_bass")),
        Style("metal", ("metal", "heavy metal", "hard rock"), ("track", "song", "riff"),
              ("4/4",), (140, 200), 0.9, "metal", ("power", "standard"),
              ("eighths",), ("power",), ("distortion_guitar", "overdrive_guitar"),
              ("distortion_guitar",), ("pick_bass", "finger_bass"), density=("medium", "dense")),
        Style("punk", ("punk", "punk rock"), ("track", "song"), ("4/4",), (160, 200), 0.4,
              "punk", ("standard", "power"), ("eighths",), ("power",),
              ("overdrive_guitar", "distortion_guitar"), _GTR, ("pick_bass",)),
        Style("pop", ("pop", "pop rock"), ("song", "track", "tune"), ("4/4",), (90, 128), 0.3,
              "pop", ("standard", "room", "electronic"), ("root_quarters", "eighths", "octaves"),
              ("strum", "block", "arpeggio"),
              ("saw_lead", "grand_piano", "alto_sax", "clean_guitar", "square_lead", "flute"),
              ("grand_piano", "steel_guitar", "electric_piano", "polysynth", "clean_guitar"),
              ("finger_bass", "synth_bass", "pick_bass"), ("warm_pad", "strings")),
        Style("ballad", ("ballad", "slow ballad", "soul ballad"), ("ballad", "song", "piece"),
              ("4/4", "6/8", "3/4"), (60, 80), 0.5, "ballad", ("standard", "brush", "room"),
              ("root_whole", "root_fifth"), ("arpeggio", "block"),
              ("grand_piano", "alto_sax", "tenor_sax", "violin", "flute", "clean_guitar", "cello"),
              ("grand_piano", "electric_piano", "nylon_guitar", "steel_guitar"),
              ("finger_bass", "fretless_bass", "acoustic_bass"), ("slow_strings", "warm_pad"),
              density=("sparse", "medium")),
        Style("jazz", ("jazz", "swing jazz", "cool jazz"), ("tune", "piece", "number"),
              ("4/4", "3/4"), (100, 200), 0.4, "swing", ("jazz", "brush"), ("walking",),
              ("jazz_comp",),
              ("tenor_sax", "alto_sax", "trumpet", "muted_trumpet", "vibraphone", "jazz_guitar",
               "grand_piano", "clarinet", "trombone"),
              ("grand_piano", "jazz_guitar", "electric_piano"), ("acoustic_bass",),
              progressions="jazz", swing=True),
        Style("blues", ("blues", "twelve-bar blues", "blues shuffle"), ("tune", "shuffle", "song"),
              ("4/4",), (70, 130), 0.3, "shuffle", ("standard", "room", "jazz"),
              ("walking", "root_fifth"), ("strum", "jazz_comp"),
              ("harmonica", "overdrive_guitar", "clean_guitar", "tenor_sax", "grand_piano"),
              ("grand_piano", "clean_guitar", "drawbar_organ"), ("finger_bass", "acoustic_bass"),
              progressions="blues", swing=True),
        Style("funk", ("funk", "funky"), ("groove", "track", "jam"), ("4/4",), (90, 120), 0.6,
              "funk", ("standard", "room"), ("funk",), ("stabs",),
              ("clavinet", "alto_sax", "tenor_sax", "brass_section", "muted_guitar", "synth_brass"),
              ("clavinet", "muted_guitar", "clean_guitar", "electric_piano"),
              ("slap_bass", "finger_bass", "synth_bass")),
        Style("disco", ("disco", "dance", "house"), ("track", "groove", "dance tune"), ("4/4",),
              (115, 128), 0.4, "four_floor", ("standard", "electronic", "tr808"), ("octaves",),
              ("stabs", "offbeat"),
              ("strings", "saw_lead", "brass_section", "electric_piano", "polysynth"),
              ("clean_guitar", "electric_piano", "polysynth", "strings"),
              ("finger_bass", "synth_bass", "synth_bass_2"), ("warm_pad", "synth_strings")),
        Style("techno", ("techno", "electronic", "electronic dance"), ("track", "groove", "loop"),
              ("4/4",), (120, 140), 0.7, "techno", ("electronic", "tr808"),
              ("octaves", "eighths"), ("arpeggio", "offbeat"),
              ("saw_lead", "square_lead", "bass_lead", "charang_lead"),
              ("polysynth", "saw_lead", "square_lead"), ("synth_bass", "synth_bass_2"),
              ("sweep_pad", "halo_pad", "warm_pad"), density=("medium", "dense")),
        Style("hiphop", ("hip hop", "boom bap", "hip hop instrumental"),
              ("beat", "track", "groove"),
              ("4/4",), (80, 98), 0.7, "hiphop", ("tr808", "electronic", "standard"),
              ("root_quarters", "funk"), ("block", "stabs"),
              ("electric_piano", "grand_piano", "vibraphone", "strings", "flute", "saw_lead"),
              ("electric_piano", "grand_piano", "strings"), ("synth_bass", "finger_bass"),
              swing=True, density=("sparse", "medium")),
        Style("reggae", ("reggae", "roots reggae", "dub"), ("tune", "groove", "song"), ("4/4",),
              (66, 84), 0.5, "reggae", ("standard", "room"), ("reggae",), ("offbeat",),
              ("drawbar_organ", "trumpet", "tenor_sax", "clean_guitar", "harmonica"),
              ("clean_guitar", "muted_guitar", "drawbar_organ", "electric_piano"),
              ("finger_bass", "synth_bass")),
        Style("bossa", ("bossa nova", "latin", "Brazilian bossa nova"), ("tune", "song", "piece"),
              ("4/4",), (110, 140), 0.5, "bossa", ("jazz", "brush", "standard"), ("bossa",),
              ("jazz_comp", "arpeggio"),
              ("flute", "tenor_sax", "nylon_guitar", "vibraphone", "clarinet", "electric_piano"),
              ("nylon_guitar", "grand_piano", "electric_piano"), ("acoustic_bass", "fretless_bass"),
              progressions="jazz"),
        Style("country", ("country", "country and western", "bluegrass-tinged country"),
              ("song", "tune", "two-step"), ("4/4", "3/4"), (90, 150), 0.2, "country",
              ("standard", "brush", "room"), ("root_fifth",), ("strum",),
              ("fiddle", "banjo", "steel_guitar", "harmonica", "clean_guitar"),
              ("steel_guitar", "banjo", "grand_piano"), ("finger_bass", "acoustic_bass")),
        Style("folk", ("folk", "acoustic folk", "folk dance"), ("tune", "song", "dance"),
              ("6/8", "3/4", "4/4"), (70, 120), 0.5, None, (), ("root_fifth",),
              ("strum", "arpeggio"),
              ("fiddle", "whistle", "accordion", "flute", "recorder", "violin", "bagpipe",
               "harmonica", "clarinet"),
              ("steel_guitar", "nylon_guitar", "accordion", "harp", "banjo"), ("acoustic_bass",)),
        Style("waltz", ("waltz", "Viennese-style waltz"), ("waltz", "piece", "dance"), ("3/4",),
              (84, 180), 0.4, "waltz", ("orchestra", "brush", "standard"), ("root_fifth",),
              ("waltz",),
              ("violin", "flute", "accordion", "clarinet", "grand_piano", "oboe", "strings"),
              ("grand_piano", "strings", "accordion", "harp"), ("acoustic_bass", "tuba")),
        Style("march", ("march", "military march", "marching band"), ("march", "piece", "tune"),
              ("4/4",), (104, 124), 0.25, "march", ("orchestra", "standard"), ("root_fifth",),
              ("beats",), ("trumpet", "piccolo", "clarinet", "brass_section", "french_horn"),
              ("brass_section", "trombone", "french_horn"), ("tuba",)),
        Style("classical", ("classical", "chamber music", "orchestral"), ("piece", "passage",
              "movement"), ("4/4", "3/4", "6/8"), (60, 140), 0.5, None, (),
              ("root_whole", "root_quarters"), ("alberti", "block", "arpeggio"),
              ("violin", "flute", "oboe", "clarinet", "cello", "french_horn", "grand_piano",
               "harpsichord", "trumpet", "bassoon"),
              ("grand_piano", "strings", "harp", "harpsichord", "pizzicato"),
              ("cello", "acoustic_bass", "bassoon"), ("strings", "slow_strings"),
              progressions="classical"),
        Style("choral", ("choral", "sacred choral", "hymn-like"), ("piece", "hymn", "passage"),
              ("4/4", "3/4"), (56, 90), 0.4, None, (), ("root_whole",), ("block",),
              ("choir", "voice_oohs", "church_organ"), ("church_organ", "choir", "strings"),
              ("church_organ", "cello"), ("slow_strings",), progressions="classical",
              density=("sparse", "medium")),
        Style("cinematic", ("cinematic", "orchestral", "epic film score"), ("cue", "piece",
              "theme"), ("4/4", "3/4"), (60, 120), 0.7, "cinematic", ("orchestra",),
              ("root_whole", "eighths"), ("block", "arpeggio"),
              ("french_horn", "strings", "trumpet", "choir", "cello", "brass_section"),
              ("strings", "brass_section", "harp", "pizzicato"), ("tuba", "cello", "acoustic_bass"),
              ("slow_strings", "choir"), progressions="modal"),
        Style("ambient", ("ambient", "ambient drone", "atmospheric"), ("piece", "soundscape",
              "texture"), ("4/4", "3/4"), (50, 80), 0.6, None, (), ("drone",), ("pad",),
              ("halo_pad", "bowed_pad", "new_age_pad", "celesta", "kalimba", "vibraphone",
               "pan_flute", "electric_piano"),
              ("warm_pad", "sweep_pad", "choir_pad", "halo_pad", "slow_strings"),
              ("synth_bass_2",), ("warm_pad", "bowed_pad"), progressions="modal",
              density=("sparse",)),
        Style("chiptune", ("chiptune", "8-bit video game", "retro game"), ("tune", "theme",
              "track"), ("4/4",), (120, 170), 0.4, "chiptune", ("electronic", "tr808"),
              ("octaves", "eighths"), ("arpeggio",), ("square_lead", "saw_lead"),
              ("square_lead",), ("synth_bass", "square_lead"), density=("medium", "dense")),
        Style("lullaby", ("lullaby", "gentle lullaby", "music box lullaby"), ("lullaby", "tune",
              "melody"), ("3/4", "6/8"), (56, 80), 0.2, None, (), ("root_whole",),
              ("arpeggio",), ("celesta", "glockenspiel", "kalimba", "flute", "grand_piano", "harp"),
              ("harp", "grand_piano", "nylon_guitar", "celesta"), ("acoustic_bass", "cello"),
              density=("sparse", "medium")),
        Style("world", ("world music", "world fusion", "folk-flavoured world music"), ("piece",
              "tune", "groove"), ("4/4", "6/8"), (70, 120), 0.6, "world", ("standard", "room"),
              ("drone", "root_fifth"), ("arpeggio", "pad"),
              ("sitar", "koto", "pan_flute", "kalimba", "steel_drums", "bagpipe"),
              ("koto", "harp", "sitar", "nylon_guitar"), ("acoustic_bass", "fretless_bass"),
              progressions="modal"),
    )
}
