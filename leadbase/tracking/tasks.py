"""Periodic jobs of the tracking app."""

from __future__ import annotations

import datetime as dt
import logging

from django.tasks import task
from django.utils import timezone

from leadbase.core.scheduler import periodic
from leadbase.leads.events import anonymous_events_prune

from .services import anonymous_retention

logger = logging.getLogger(__name__)


@periodic("tracking.anonymous_events_prune", every=dt.timedelta(hours=6))
@task()
def anonymous_events_prune_task() -> int:
    """Delete events of visitors who never identified, after LEADBASE_TRACKING_ANONYMOUS_DAYS."""
    deleted = anonymous_events_prune(before=timezone.now() - anonymous_retention())
    logger.info("Deleted %d events of visitors who never identified", deleted)
    return deleted
