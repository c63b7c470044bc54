"""Tag-write cost: the in-place path (rollback journal) against the verified copy, per MB.

Both paths are all-or-nothing after a crash (tests/slapdesk/library/tags/test_torn_writes.py);
this measures what each costs on files of growing size, so the choice between them rests on
numbers: the copy path copies, fsyncs and checks the audio packets of the whole file, the
in-place path journals and fsyncs only the 4 KiB pages of the tag that change.

Usage: python tests/bench/bench_tag_write.py [--sizes 1 8 32] [--repeat 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from slapdesk.library.demo.audio_files import make_track, sine  # noqa: E402
from slapdesk.library.tags import write as tagwrite  # noqa: E402
from tests.conftest import KNOWN_TAGS  # noqa: E402

# Seconds of audio per MB of file, by format (mono test tones).
SECONDS_PER_MB = {"wav": 1e6 / 88_200, "flac": 1e6 / 9_000, "mp3": 1e6 / 16_000}


def _time_writes(source: Path, work: Path, repeat: int, force_atomic: bool) -> tuple[float, str]:
    times, method = [], ""
    for i in range(repeat):
        shutil.copy2(source, work)
        values = {"slapdesk_genre": [f"Blues {i}"], "genre": ["Soul"]}
        started = time.perf_counter()
        method = tagwrite.write_fields(work, values, force_atomic=force_atomic).method
        times.append(time.perf_counter() - started)
    return statistics.median(times), method


def main(argv: list[str] | None = None) -> None:
    """Print the median write time per path, format and size, and the cost per MB."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 8, 32])
    parser.add_argument("--formats", nargs="+", default=["mp3", "flac", "wav"])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="slapdesk-bench-write-"))
    print("format  MB  in-place ms  copy ms  copy ms/MB")
    try:
        for fmt in args.formats:
            for megabytes in args.sizes:
                seconds = megabytes * SECONDS_PER_MB[fmt]
                source = make_track(
                    folder / f"{fmt}{megabytes}", fmt, samples=sine(220.0, seconds), tags=KNOWN_TAGS
                )
                size_mb = source.stat().st_size / 1e6
                work = folder / f"work{source.suffix}"
                fast, method = _time_writes(source, work, args.repeat, False)
                assert method == "in-place", method
                slow, method = _time_writes(source, work, args.repeat, True)
                assert method == "atomic", method
                print(
                    f"{fmt:6} {size_mb:4.1f}  {fast * 1e3:10.1f}  {slow * 1e3:7.1f}  "
                    f"{slow * 1e3 / size_mb:9.1f}"
                )
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
