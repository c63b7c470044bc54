"""Source 2: music21's bundled corpus, rendered through the same soundfonts.

Captions use only what the corpus says about a work: its collection (Essen folk songs
with their region, O'Neill's Irish tunes, Bach chorales, Renaissance polyphony, ...),
composer and title, the dance type named in a tune's title, plus the instruments we
assigned and the tempo we played it at. Works are split between train and validation
(never both), and validation renders with the validation soundfonts.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import mido
import numpy as np

from tools.corpus.build import BuildCfg, Job
from tools.corpus.instruments import by_program, gm_family
from tools.corpus.render import normalise, save_flac
from tools.corpus.synth import SPLIT_SOUNDFONTS, synth_for

# Collection -> (category, share of the clips).
COLLECTIONS = {
    "essenFolksong": ("folk", 0.28), "oneills1850": ("celtic", 0.10),
    "ryansMammoth": ("celtic", 0.06), "airdsAirs": ("celtic", 0.05),
    "miscFolk": ("folk", 0.03), "bach": ("chorale", 0.22), "palestrina": ("renaissance", 0.10),
    "josquin": ("renaissance", 0.02), "monteverdi": ("renaissance", 0.04),
    "trecento": ("renaissance", 0.04), "classical": ("classical", 0.06),
}  # fmt: skip
CLASSICAL = ("beethoven", "mozart", "haydn", "schumann_robert", "schumann_clara", "schubert",
             "handel", "corelli", "cpebach", "joplin", "verdi", "weber", "chopin")
COMPOSERS = {
    "bach": "Johann Sebastian Bach", "palestrina": "Giovanni Pierluigi da Palestrina",
    "josquin": "Josquin des Prez", "monteverdi": "Claudio Monteverdi", "beethoven": "Beethoven",
    "mozart": "Mozart", "haydn": "Haydn", "schumann_robert": "Robert Schumann",
    "schumann_clara": "Clara Schumann", "schubert": "Schubert", "handel": "Handel",
    "corelli": "Corelli", "cpebach": "C. P. E. Bach", "joplin": "Scott Joplin",
    "verdi": "Verdi", "weber": "Weber", "chopin": "Chopin",
}  # fmt: skip
COUNTRIES = {
    "China": "Chinese", "Deutschland": "German", "Luxemburg": "Luxembourgish",
    "Lothringen": "Lorraine", "Oesterreich": "Austrian", "Irland": "Irish", "Schweiz": "Swiss",
    "Niederlande": "Dutch", "Ungarn": "Hungarian", "Russland": "Russian", "Schweden": "Swedish",
    "Ukraine": "Ukrainian", "Frankreich": "French", "Polen": "Polish", "Daenemark": "Danish",
    "Rumaenien": "Romanian", "Italien": "Italian", "Tirol": "Tyrolean", "flaemisch": "Flemish",
}  # fmt: skip
REGIONS = {"Mitteleuropa": "Central European", "Osteuropa": "Eastern European",
           "Suedosteuropa": "South-East European", "Nordeuropa": "Northern European",
           "Asien": "Asian", "Europa": "European"}
DANCES = ("jig", "reel", "hornpipe", "strathspey", "polka", "waltz", "march", "slide", "clog",
          "schottische", "quickstep", "set dance", "air", "lament")
SOLO = {"folk": (110, 40, 73, 78, 74, 21, 71, 0, 22, 68, 46, 24, 105),
        "celtic": (110, 78, 73, 21, 109, 46, 105, 0, 74)}
ENSEMBLES = {  # name -> programs top voice first (repeated for extra voices)
    "choir": (52, 52, 52, 52), "church organ": (19, 19, 19, 19),
    "string quartet": (40, 40, 41, 42), "brass quartet": (56, 56, 57, 58),
    "woodwind quartet": (73, 68, 71, 70), "recorder consort": (74, 74, 74, 74),
    "piano": (0, 0, 0, 0), "viol consort": (40, 41, 42, 42),
}
PART_WORDS = {"violin": 40, "viola": 41, "cello": 42, "violoncello": 42, "bass": 43,
              "piano": 0, "flute": 73, "oboe": 68, "clarinet": 71, "bassoon": 70, "horn": 60,
              "trumpet": 56, "soprano": 52, "alto": 52, "tenor": 52, "voice": 52, "organ": 19}


def _candidates() -> dict[str, list[tuple[str, int | None, str]]]:
    """(corpus path, number, collection) per collection from music21's metadata bundle."""
    from music21 import corpus

    out: dict[str, list] = {k: [] for k in COLLECTIONS}
    for entry in corpus.corpora.CoreCorpus().metadataBundle:
        path = str(entry.sourcePath)
        top = path.split("/")[0]
        if path.endswith(".rntxt"):
            continue  # roman-numeral analyses, not playable voices
        key = "classical" if top in CLASSICAL else top
        if key in out:
            number = int(entry.number) if entry.number and str(entry.number).isdigit() else None
            out[key].append((path, number, top))
    return {k: sorted(set(v), key=lambda t: (t[0], t[1] or 0)) for k, v in out.items()}


def jobs(n_train: int, n_val: int, seed: int) -> list[Job]:
    """Pick works per collection (disjoint between splits) and make their jobs."""
    rng = np.random.default_rng([seed, 21])
    cands = _candidates()
    result: list[Job] = []
    for coll, (category, share) in COLLECTIONS.items():
        works = cands[coll]
        if not works:
            continue
        order = rng.permutation(len(works))
        k_val = max(1, round(n_val * share))
        k_train = max(1, round(n_train * share))
        picked = [works[i] for i in order[: k_val + k_train]]
        for j, (path, number, top) in enumerate(picked):
            split = "val" if j < k_val else "train"
            fonts = SPLIT_SOUNDFONTS[split]
            slug = f"{path.replace('/', '_').rsplit('.', 1)[0]}_{number or 0}"
            result.append(Job("music21", split, f"audio/music21/{split}/{slug}.flac", {
                "path": path, "number": number, "collection": top, "category": category,
                "soundfont": fonts[j % len(fonts)], "seed": [seed, 21, j, len(coll)]}))
    return result


def _region(locale: str | None) -> str | None:
    if not locale:
        return None
    for word, adj in COUNTRIES.items():
        if word in locale:
            return adj
    return REGIONS.get(locale.split(",")[0].strip())


def _tempo(score, category: str, metre: str, rng: np.random.Generator) -> tuple[float, bool]:
    """Quarter-note bpm: the score's own metronome mark when it has one."""
    marks = [m for m in score.flatten().getElementsByClass("MetronomeMark") if m.number]
    if marks:
        return float(marks[0].getQuarterBPM() or marks[0].number), True
    lo, hi = {"chorale": (60, 84), "renaissance": (100, 150), "classical": (90, 140),
              "folk": (80, 130), "celtic": (120, 180)}[category]
    if metre in ("6/8", "9/8", "12/8"):
        lo, hi = lo * 1.3, hi * 1.3
    return float(rng.integers(int(lo), int(hi) + 1)), False


def _programs(score, category: str, rng: np.random.Generator) -> tuple[list[int], str]:
    parts = list(score.parts) or [score]
    n = len(parts)
    if category in ("folk", "celtic") and n == 1:
        prog = int(rng.choice(SOLO[category]))
        return [prog], "solo"
    if category == "classical":
        progs = []
        for p in parts:
            name = (p.partName or "").lower()
            progs.append(next((v for w, v in PART_WORDS.items() if w in name), 0))
        return progs, "score"
    choices = ["choir", "church organ", "string quartet", "brass quartet", "woodwind quartet",
               "piano"] if category == "chorale" else \
        ["choir", "viol consort", "recorder consort", "church organ"]
    ens = str(rng.choice(choices))
    base = ENSEMBLES[ens]
    return [base[min(i, len(base) - 1)] for i in range(n)], ens


def _midi(score, programs: list[int], qbpm: float, path: Path) -> None:
    """Write the score as MIDI, then set our tempo and programs with mido."""
    score.write("midi", fp=str(path))
    mid = mido.MidiFile(str(path))
    note_tracks = [t for t in mid.tracks if any(m.type == "note_on" for m in t)]
    for track in mid.tracks:
        keep = [m for m in track if m.type not in ("set_tempo", "program_change")]
        track.clear()
        track.extend(keep)
    mid.tracks[0].insert(0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(qbpm)))
    for i, track in enumerate(note_tracks):
        channels = sorted({m.channel for m in track if m.type == "note_on"})
        for ch in channels:
            prog = programs[min(i, len(programs) - 1)]
            for msg in (mido.Message("control_change", channel=ch, control=91, value=50),
                        mido.Message("program_change", channel=ch, program=prog)):
                track.insert(0, msg)
    mid.save(str(path))


def render_job(job: Job, cfg: BuildCfg) -> dict:
    """Parse the work, assign instruments and tempo, render its first seconds, caption it."""
    from music21 import corpus

    p = job.params
    rng = np.random.default_rng(p["seed"])
    score = corpus.parse(p["path"], number=p["number"]) if p["number"] else corpus.parse(p["path"])
    if hasattr(score, "scores"):  # an Opus of several pieces: take the first
        score = score.scores[0]
    ts = score.flatten().getElementsByClass("TimeSignature")
    metre = ts[0].ratioString if ts else "4/4"
    qbpm, from_score = _tempo(score, p["category"], metre, rng)
    bar_ql = ts[0].barDuration.quarterLength if ts else 4.0
    n_bars = math.ceil((cfg.seconds + 2) * qbpm / 60 / bar_ql) + 1
    try:
        excerpt = score.measures(0, n_bars)
    except Exception:
        excerpt = score
    programs, ensemble = _programs(excerpt, p["category"], rng)
    syn, _, _ = synth_for(p["soundfont"], cfg.sample_rate)
    with tempfile.TemporaryDirectory(prefix="corpus-m21-") as tmp:
        midi_path = Path(tmp) / "work.mid"
        try:
            _midi(excerpt, programs, qbpm, midi_path)
        except Exception:
            _midi(score, programs, qbpm, midi_path)
        samples = syn.render(midi_path, cfg.seconds)
    if float(np.abs(samples).max()) < 1e-4:
        raise RuntimeError("rendered silence")
    save_flac(cfg.out / job.audio, normalise(samples), cfg.sample_rate)
    md = score.metadata
    meta = {"title": (md.title or md.movementName or "") if md else "",
            "composer": (md.composer or "") if md else "",
            "locale": (md.localeOfComposition or "") if md else ""}
    caption, alts, labels = _describe(p, meta, programs, ensemble, qbpm, metre, from_score, rng)
    labels["soundfont"] = p["soundfont"]
    return {"audio": job.audio, "caption": caption, "captions": alts, "source": "music21",
            "labels": labels, "split": job.split, "work": f"{p['path']}#{p['number'] or 0}"}


def _describe(p: dict, meta: dict, programs: list[int], ensemble: str, qbpm: float, metre: str,
              from_score: bool, rng: np.random.Generator) -> tuple[str, list[str], dict]:
    names = []
    for prog in dict.fromkeys(programs):
        inst = by_program(prog)
        names.append(inst.names[0] if inst else "instrument")
    inst_text = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    played = f"played on {inst_text}"
    if ensemble == "choir":
        played = "sung by a choir"
    elif ensemble in ENSEMBLES and ensemble != "piano":
        played = f"played by a {ensemble}"
    cat, coll = p["category"], p["collection"]
    title = meta["title"].strip().title() if meta["title"] else ""
    composer = COMPOSERS.get(coll) or meta["composer"]
    bpm = round(qbpm * (2 / 3 if metre in ("6/8", "9/8", "12/8") else 1))
    if cat == "folk":
        region = _region(meta["locale"]) or ("American" if coll == "miscFolk" else "European")
        what = f"{_a(region)} {region} folk song melody"
        extra = [f"traditional {region} folk tune, solo {inst_text}",
                 f"folk melody from the {region} tradition {played}"]
    elif cat == "celtic":
        dance = next((d for d in DANCES if d in meta["title"].lower()), "tune")
        origin = "Irish" if coll == "oneills1850" else "traditional"
        what = f"{_a(origin)} {origin} fiddle {dance}" if dance != "air" else f"a {origin} air"
        extra = [f"{origin} folk {dance} in {metre} {played}",
                 f"celtic folk {dance}, solo {inst_text}, {bpm} bpm"]
    elif cat == "chorale":
        what = "a four-part Bach chorale"
        extra = [f"Baroque chorale harmonisation by {composer} {played}",
                 f"hymn-like four-part chorale by J. S. Bach on {inst_text}"]
    elif cat == "renaissance":
        era = "medieval Italian (trecento)" if coll == "trecento" else "Renaissance"
        what = f"{era} polyphony by {composer}" if composer else f"{era} polyphony"
        extra = [f"early music: {era} vocal polyphony {played}",
                 f"{_a(era)} {era} piece in several voices, {played}"]
    else:
        what = f"a classical piece by {composer}" if composer else "a classical piece"
        extra = [f"classical chamber music by {composer or 'a classical composer'} for "
                 f"{inst_text}", f"{composer or 'classical'} excerpt {played}"]
    main = f"{what} {played}"
    alts = [main, *extra, f"{what}, {inst_text}, in {metre} at about {bpm} bpm"]
    if title and cat in ("folk", "celtic", "classical", "renaissance"):
        alts.append(f"{title}: {what} {played}")
    families = sorted({gm_family(x) for x in programs})
    labels = {"collection": coll, "category": cat, "composer": composer or None,
              "title": meta["title"] or None, "region": _region(meta["locale"]),
              "ensemble": ensemble, "programs": programs, "instrument_families": families,
              "lead_family": gm_family(programs[0]), "metre": metre, "tempo_bpm": bpm,
              "tempo_from_score": from_score}
    order = [0, *(1 + rng.permutation(len(alts) - 1))]
    alts = [alts[i] for i in order]
    return alts[0], alts, labels


def _a(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"
