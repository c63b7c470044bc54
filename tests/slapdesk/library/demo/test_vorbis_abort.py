"""FFmpeg's own Vorbis encoder aborts the process on some clean signals; the demo must not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# The 59th jazz track of a 2,000-track demo (seed 0, 10 s) made FFmpeg's Vorbis encoder fail
# an assertion in floor_encode and abort `slapdesk demo --tracks 2000` at file 930.
_ENCODE_THE_TRACK = """
import sys
from pathlib import Path
from slapdesk.library.demo.audio_files import FORMATS, encode
from slapdesk.library.demo.library import DemoCfg, plan_demo, render_track
cfg = DemoCfg(tracks=2000, seconds=10, seed=0)
track = next(t for t in plan_demo(cfg) if t.relpath.endswith("59 Distant River (ogg).ogg"))
encode(Path(sys.argv[1]), render_track(track, cfg), cfg.sample_rate, FORMATS["ogg"])
print("encoded")
"""


def test_the_track_that_aborted_the_encoder_is_written(tmp_path: Path) -> None:
    out = tmp_path / "track.ogg"
    root = Path(__file__).resolve().parents[4]
    done = subprocess.run([sys.executable, "-c", _ENCODE_THE_TRACK, str(out)], cwd=root,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == "encoded"
    assert out.stat().st_size > 10_000
    assert out.read_bytes()[:4] == b"OggS"
