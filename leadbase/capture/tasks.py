"""Background tasks of form submissions (see services_submissions): the drain that turns
RECEIVED submissions into leads, the periodic sweep behind it, and the task of one
submission that earlier versions enqueued per request (kept for rows still queued)."""

from __future__ import annotations

import datetime as dt

from django.tasks import task

from leadbase.core.scheduler import periodic

from .models import Submission
from .services_submissions import submission_process, submissions_drain

# The sweep takes submissions at least this old: younger ones are the drain's.
SWEEP_MIN_AGE = dt.timedelta(seconds=5)


@task()
def submissions_drain_task() -> int:
    """Process every RECEIVED submission; enqueued by a submission request when no drain is
    waiting already. Returns how many it took."""
    return submissions_drain()


@periodic("capture.submissions_sweep", every=dt.timedelta(seconds=30))
@task()
def submissions_sweep_task() -> int:
    """Process RECEIVED submissions that no drain took: a request's drain nudge can miss
    (on PostgreSQL, a drain that started between the request's check and its commit), and
    submissions may predate a crash of every worker."""
    return submissions_drain(min_age=SWEEP_MIN_AGE)


@task()
def submission_process_task(*, submission_id: int) -> str:
    """Process one received submission; returns its status afterwards ("missing" when it was
    deleted before the task ran)."""
    submission = Submission.objects.filter(pk=submission_id).first()
    if submission is None:
        return "missing"
    submission_process(submission=submission)
    return str(Submission.objects.values_list("status", flat=True).get(pk=submission_id))
