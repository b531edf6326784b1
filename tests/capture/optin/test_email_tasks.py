"""The email tasks: enqueued after commit, retried later on a transient SMTP failure, never
retried on a permanent one, and never able to break the form submission."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from pytest_django import Settings

from leadbase.capture.models import Form
from leadbase.capture.tasks_optin import is_transient, optin_confirmation_send_task
from leadbase.leads.models import Lead

from .conftest import IMMEDIATE, SMTP_BACKEND, Handler, Submit, free_port

pytestmark = pytest.mark.django_db
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def queued(task_name: str) -> list[DBTaskResult[Any, Any]]:
    return list(DBTaskResult.objects.filter(task_path__endswith=task_name).order_by("enqueued_at"))


def test_followups_enqueue_tasks_after_commit(
    make_form: Callable[..., Form], submit: Submit, settings: Settings
) -> None:
    settings.TASKS = DATABASE_TASKS
    submit(make_form(double_opt_in=True))
    [result] = queued("optin_confirmation_send_task")
    assert result.args_kwargs["kwargs"]["submission_id"] > 0


def test_a_transient_failure_is_retried_later(
    make_form: Callable[..., Form], submit: Submit, mailbox: Handler, settings: Settings
) -> None:
    settings.TASKS = DATABASE_TASKS
    submission, _ = submit(make_form(double_opt_in=True))
    mailbox.refuse = "451 4.3.0 Try again later"

    with pytest.raises(smtplib.SMTPDataError):
        optin_confirmation_send_task.call(submission_id=submission.pk)

    retries = [r for r in queued("optin_confirmation_send_task") if r.run_after is not None]
    retry = retries[-1]
    assert retry.args_kwargs["kwargs"] == {"submission_id": submission.pk, "attempt": 2}
    assert retry.run_after > timezone.now()

    # The retry, run when the server is back, sends the email.
    mailbox.refuse = ""
    assert optin_confirmation_send_task.call(**retry.args_kwargs["kwargs"]) == "sent"
    assert len(mailbox.received) == 1


def test_an_unreachable_server_is_retried(
    make_form: Callable[..., Form], submit: Submit, settings: Settings
) -> None:
    settings.TASKS = DATABASE_TASKS
    settings.MAILERS = {
        "default": {"BACKEND": SMTP_BACKEND, "OPTIONS": {"host": "127.0.0.1", "port": free_port()}}
    }
    submission, _ = submit(make_form(double_opt_in=True))
    before = len(queued("optin_confirmation_send_task"))

    with pytest.raises(ConnectionRefusedError):
        optin_confirmation_send_task.call(submission_id=submission.pk, attempt=3)

    assert len(queued("optin_confirmation_send_task")) == before + 1
    assert queued("optin_confirmation_send_task")[-1].args_kwargs["kwargs"]["attempt"] == 4


def test_no_retry_after_the_last_attempt_or_on_a_permanent_failure(
    make_form: Callable[..., Form], submit: Submit, mailbox: Handler, settings: Settings
) -> None:
    settings.TASKS = DATABASE_TASKS
    settings.LEADBASE_EMAIL_MAX_ATTEMPTS = 3
    submission, _ = submit(make_form(double_opt_in=True))
    before = len(queued("optin_confirmation_send_task"))

    mailbox.refuse = "451 4.3.0 Try again later"
    with pytest.raises(smtplib.SMTPDataError):
        optin_confirmation_send_task.call(submission_id=submission.pk, attempt=3)
    mailbox.refuse = "550 5.1.1 No such user"
    with pytest.raises(smtplib.SMTPDataError):
        optin_confirmation_send_task.call(submission_id=submission.pk)

    assert len(queued("optin_confirmation_send_task")) == before


def test_an_smtp_failure_never_breaks_the_submission(
    make_form: Callable[..., Form], submit: Submit, mailbox: Handler, settings: Settings
) -> None:
    settings.TASKS = IMMEDIATE
    mailbox.refuse = "451 4.3.0 Try again later"
    _, result = submit(make_form(double_opt_in=True), email="bo@example.com")
    assert Lead.objects.filter(pk=result.lead.pk, email="bo@example.com").exists()
    assert mailbox.received == []


def test_a_submission_deleted_before_the_task_runs_is_skipped(
    make_form: Callable[..., Form], submit: Submit, settings: Settings
) -> None:
    settings.TASKS = DATABASE_TASKS
    submission, _ = submit(make_form(double_opt_in=True))
    pk = submission.pk
    submission.delete()
    assert optin_confirmation_send_task.call(submission_id=pk).startswith("skipped")


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (smtplib.SMTPServerDisconnected("gone"), True),
        (smtplib.SMTPDataError(451, b"later"), True),
        (smtplib.SMTPDataError(554, b"no"), False),
        (smtplib.SMTPRecipientsRefused({"a@b.c": (450, b"busy")}), True),
        (smtplib.SMTPRecipientsRefused({"a@b.c": (550, b"unknown")}), False),
        (ConnectionRefusedError(), True),
        (TimeoutError(), True),
        (ValueError("bad header"), False),
    ],
)
def test_is_transient(error: BaseException, transient: bool) -> None:
    assert is_transient(error) is transient
