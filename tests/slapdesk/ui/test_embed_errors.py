"""Files that fail while the window listens to them are named with a sentence, not an errno."""

from __future__ import annotations

from pathlib import Path

from slapdesk.library.demo.audio_files import make_track


def test_embedding_errors_read_as_sentences(make_window, tmp_path: Path, tiny_bundle: Path) -> None:
    music = tmp_path / "music"
    music.mkdir()
    for k in range(3):
        make_track(music / f"tone{k}", "wav", freq_hz=220.0 * (k + 1), seconds=2.0,
                   sample_rate=16_000, tags={"title": f"Tone {k}"})
    window = make_window([str(music)])  # no model yet: scanned, not listened to
    broken = music / "tone1.wav"
    broken.write_bytes(b"RIFF" + bytes(range(256)) * 40)  # what a bad copy leaves behind
    window.use_model(str(tiny_bundle))
    assert window.messages.property("kind") == "error"
    assert window.messages.text == (
        f"Some tracks could not be listened to: {broken}: not a readable audio file. "
        "Type is:unreadable in the search box to list them all.")


def test_a_failed_job_is_a_sentence() -> None:
    from slapdesk.ui.jobs import describe_error

    assert describe_error(PermissionError(13, "Permission denied", "/m/a.flac")) == (
        "/m/a.flac: no permission to read the file")
    assert describe_error(OSError(28, "No space left on device", "/m")) == (
        "/m: No space left on device")
    assert describe_error(OSError(5, "Input/output error")) == "the disk could not read the file"
    assert describe_error(RuntimeError("database is locked")) == "database is locked"
    assert describe_error(ValueError("ValueError: bad header")) == "bad header"
    assert describe_error(MemoryError()) == "there was not enough memory"
    assert describe_error(KeyError()) == "an unexpected error (the details are in the log)"
