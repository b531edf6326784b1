"""A real SMTP server (aiosmtpd) on a free loopback port, Django's default mailer pointed at it,
and helpers that make a processed form submission the way form processing does."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.core.files.base import ContentFile
from pytest_django import DjangoCaptureOnCommitCallbacks, Settings

from leadbase.capture.models import Form, FormPurpose, Submission, SubmissionStatus
from leadbase.capture.optin import submission_followups
from leadbase.leads.models import ConsentPurpose
from leadbase.leads.services import ConsentInput, UpsertResult, lead_upsert

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
BASE_URL = "https://leads.example.test"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage


@dataclass
class Handler:
    """Collects every message the server accepts; `refuse` makes it answer DATA with that
    reply instead (e.g. "451 4.3.0 try again later")."""

    received: list[Received] = field(default_factory=list)
    refuse: str = ""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse:
            return self.refuse
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(
            Received(
                mail_from=str(envelope.mail_from),
                rcpt_tos=list(envelope.rcpt_tos),
                raw=raw,
                message=parsed,
            )
        )
        return "250 2.0.0 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Handler, int]]:
    handler = Handler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def mailbox(smtp_server: tuple[Handler, int], settings: Settings) -> Handler:
    """The SMTP server's handler, with Django's default mailer (MAILERS) sending to it and
    tasks run at once (the immediate backend)."""
    handler, port = smtp_server
    settings.MAILERS = {
        "default": {
            "BACKEND": SMTP_BACKEND,
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    settings.TASKS = IMMEDIATE
    settings.DEFAULT_FROM_EMAIL = "Brightwave <hello@brightwave.example>"
    settings.LEADBASE_BASE_URL = BASE_URL
    settings.LEADBASE_BUSINESS_NAME = "Brightwave"
    return handler


@pytest.fixture
def make_form(db: None, settings: Settings, tmp_path: Any) -> Callable[..., Form]:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    counter = iter(range(1, 1000))

    def factory(*, content: tuple[str, bytes] | None = None, **fields: Any) -> Form:
        number = next(counter)
        fields.setdefault("name", f"Form {number}")
        fields.setdefault("slug", f"form-{number}")
        fields.setdefault("purpose", FormPurpose.NEWSLETTER)
        fields.setdefault("consent_text", "Yes, send me news.")
        fields.setdefault("consent_purpose", ConsentPurpose.MARKETING_EMAIL)
        form = Form(**fields)
        if content is not None:
            form.content_file.save(content[0], ContentFile(content[1]), save=False)
        form.save()
        return form

    return factory


Submit = Callable[..., tuple[Submission, UpsertResult]]


@pytest.fixture
def submit(
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> Submit:
    """Process a submission as form processing does (lead_upsert with the consent recorded at
    the submission's time, the form's owner for a new lead), then run submission_followups
    and what it enqueues after commit."""

    def factory(
        form: Form, *, consent: bool = True, extra: dict[str, Any] | None = None, **data: Any
    ) -> tuple[Submission, UpsertResult]:
        """`data` are lead fields; `extra` values are kept in the submission only."""
        data.setdefault("email", "ann@example.com")
        submission = Submission.objects.create(
            form=form,
            data={**data, **(extra or {})},
            email=data["email"],
            status=SubmissionStatus.RECEIVED,
        )
        consents = (
            [ConsentInput(purpose=form.consent_purpose, text_shown=form.consent_text)]
            if consent and form.consent_text
            else []
        )
        result = lead_upsert(
            data=data, source=f"form:{form.slug}", consents=consents, at=submission.created_at
        )
        if result.lead.owner_id is None and form.owner is not None:
            result.lead.owner = form.owner
            result.lead.save(update_fields=["owner"])
        submission.lead = result.lead
        submission.status = SubmissionStatus.PROCESSED
        submission.save(update_fields=["lead", "status"])
        with django_capture_on_commit_callbacks(execute=True):
            submission_followups(submission=submission, result=result)
        return submission, result

    return factory
