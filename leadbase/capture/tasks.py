"""Background tasks of form submissions (enqueued by services_submissions): each loads the
submission by id and calls the service."""

from __future__ import annotations

from django.tasks import task

from .models import Submission
from .services_submissions import submission_process


@task()
def submission_process_task(*, submission_id: int) -> str:
    """Process one received submission; returns its status afterwards ("missing" when it was
    deleted before the task ran)."""
    submission = Submission.objects.filter(pk=submission_id).first()
    if submission is None:
        return "missing"
    submission_process(submission=submission)
    return str(Submission.objects.values_list("status", flat=True).get(pk=submission_id))
