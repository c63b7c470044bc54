"""Names of the journal's row helpers kept for callers of the first split (see journal_store)."""

from slapdesk.library.tags.journal_store import FileJob as _FileJob
from slapdesk.library.tags.journal_store import journal_job as _journal
from slapdesk.library.tags.journal_store import new_run as _new_run

__all__ = ["_FileJob", "_journal", "_new_run"]
