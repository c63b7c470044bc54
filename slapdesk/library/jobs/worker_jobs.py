"""The window's model jobs as its worker process runs them: embedding and the moment pass.

The window resolves which bundle is active (a cheap read of its configuration) and sends the
worker a ``ModelJob``: plain paths. The worker keeps its library connection and its loaded
model between jobs, so only the first job pays for importing torch and loading the weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from slapdesk.library.jobs.control import JobControl, JobResult

if TYPE_CHECKING:
    from slapdesk.library.jobs.active_model import ModelHolder
    from slapdesk.library.store.database import Database


@dataclass(frozen=True)
class ModelJob:
    """What the worker needs to run a model job: the library file and the bundle folder."""

    library: Path
    bundle: Path
    models_dir: Path
    runs_dir: Path

    @classmethod
    def for_holder(cls, holder: ModelHolder, library: Path, data_dir: Path) -> ModelJob:
        """The job for ``holder``'s active bundle on ``library``.

        Raises:
            ModelChoiceError: no usable model bundle is installed.
        """
        return cls(library, holder.choose().path, data_dir / "models", data_dir / "runs")


# The worker's open library and model, kept from one job to the next (worker process only).
_opened: dict[ModelJob, tuple[Database, ModelHolder]] = {}


def _open(job: ModelJob) -> tuple[Database, ModelHolder]:
    from slapdesk.library.jobs.active_model import ModelHolder
    from slapdesk.library.store.database import Database

    if job not in _opened:
        for database, _holder in _opened.values():
            database.close()
        _opened.clear()
        holder = ModelHolder(str(job.bundle), job.models_dir, job.runs_dir)
        _opened[job] = (Database(job.library), holder)
    return _opened[job]


def embed_tracks(job: ModelJob, control: JobControl) -> JobResult:
    """Embed every track that has no vector for the job's model (in the worker)."""
    from slapdesk.library.jobs.active_model import embed_new_tracks

    database, holder = _open(job)
    return embed_new_tracks(holder, database, control)


def find_moments(job: ModelJob, control: JobControl) -> JobResult:
    """Add the dense window vectors of every embedded track that lacks them (in the worker)."""
    from slapdesk.library.jobs.moments import moment_pass_job

    database, holder = _open(job)
    return moment_pass_job(holder, database, control)
