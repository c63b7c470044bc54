"""How the teachers' tags are said: each tag -> a concept, its kind, and several wordings.

Tags that mean the same (MTT "no vocals" / "no vocal" / "no voice", MSD "instrumental")
collapse to one concept, so a caption never repeats itself; every concept has wordings a
person might type ("metal", "heavy metal", "headbanging guitars"), drawn per caption.
"""

from __future__ import annotations

# concept -> (kind, wordings). Kinds: genre, mood, instrument, vocals, tempo, era.
CONCEPTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "rock": ("genre", ("rock", "rock music", "guitar rock")),
    "pop": ("genre", ("pop", "pop music", "a pop song")),
    "alternative": ("genre", ("alternative rock", "alternative", "indie rock")),
    "indie": ("genre", ("indie", "indie music")),
    "electronic": ("genre", ("electronic", "electronic music", "electronica", "synth-driven")),
    "dance": ("genre", ("dance", "danceable", "club music", "party music")),
    "jazz": ("genre", ("jazz", "jazzy", "jazz music")),
    "metal": ("genre", ("metal", "heavy metal", "headbanging guitars", "metal music")),
    "classic rock": ("genre", ("classic rock", "old-school rock")),
    "soul": ("genre", ("soul", "soulful", "soul music")),
    "folk": ("genre", ("folk", "folk music", "folky")),
    "punk": ("genre", ("punk", "punk rock")),
    "blues": ("genre", ("blues", "bluesy")),
    "hard rock": ("genre", ("hard rock", "heavy rock")),
    "ambient": ("genre", ("ambient", "atmospheric ambient", "ambient soundscape")),
    "hip hop": ("genre", ("hip hop", "rap beat", "hip-hop")),
    "country": ("genre", ("country", "country music", "country and western")),
    "funk": ("genre", ("funk", "funky")),
    "progressive rock": ("genre", ("progressive rock", "prog rock")),
    "rnb": ("genre", ("r&b", "rhythm and blues")),
    "house": ("genre", ("house", "house music")),
    "techno": ("genre", ("techno", "techno music")),
    "classical": ("genre", ("classical", "classical music", "orchestral classical music")),
    "opera": ("genre", ("opera", "operatic singing")),
    "indian": ("genre", ("indian music", "indian classical")),
    "new age": ("genre", ("new age", "new age music")),
    "easy listening": ("genre", ("easy listening", "lounge")),
    "experimental": ("genre", ("experimental", "avant-garde")),
    "chill": ("mood", ("chill", "chillout", "relaxed", "laid-back")),
    "mellow": ("mood", ("mellow", "calm", "gentle")),
    "beautiful": ("mood", ("beautiful", "lovely")),
    "sad": ("mood", ("sad", "melancholic", "sorrowful")),
    "happy": ("mood", ("happy", "cheerful", "joyful", "upbeat")),
    "sexy": ("mood", ("sensual", "sexy")),
    "catchy": ("mood", ("catchy",)),
    "weird": ("mood", ("weird", "strange")),
    "guitar": ("instrument", ("guitar", "guitars")),
    "acoustic": ("instrument", ("acoustic", "acoustic instruments")),
    "strings": ("instrument", ("strings", "string section")),
    "drums": ("instrument", ("drums", "a drum kit")),
    "beats": ("instrument", ("beats", "a beat")),
    "piano": ("instrument", ("piano", "piano keys")),
    "violin": ("instrument", ("violin", "fiddle")),
    "cello": ("instrument", ("cello",)),
    "synth": ("instrument", ("synthesizer", "synths")),
    "harpsichord": ("instrument", ("harpsichord",)),
    "flute": ("instrument", ("flute",)),
    "sitar": ("instrument", ("sitar",)),
    "harp": ("instrument", ("harp",)),
    "choir": ("vocals", ("choir", "choral voices")),
    "female vocals": ("vocals", ("female vocals", "a woman singing", "female singer")),
    "male vocals": ("vocals", ("male vocals", "a man singing", "male singer")),
    "vocals": ("vocals", ("vocals", "singing", "a singer")),
    "instrumental": ("vocals", ("instrumental", "no vocals", "without singing")),
    "slow": ("tempo", ("slow", "slow tempo", "unhurried")),
    "fast": ("tempo", ("fast", "uptempo", "fast-paced")),
    "loud": ("tempo", ("loud", "powerful")),
    "quiet": ("tempo", ("quiet", "soft", "hushed")),
    "solo": ("tempo", ("solo", "a solo instrument")),
    "60s": ("era", ("60s", "sixties")),
    "70s": ("era", ("70s", "seventies")),
    "80s": ("era", ("80s", "eighties")),
    "90s": ("era", ("90s", "nineties")),
    "00s": ("era", ("2000s",)),
    "oldies": ("era", ("oldies", "old-fashioned")),
}

# teacher tag (lower case) -> concept; tags absent here are their own concept.
TAG_CONCEPT: dict[str, str] = {
    "alternative rock": "alternative", "indie rock": "alternative", "indie pop": "indie",
    "electronica": "electronic", "electro": "electronic", "party": "dance",
    "heavy metal": "metal", "chillout": "chill", "hip-hop": "hip hop",
    "female vocalists": "female vocals", "female vocalist": "female vocals",
    "female vocal": "female vocals", "female": "female vocals", "woman": "female vocals",
    "female voice": "female vocals", "male vocalists": "male vocals", "male vocal": "male vocals",
    "male": "male vocals", "man": "male vocals", "male voice": "male vocals",
    "vocal": "vocals", "singing": "vocals", "voice": "vocals", "no vocals": "instrumental",
    "no vocal": "instrumental", "no voice": "instrumental", "beat": "beats",
    "classic": "classical", "choral": "choir", "soft": "quiet",
}

# Instrument concepts -> the corpus's instrument families that make them true.
FAMILY_OF: dict[str, frozenset[str]] = {
    "guitar": frozenset({"guitar"}), "strings": frozenset({"strings"}),
    "violin": frozenset({"strings"}), "cello": frozenset({"strings"}),
    "harp": frozenset({"strings"}), "drums": frozenset({"drums"}),
    "beats": frozenset({"drums"}), "piano": frozenset({"piano"}),
    "harpsichord": frozenset({"piano"}), "synth": frozenset({"synth lead", "synth pad"}),
    "flute": frozenset({"flute"}), "sitar": frozenset({"ethnic"}), "choir": frozenset({"choir"}),
}


def concept(tag: str) -> str:
    """The concept a teacher tag names."""
    low = tag.lower()
    return TAG_CONCEPT.get(low, low)


def kind(name: str) -> str:
    """The kind of a concept ("genre", "mood", ...)."""
    return CONCEPTS[name][0]


def wordings(name: str) -> tuple[str, ...]:
    """Ways to say a concept."""
    return CONCEPTS[name][1]
