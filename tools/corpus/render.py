"""Render MIDI through a General MIDI soundfont with libfluidsynth (ctypes), and save FLAC.

The fluidsynth command line reloads the soundfont for every file (about 1 s for
FluidR3_GM, 12 s for the compressed MuseScore General .sf3), so each worker keeps one
synthesizer per soundfont and drives it directly: MIDI events are read with mido and
sent to the synth between blocks of rendered samples. The result is the same as the
CLI's fast file renderer, without the start-up cost per clip.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from pathlib import Path

import mido
import numpy as np

from slapdesk.library.demo.audio_files import FORMATS, encode

log = logging.getLogger(__name__)

SOUNDFONTS: dict[str, str] = {
    "fluidr3": "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "musescore": "/usr/share/sounds/sf3/MuseScore_General.sf3",
    "timgm6mb": "/usr/share/sounds/sf2/TimGM6mb.sf2",
}
"""Soundfonts by short name (Debian paths: fluid-soundfont-gm, musescore-general-soundfont,
timgm6mb-soundfont)."""


class FluidSynthMissingError(RuntimeError):
    """libfluidsynth or a soundfont is not installed."""


def _lib() -> ctypes.CDLL:
    name = ctypes.util.find_library("fluidsynth") or "libfluidsynth.so.3"
    try:
        lib = ctypes.CDLL(name)
    except OSError as exc:
        raise FluidSynthMissingError(
            f"libfluidsynth not found ({exc}); apt-get install fluidsynth") from exc
    vp, ci, cd, cc = ctypes.c_void_p, ctypes.c_int, ctypes.c_double, ctypes.c_char_p
    sig = {
        "new_fluid_settings": ([], vp), "delete_fluid_settings": ([vp], None),
        "fluid_settings_setnum": ([vp, cc, cd], ci), "fluid_settings_setint": ([vp, cc, ci], ci),
        "new_fluid_synth": ([vp], vp), "delete_fluid_synth": ([vp], None),
        "fluid_synth_sfload": ([vp, cc, ci], ci),
        "fluid_synth_noteon": ([vp, ci, ci, ci], ci), "fluid_synth_noteoff": ([vp, ci, ci], ci),
        "fluid_synth_cc": ([vp, ci, ci, ci], ci),
        "fluid_synth_program_change": ([vp, ci, ci], ci),
        "fluid_synth_pitch_bend": ([vp, ci, ci], ci),
        "fluid_synth_system_reset": ([vp], ci),
        "fluid_synth_write_float": ([vp, ci, vp, ci, ci, vp, ci, ci], ci),
        "fluid_synth_get_sfont_by_id": ([vp, ci], vp),
        "fluid_sfont_iteration_start": ([vp], None), "fluid_sfont_iteration_next": ([vp], vp),
        "fluid_preset_get_banknum": ([vp], ci), "fluid_preset_get_num": ([vp], ci),
        "fluid_set_log_function": ([ci, vp, vp], vp),
    }  # fmt: skip
    for fname, (args, res) in sig.items():
        fn = getattr(lib, fname)
        fn.argtypes, fn.restype = args, res
    for level in (1, 2, 3, 4):  # ERR..DBG: silence "no preset" chatter, keep PANIC
        lib.fluid_set_log_function(level, None, None)
    return lib


def soundfont_path(name: str) -> Path:
    """Resolve a soundfont short name (see ``SOUNDFONTS``) or path; raise if it is missing."""
    path = Path(SOUNDFONTS.get(name, name))
    if not path.is_file():
        raise FluidSynthMissingError(f"soundfont {name!r} not found at {path}")
    return path


def available() -> bool:
    """True when libfluidsynth and the FluidR3 soundfont are installed."""
    try:
        _lib()
        soundfont_path("fluidr3")
    except FluidSynthMissingError:
        return False
    return True


class Synth:
    """One fluidsynth instance with one soundfont loaded; renders MIDI files to mono float32."""

    def __init__(self, soundfont: str, sample_rate: int = 16_000) -> None:
        """Load ``soundfont`` (short name or path) into a new synthesizer."""
        self.lib = _lib()
        self.sample_rate = sample_rate
        self.path = soundfont_path(soundfont)
        self._settings = self.lib.new_fluid_settings()
        self.lib.fluid_settings_setnum(self._settings, b"synth.sample-rate", float(sample_rate))
        self.lib.fluid_settings_setnum(self._settings, b"synth.gain", 0.5)
        self.lib.fluid_settings_setint(self._settings, b"synth.polyphony", 256)
        self.lib.fluid_settings_setint(self._settings, b"synth.cpu-cores", 1)
        self._synth = self.lib.new_fluid_synth(self._settings)
        self._sfid = self.lib.fluid_synth_sfload(self._synth, str(self.path).encode(), 1)
        if self._sfid < 0:
            raise FluidSynthMissingError(f"fluidsynth cannot load {self.path}")

    def presets(self) -> set[tuple[int, int]]:
        """The (bank, program) pairs the soundfont defines."""
        sfont = self.lib.fluid_synth_get_sfont_by_id(self._synth, self._sfid)
        self.lib.fluid_sfont_iteration_start(sfont)
        out = set()
        while preset := self.lib.fluid_sfont_iteration_next(sfont):
            out.add((self.lib.fluid_preset_get_banknum(preset),
                     self.lib.fluid_preset_get_num(preset)))
        return out

    def _write(self, n: int, chunks: list[np.ndarray]) -> None:
        if n <= 0:
            return
        buf = np.zeros(2 * n, dtype=np.float32)
        ptr = buf.ctypes.data
        self.lib.fluid_synth_write_float(self._synth, n, ptr, 0, 2, ptr, 1, 2)
        chunks.append(buf)

    def render(self, midi_path: Path, seconds: float) -> np.ndarray:
        """Render the first ``seconds`` of a MIDI file; returns mono float32 at the synth rate."""
        lib, syn = self.lib, self._synth
        lib.fluid_synth_system_reset(syn)
        self._write(self.sample_rate // 2, [])  # let reverb/chorus tails of the last clip die
        total = round(seconds * self.sample_rate)
        chunks: list[np.ndarray] = []
        now_s, written = 0.0, 0
        for msg in mido.MidiFile(str(midi_path)):
            now_s += msg.time
            target = min(total, round(now_s * self.sample_rate))
            self._write(target - written, chunks)
            written = max(written, target)
            if written >= total:
                break
            if msg.is_meta:
                continue
            if msg.type == "note_on":
                lib.fluid_synth_noteon(syn, msg.channel, msg.note, msg.velocity)
            elif msg.type == "note_off":
                lib.fluid_synth_noteoff(syn, msg.channel, msg.note)
            elif msg.type == "control_change":
                lib.fluid_synth_cc(syn, msg.channel, msg.control, msg.value)
            elif msg.type == "program_change":
                lib.fluid_synth_program_change(syn, msg.channel, msg.program)
            elif msg.type == "pitchwheel":
                lib.fluid_synth_pitch_bend(syn, msg.channel, msg.pitch + 8192)
        self._write(total - written, chunks)
        stereo = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
        return stereo.reshape(-1, 2).mean(axis=1).astype(np.float32)

    def close(self) -> None:
        """Free the synthesizer."""
        if self._synth:
            self.lib.delete_fluid_synth(self._synth)
            self.lib.delete_fluid_settings(self._settings)
            self._synth = None


def normalise(samples: np.ndarray, peak: float = 0.89) -> np.ndarray:
    """Scale to a fixed peak (silence stays silence)."""
    top = float(np.max(np.abs(samples))) if samples.size else 0.0
    return samples if top < 1e-6 else (samples * (peak / top)).astype(np.float32)


def save_flac(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    """Write mono float32 samples as 16-bit FLAC, atomically (temp file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.flac")
    encode(tmp, samples, sample_rate, FORMATS["flac"])
    tmp.replace(path)
