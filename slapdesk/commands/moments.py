"""The moment pass behind ``slapdesk embed --moments``, and how ``search --moments`` prints."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.inference import Embedder
    from slapdesk.library.jobs.moments import MomentSummary
    from slapdesk.library.models import ModelBundle
    from slapdesk.library.search.ranking import SearchResult
    from slapdesk.library.store.database import Database


def run_moment_pass(
    db: Database, bundle: ModelBundle, device: str | None, hop: float | None,
    load_model: Callable[[], Embedder] | None = None,
) -> MomentSummary:
    """Store ``hop`` for the model when given, then add window vectors to every track.

    The model is loaded (by ``load_model``, when the caller shares its loader) only when
    some track still lacks its moment windows.
    """
    from engine.bundle_info import read_bundle_info
    from slapdesk.commands.common import load_audio_embedder
    from slapdesk.commands.terminal_job import terminal_job
    from slapdesk.library.jobs import moments

    model_id = read_bundle_info(bundle.path).model_id
    if hop is not None:
        moments.set_moment_hop(db, model_id, hop)
    if not moments.pending_moment_tracks(db, model_id):
        return moments.MomentSummary()
    with terminal_job("track", "Moments") as control:
        embedder = load_model() if load_model else load_audio_embedder(bundle, device)
        return moments.run_moment_pass(db, embedder, cancel=control.cancel,
                                       progress=control.report)


def report_moments(summary: MomentSummary, *, as_json: bool) -> None:
    """One line (or a JSON object) about the moment pass."""
    if as_json:
        sys.stdout.write(json.dumps({
            "moment_tracks": summary.tracks,
            "moment_windows": summary.windows,
            "errors": [{"path": p, "error": e} for p, e in summary.errors],
            "cancelled": summary.cancelled,
        }) + "\n")
        return
    lines = [f"Moments: {summary.windows} window(s) in {summary.tracks} track(s)."]
    lines += [f"  {path}: {error}" for path, error in summary.errors]
    if summary.cancelled:
        lines.append("Stopped early; run slapdesk embed --moments again to continue.")
    sys.stdout.write("\n".join(lines) + "\n")


def moment_text(result: SearchResult) -> str:
    """``   at 1:30–1:33 (0.412), also 0:12–0:15, 2:01–2:04`` for one result, or ""."""
    if not result.moments:
        return ""
    best, *rest = result.moments
    also = ", also " + ", ".join(m.to_json()["label"] for m in rest) if rest else ""
    return f"     at {best.to_json()['label']} ({best.score:+.3f}){also}\n"
