"""Background tasks of the core app, and the periodic jobs that enqueue them.

Imported by CoreConfig.ready, so the periodic registrations exist in every process.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.tasks import task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from leadbase.core.ratelimit import rate_counters_prune
from leadbase.core.scheduler import periodic

logger = logging.getLogger(__name__)

TASK_RESULTS_RETENTION = dt.timedelta(days=30)


@periodic("core.task_results_prune", every=dt.timedelta(days=1))
@task()
def task_results_prune_task() -> int:
    """Delete finished (successful or failed) task results older than TASK_RESULTS_RETENTION.

    Returns how many were deleted."""
    cutoff = timezone.now() - TASK_RESULTS_RETENTION
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    logger.info("Deleted %d task results finished before %s", deleted, cutoff)
    return deleted


@periodic("core.rate_counters_prune", every=dt.timedelta(minutes=15))
@task()
def rate_counters_prune_task() -> int:
    """Delete the rate-limit counters of windows that have ended (leadbase.core.ratelimit)."""
    deleted = rate_counters_prune()
    logger.info("Deleted %d ended rate-limit windows", deleted)
    return deleted
