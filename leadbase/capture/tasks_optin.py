"""Email tasks after a form submission: each loads the submission by id, builds its message
(optin_emails) and sends it through the default mailer.

A transient failure (the SMTP server unreachable, a 4xx answer, a dropped connection) enqueues
the same task again with `attempt + 1`, to run after a back-off of 1, 4, 16, 64 minutes, up to
LEADBASE_EMAIL_MAX_ATTEMPTS (default 5) attempts, then raises so the failed attempt is recorded
with its error. A permanent failure (a 5xx answer, an invalid address) is not retried. With a
task backend that cannot defer (the immediate backend of tests), nothing is retried.
Tasks run at least once (docs/tasks.md): a crash after sending can send the email twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.tasks import Task, task
from django.utils import timezone

from leadbase.accounts.models import User
from leadbase.leads.selectors import lead_visible_to

from .models import Submission
from .optin_emails import (
    confirmation_message,
    content_message,
    delivers_content,
    mail_send,
    owner_message,
    valid_address,
)

logger = logging.getLogger(__name__)

BACKOFF = dt.timedelta(minutes=1)


def is_transient(error: BaseException) -> bool:
    """Whether sending again later may succeed."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return any(400 <= code < 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500 or error.smtp_code < 0
    return isinstance(error, (smtplib.SMTPException, OSError))


def _send(message: EmailMultiAlternatives, *, retry: Task[Any, Any], **kwargs: Any) -> str:
    attempt = int(kwargs.pop("attempt", 1))
    try:
        mail_send(message)
    except Exception as error:
        max_attempts = int(getattr(settings, "LEADBASE_EMAIL_MAX_ATTEMPTS", 5))
        if is_transient(error) and attempt < max_attempts and retry.get_backend().supports_defer:
            run_after = timezone.now() + BACKOFF * 4 ** (attempt - 1)
            retry.using(run_after=run_after).enqueue(**kwargs, attempt=attempt + 1)
            logger.warning(
                "%s failed (attempt %d of %d), retrying after %s: %s",
                retry.name, attempt, max_attempts, run_after.isoformat(), error,
            )  # fmt: skip
        else:
            logger.error("%s failed for good (attempt %d): %s", retry.name, attempt, error)
        raise
    return "sent"


def _submission(submission_id: int) -> Submission | None:
    return (
        Submission.objects.select_related("form", "lead", "lead__company")
        .filter(pk=submission_id)
        .first()
    )


def _lead_address(submission: Submission) -> str | None:
    lead_email = submission.lead.email if submission.lead is not None else ""
    return valid_address(submission.email or lead_email)


@task()
def optin_confirmation_send_task(*, submission_id: int, attempt: int = 1) -> str:
    """Email the double opt-in confirmation link to the address the submission gave."""
    submission = _submission(submission_id)
    if submission is None:
        return "skipped: the submission no longer exists"
    to = _lead_address(submission)
    if to is None:
        return "skipped: no valid email address"
    message = confirmation_message(submission=submission, to=to)
    return _send(
        message, retry=optin_confirmation_send_task, submission_id=submission_id, attempt=attempt
    )


@task()
def content_delivery_send_task(*, submission_id: int, attempt: int = 1) -> str:
    """Email the content download link of the submission's form."""
    submission = _submission(submission_id)
    if submission is None:
        return "skipped: the submission no longer exists"
    if not delivers_content(submission.form):
        return "skipped: the form has no content file"
    to = _lead_address(submission)
    if to is None:
        return "skipped: no valid email address"
    message = content_message(submission=submission, to=to)
    return _send(
        message, retry=content_delivery_send_task, submission_id=submission_id, attempt=attempt
    )


@task()
def owner_notification_send_task(*, submission_id: int, user_id: int, attempt: int = 1) -> str:
    """Email user `user_id` a summary of the submission with a link to the lead page, if they
    are still active and may still see the lead."""
    submission = _submission(submission_id)
    if submission is None or submission.lead is None:
        return "skipped: the submission or its lead no longer exists"
    owner = User.objects.filter(pk=user_id, is_active=True).first()
    if owner is None or valid_address(owner.email) is None:
        return "skipped: the user is inactive or has no valid email address"
    if not lead_visible_to(owner).filter(pk=submission.lead.pk).exists():
        return "skipped: the user may not see this lead"
    message = owner_message(submission=submission, lead=submission.lead, owner=owner)
    return _send(
        message,
        retry=owner_notification_send_task,
        submission_id=submission_id,
        user_id=user_id,
        attempt=attempt,
    )
