"""What FFmpeg sees in a file: its audio packets' checksum and the tags it reports.

The writer compares the packet checksum before and after a copy is tagged: it does not change
when only the tags change, and it changes when any audio byte does.
"""

from __future__ import annotations

import hashlib
import os

import av

from slapdesk.library.tags.write_result import TagWriteError


def packet_md5(path: str | os.PathLike[str]) -> str:
    """MD5 over the bytes of every audio packet, as FFmpeg demuxes them (no decoding).

    It does not change when only the tags change, and it changes when any audio byte does.

    Raises:
        TagWriteError: when FFmpeg cannot read the file.
    """
    digest = hashlib.md5()
    try:
        with av.open(os.fsdecode(path)) as container:
            stream = container.streams.audio[0]
            for packet in container.demux(stream):
                if packet.size:
                    digest.update(bytes(packet))
    except Exception as exc:
        raise TagWriteError(path, f"FFmpeg cannot read the audio ({exc})") from exc
    return digest.hexdigest()


def ffmpeg_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """Tags as FFmpeg (PyAV) reports them: container and first audio stream, keys upper-cased."""
    with av.open(os.fsdecode(path)) as container:
        merged = dict(container.metadata)
        if container.streams.audio:
            merged.update(container.streams.audio[0].metadata)
    return {k.upper(): v for k, v in merged.items()}
