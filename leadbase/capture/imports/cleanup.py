"""Uploaded import files are removed once they are no longer needed.

A file is kept while its import can still use it: until the run is done (or failed) and then
LEADBASE_IMPORT_FILE_RETENTION_DAYS more days, so the dry run's problem report can still be read
again from it. An upload that was never run is removed the same number of days after it was last
touched, and its job is marked failed with a message saying to upload the file again. Queued and
running imports are never touched. The job rows, their counts and the rejected rows of a run
(stored in the database) stay.

The periodic job `capture.import_files_prune` runs this every 6 hours.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db.models import Q
from django.tasks import task
from django.utils import timezone

from leadbase.core.scheduler import periodic

from ..models import ImportJob, ImportStatus

logger = logging.getLogger(__name__)

FINISHED = (ImportStatus.DONE, ImportStatus.FAILED)
NOT_STARTED = (ImportStatus.UPLOADED, ImportStatus.ANALYSED)


def retention() -> dt.timedelta:
    return dt.timedelta(days=settings.LEADBASE_IMPORT_FILE_RETENTION_DAYS)


def abandoned_message(days: int) -> str:
    return (
        f"The file was removed after {days} days without being imported. "
        "Upload it again to import it."
    )


def import_files_prune(*, now: dt.datetime | None = None) -> int:
    """Remove the stored files of imports past their retention; returns how many were removed."""
    cutoff = (now or timezone.now()) - retention()
    due = ImportJob.objects.exclude(file="").filter(
        Q(status__in=FINISHED, finished_at__lt=cutoff)
        | Q(status__in=FINISHED, finished_at__isnull=True, updated_at__lt=cutoff)
        | Q(status__in=NOT_STARTED, updated_at__lt=cutoff)
    )
    removed = 0
    for job_id, name, status in due.values_list("pk", "file", "status").iterator():
        changes: dict[str, object] = {"file": "", "updated_at": timezone.now()}
        if status in NOT_STARTED:
            changes |= {
                "status": ImportStatus.FAILED,
                "error": abandoned_message(settings.LEADBASE_IMPORT_FILE_RETENTION_DAYS),
            }
        # Claim the row in the state it was read in: an upload started meanwhile keeps its file.
        if not ImportJob.objects.filter(pk=job_id, status=status, file=name).update(**changes):
            continue
        field = ImportJob._meta.get_field("file")
        storage = field.storage
        try:
            storage.delete(name)
        except OSError:
            logger.warning("Could not remove the import file %s of job %s", name, job_id)
        removed += 1
    if removed:
        logger.info("Removed %d import files past their retention", removed)
    return removed


@periodic("capture.import_files_prune", every=dt.timedelta(hours=6))
@task()
def import_files_prune_task() -> int:
    return import_files_prune()
