"""Background tasks of imports: load the job by id, call the service.

Both are safe to run again (tasks run at least once): a finished import is left as it is, and
an interrupted one resumes after its last committed chunk.
"""

from __future__ import annotations

from django.tasks import task

from . import services


@task()
def import_run_task(job_id: int) -> dict[str, int]:
    """Runs the import; returns its counts."""
    job = services.import_run(job_id=job_id)
    return {
        "processed_rows": job.processed_rows,
        "created": job.created,
        "updated": job.updated,
        "unchanged": job.unchanged,
        "duplicates": job.duplicates,
        "rejected": job.rejected,
    }


@task()
def import_dry_run_task(job_id: int) -> None:
    """The dry run of a file too large to check within the request."""
    services.import_dry_run_stored(job_id=job_id)
