"""Torn writes: every write SlapDesk makes, cut at 4 KiB boundaries, ends old or new after recovery.

For each format (MP3 ID3v2.3 and v2.4, FLAC, Ogg Vorbis, Opus, M4A AAC with moov first and
last, M4A ALAC, WAV, AIFF), with and without a 256 KiB cover, and for a tag that fits its old
room (in place, through the rollback journal) and one that outgrows it (the verified copy):
one uninterrupted run logs every byte written; then the same write is cut at 4 KiB boundaries
of that byte stream, the folder is imaged as the cut leaves it, recovery runs on the image,
and the file must be byte for byte the old file or the new one (whose audio packets and other
fields were checked once). Journal and in-place phases are cut at most ``MOST`` times each, the
copy phases ``MOST_COPY`` times (a cut there never touches the original), plus the end of the
last write and no cut at all; ``SLAPDESK_TORN_ALL=1`` cuts at every boundary.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections import Counter
from pathlib import Path

import pytest

from slapdesk.library.tags import rollback
from slapdesk.library.tags import write as tagwrite
from slapdesk.library.tags.read import read_file

from .torn_helpers import FLAVOURS, WriteLog, crash_image, logged, make_case, sample
from .torn_helpers import top_level_atoms as atoms
from .write_helpers import all_tags

ALL = os.environ.get("SLAPDESK_TORN_ALL") == "1"
MOST = 10**9 if ALL else 5  # cut points per journal / in-place phase
MOST_COPY = 10**9 if ALL else 2  # per phase of the temp copy
FITS = {"genre": ["Blues"], "slapdesk_genre": ["Blues", "Soul"]}
GROWS = {"slapdesk_genre": [f"genre {i} " + "y" * 700 for i in range(24)]}  # ~17 KB


def _cut_points(log: WriteLog) -> list[int]:
    points: set[int] = set()
    for kind, start, end in log.phases():
        points.update(sample(start, end, MOST_COPY if kind == "copy" else MOST))
    points.add(log.total + 1)  # no cut: the write completes
    return sorted(points)


def _check_after_cut(image: Path, name: str, old: bytes, new: bytes, where: str) -> str:
    """Recover the image, then the file must be byte for byte the old file or the new one."""
    rollback.recover_folder(image)
    left = [p.name for p in image.iterdir() if rollback.is_temp_file(p.name)]
    assert left == [], f"{where}: recovery left {left}"
    data = (image / name).read_bytes()
    if data not in (old, new):
        readable = read_file(os.fsencode(image / name)).error or "readable"
        pytest.fail(f"{where}: the file is neither old nor new ({readable})")
    return "new" if data == new else "old"


def _new_file(original: Path, work: Path, values: dict, audio_md5: str) -> tuple[WriteLog, bytes]:
    """Write without a cut; check the result once: whole, same audio, only our fields new."""
    shutil.copy2(original, work)
    result, log = logged(lambda: tagwrite.write_fields(work, values))
    assert result.method == ("in-place" if values is FITS else "atomic")
    read = read_file(os.fsencode(work))
    assert (read.status, read.error) == ("ok", None)
    assert tagwrite.packet_md5(work) == audio_md5
    assert tagwrite.read_fields(work, list(values)) == values
    assert all_tags(work) != all_tags(original)
    return log, work.read_bytes()


@pytest.mark.parametrize("cover", [False, True], ids=["plain", "cover"])
@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
def test_cut_writes_end_old_or_new(tmp_path: Path, flavour: str, cover: bool) -> None:
    original = make_case(tmp_path, flavour, cover)
    if flavour.startswith("m4a-aac-moov"):
        moov_first = atoms(original).index(b"moov") < atoms(original).index(b"mdat")
        assert moov_first == flavour.endswith("first")
    old, audio_md5 = original.read_bytes(), tagwrite.packet_md5(original)
    folder, image = tmp_path / "music", tmp_path / "image"
    folder.mkdir()
    work = folder / original.name
    outcomes: Counter[str] = Counter()
    for values in (FITS, GROWS):
        log, new = _new_file(original, work, values, audio_md5)
        for budget in _cut_points(log):
            shutil.copy2(original, work)
            crash_image(budget, folder, image, lambda v=values: tagwrite.write_fields(work, v))
            where = f"{flavour} {list(values)} cut at byte {budget:,} of {log.total:,}"
            outcomes[_check_after_cut(image, work.name, old, new, where)] += 1
    assert outcomes["old"] >= 2 and outcomes["new"] == 2
    sys.stderr.write(f"torn writes {flavour} {'cover' if cover else 'plain'}: {dict(outcomes)}\n")


def test_a_cut_recovery_is_recovered_by_the_next_one(tmp_path: Path) -> None:
    original = make_case(tmp_path, "mp3-v2.4", cover=True)
    old = original.read_bytes()
    folder, image, again = tmp_path / "music", tmp_path / "image", tmp_path / "again"
    folder.mkdir()
    work = folder / original.name
    log, new = _new_file(original, work, FITS, tagwrite.packet_md5(original))
    kind, start, end = log.phases()[-1]
    assert kind == "in place" and end - start > 2 * rollback.PAGE
    shutil.copy2(original, work)
    assert crash_image((start + end) // 2, folder, image, lambda: tagwrite.write_fields(work, FITS))
    assert rollback.journal_path(image / work.name).exists()
    assert (image / work.name).read_bytes() not in (old, new)  # torn: half new, half old
    # The restore itself is cut after its first page; a second recovery finishes it.
    assert crash_image(rollback.PAGE, image, again, lambda: rollback.recover_folder(image))
    assert _check_after_cut(again, work.name, old, new, "second recovery") == "old"
    # Times come back too, so the library's stored stamp still matches the file.
    assert (again / work.name).stat().st_mtime_ns == original.stat().st_mtime_ns


def test_a_write_after_a_crash_first_undoes_the_torn_one(tmp_path: Path) -> None:
    original = make_case(tmp_path, "flac", cover=True)
    folder, image = tmp_path / "music", tmp_path / "image"
    folder.mkdir()
    work = folder / original.name
    log, _new = _new_file(original, work, FITS, tagwrite.packet_md5(original))
    shutil.copy2(original, work)
    assert crash_image(log.total - 1, folder, image, lambda: tagwrite.write_fields(work, FITS))
    torn = image / work.name
    # No recovery ran: the next write finds the journal, restores, then writes its own.
    tagwrite.write_fields(torn, {"slapdesk_mood": ["Calm"]})
    assert tagwrite.read_fields(torn, ["genre", "slapdesk_mood"]) == {
        "genre": ["Rock", "Jazz"],
        "slapdesk_mood": ["Calm"],
    }
    assert not rollback.journal_path(torn).exists()
