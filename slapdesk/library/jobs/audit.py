"""The window's tag audit job: audit one field with the active model on a read-only connection."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from slapdesk.library.autotag.audit import AuditRow, Method, audit_library
from slapdesk.library.store.database import open_readonly

if TYPE_CHECKING:
    from slapdesk.library.jobs.active_model import ModelHolder
    from slapdesk.library.jobs.control import JobControl


def run_audit(holder: ModelHolder, library_path: Path, field: str, method: Method,
              _control: JobControl) -> tuple[str, list[AuditRow]]:
    """(model id, rows most suspect first) for one field (model worker: it embeds the values)."""
    embedder = holder.get()
    conn = open_readonly(library_path)
    try:
        rows = audit_library(conn, embedder.model_id, embedder.embed_text, field=field,
                             method=method)
    finally:
        conn.close()
    return embedder.model_id, rows
