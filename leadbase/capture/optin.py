"""Double opt-in, content delivery and owner notification after a form submission.

`submission_followups` runs once per processed submission, after its transaction committed, and
enqueues the emails its form asks for (tasks_optin). `optin_confirm` is what the confirmation
link does; `content_download_record` records a download. See docs/capture-optin.md.

Pending confirmation is recorded as a `consent_confirmation_requested` event for the consent's
purpose: `leads.selectors.lead_emailable_filter` treats a granted consent with such an event at
or after it, and no `confirmed_at`, as not (yet) given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from leadbase.accounts.models import User
from leadbase.leads.events import EventIn, events_record
from leadbase.leads.models import Consent, ConsentStatus, Event, Lead
from leadbase.leads.selectors import CONSENT_CONFIRMATION_REQUESTED, lead_visible_to
from leadbase.leads.services import UpsertResult

from .models import Form, Submission
from .optin_emails import delivers_content, valid_address
from .optin_links import ConfirmLink, DownloadLink, LinkInvalid
from .tasks_optin import (
    content_delivery_send_task,
    optin_confirmation_send_task,
    owner_notification_send_task,
)

CONSENT_CONFIRMED = "consent_confirmed"
CONTENT_DOWNLOAD = "content_download"


def _event(lead: Lead, kind: str, at: dt.datetime, source: str, properties: dict[str, Any]) -> None:
    """One event of the lead, through leads.events (activity time, the leads-changed hook)."""
    events_record(
        [EventIn(type=kind, occurred_at=at, properties=properties, source=source, lead_id=lead.pk)]
    )


def event_source(form: Form) -> str:
    return f"form:{form.slug}"[:64]


def _after_commit(send: Callable[[], object]) -> None:
    transaction.on_commit(send, robust=True)


def submission_followups(*, submission: Submission, result: UpsertResult) -> None:
    """Called once per processed (non-duplicate, non-spam) submission, after its transaction
    committed: enqueues the confirmation email (double opt-in), the content delivery email
    and the owner notification that the submission's form asks for."""
    form = submission.form
    lead = result.lead
    address = valid_address(submission.email or lead.email)
    submission_id = submission.pk
    with transaction.atomic():
        awaiting_confirmation = False
        if form.double_opt_in and address:
            awaiting_confirmation = _confirmation_request(submission=submission, lead=lead)
        if awaiting_confirmation:
            _after_commit(lambda: optin_confirmation_send_task.enqueue(submission_id=submission_id))
        elif delivers_content(form) and address:
            _after_commit(lambda: content_delivery_send_task.enqueue(submission_id=submission_id))
        if form.notify_owner:
            recipient = notification_recipient(form=form, lead=lead)
            if recipient is not None:
                user_id = recipient.pk
                _after_commit(
                    lambda: owner_notification_send_task.enqueue(
                        submission_id=submission_id, user_id=user_id
                    )
                )


def _confirmation_request(*, submission: Submission, lead: Lead) -> bool:
    """Whether the lead must confirm the consent this submission granted; if so, records the
    pending confirmation. A lead who already confirmed this purpose (and has not withdrawn
    since) is not asked again: the new consent is marked confirmed at once."""
    form = submission.form
    purpose = form.consent_purpose
    pending = Consent.objects.filter(
        lead=lead,
        purpose=purpose,
        status=ConsentStatus.GRANTED,
        confirmed_at__isnull=True,
        recorded_at__gte=submission.created_at,
    )
    if not pending.exists():
        return False  # the submission granted no consent for the purpose
    now = timezone.now()
    confirmed_before = Consent.objects.filter(
        lead=lead, purpose=purpose, status=ConsentStatus.GRANTED, confirmed_at__isnull=False
    )
    last_withdrawal = (
        Consent.objects.filter(lead=lead, purpose=purpose, status=ConsentStatus.WITHDRAWN)
        .order_by("-recorded_at")
        .values_list("recorded_at", flat=True)
        .first()
    )
    if last_withdrawal is not None:
        confirmed_before = confirmed_before.filter(recorded_at__gt=last_withdrawal)
    if confirmed_before.exists():
        pending.update(confirmed_at=now)
        return False
    _event(
        lead,
        CONSENT_CONFIRMATION_REQUESTED,
        now,
        event_source(form),
        {"purpose": purpose, "form": form.slug, "submission_id": submission.pk},
    )
    return True


def notification_recipient(*, form: Form, lead: Lead) -> User | None:
    """Who hears of a submission: the lead's owner, else the form's owner; only an active user
    with an email address who may see the lead (a sales rep is never told of another rep's
    lead)."""
    for candidate in (lead.owner, form.owner):
        if candidate is None or not candidate.is_active or not valid_address(candidate.email):
            continue
        if lead_visible_to(candidate).filter(pk=lead.pk).exists():
            return candidate
    return None


def _lead_for(submission: Submission, email: str) -> Lead | None:
    """The lead a link was sent for: the one with the address it went to (it survives a merge,
    which re-points nothing in capture), else the submission's lead."""
    lead = Lead.objects.exclude(email="").filter(email=email).first() if email else None
    if lead is None and submission.lead_id is not None:
        lead = Lead.objects.filter(pk=submission.lead_id).first()
    return lead


@dataclass(frozen=True)
class ConfirmResult:
    form: Form
    submission: Submission
    lead: Lead
    newly_confirmed: int

    @property
    def first_time(self) -> bool:
        return self.newly_confirmed > 0


def optin_confirm(*, link: ConfirmLink, at: dt.datetime | None = None) -> ConfirmResult:
    """Confirm the consents a confirmation link was sent for: the lead's granted, unconfirmed
    consent rows of the form's purpose recorded up to when the link was issued get
    `confirmed_at`, a `consent_confirmed` event is recorded and, for a content download form,
    the download email is enqueued. Confirming again changes nothing. Raises LinkInvalid("gone")
    when the submission or the lead no longer exists."""
    submission = Submission.objects.select_related("form").filter(pk=link.submission_id).first()
    if submission is None:
        raise LinkInvalid("gone")
    lead = _lead_for(submission, link.email)
    if lead is None:
        raise LinkInvalid("gone")
    form = submission.form
    now = at or timezone.now()
    with transaction.atomic():
        # One confirmation at a time per lead, so a double click records one event.
        Lead.objects.select_for_update().filter(pk=lead.pk).order_by().first()
        newly_confirmed = Consent.objects.filter(
            lead=lead,
            purpose=form.consent_purpose,
            status=ConsentStatus.GRANTED,
            confirmed_at__isnull=True,
            recorded_at__lte=link.issued_at,
        ).update(confirmed_at=now)
        if newly_confirmed:
            _event(
                lead,
                CONSENT_CONFIRMED,
                now,
                event_source(form),
                {
                    "purpose": form.consent_purpose,
                    "form": form.slug,
                    "submission_id": submission.pk,
                },
            )
            if delivers_content(form) and valid_address(link.email):
                submission_id = submission.pk
                _after_commit(
                    lambda: content_delivery_send_task.enqueue(submission_id=submission_id)
                )
    return ConfirmResult(
        form=form, submission=submission, lead=lead, newly_confirmed=newly_confirmed
    )


def content_download_get(*, link: DownloadLink) -> tuple[Submission, Lead | None]:
    """The submission a download link was sent for, and its lead; LinkInvalid("gone") when
    the submission or its form's content file no longer exists."""
    submission = Submission.objects.select_related("form").filter(pk=link.submission_id).first()
    if submission is None or not delivers_content(submission.form):
        raise LinkInvalid("gone")
    return submission, _lead_for(submission, link.email)


def content_download_record(
    *, link: DownloadLink, submission: Submission, lead: Lead, file_name: str
) -> bool:
    """Record a `content_download` event the first time a download link is used (not on
    every use: a re-download or a mail scanner opening the link again is not new interest).
    Returns whether an event was recorded."""
    with transaction.atomic():
        Lead.objects.select_for_update().filter(pk=lead.pk).order_by().first()
        seen = Event.objects.filter(
            lead=lead, type=CONTENT_DOWNLOAD, properties__link_id=link.link_id
        ).exists()
        if seen:
            return False
        _event(
            lead,
            CONTENT_DOWNLOAD,
            timezone.now(),
            event_source(submission.form),
            {
                "file": file_name,
                "form": submission.form.slug,
                "submission_id": submission.pk,
                "link_id": link.link_id,
            },
        )
    return True
