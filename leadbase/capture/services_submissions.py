"""Form submissions: receive (in the request), process (in a task), release (a person).

- `submission_receive` validates what a visitor sent, checks the spam signals, and stores a
  `Submission` before the visitor gets an answer (`submission_store`, one transaction):
  RECEIVED, SPAM with the reason, or DUPLICATE pointing at the submission it repeats. Invalid
  values raise ApplicationError (400) naming each field, and nothing is stored.
- A RECEIVED submission is its own queue entry: `submissions_drain` (the task
  `submissions_drain_task`, which the request enqueues when no drain is waiting, and the
  periodic sweep) takes the RECEIVED rows one by one; `submission_process` turns one into a
  lead (`lead_upsert`), consent, owner and events, once, whatever the number of workers.
- `submission_release` lets an admin or marketer process a submission held as spam (or one
  that failed).

Double submissions: the same Idempotency-Key on the same form returns the first submission
(the unique constraint on (form, idempotency_key) settles two at once); the same normalised
email on the same form within LEADBASE_FORMS_DUPLICATE_WINDOW_SECONDS is stored as DUPLICATE.
Two such posts at the same instant can both be stored RECEIVED; processing then keeps the one
with the lower id and marks the other DUPLICATE (decided under a row lock, on committed rows),
so there is still one lead and one event. See docs/capture-forms.md.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from leadbase.accounts.models import Role, User
from leadbase.core.errors import ApplicationError, PermissionDenied, ValidationFailed
from leadbase.core.ratelimit import Rate, rate_check
from leadbase.leads.events import visitor_identify
from leadbase.leads.models import Event
from leadbase.leads.normalize import normalize_lead_data
from leadbase.leads.services import ConsentInput, UpsertResult, lead_assign, lead_upsert

from . import optin
from .attribution import UTM_KEYS, channel_for, context_from
from .form_values import CONSENT_FIELD, form_values_clean, lead_data_for
from .models import Form, FormField, FormPurpose, Submission, SubmissionStatus
from .spam import HONEYPOT_FIELD, TOKEN_FIELD, email_is_disposable, fill_token_check, honeypot_check
from .submission_store import ACCEPTED, submission_store

logger = logging.getLogger(__name__)

FORM_SUBMITTED = "form_submitted"
# The event a form's purpose adds to form_submitted (newsletter, contact, contest: none).
PURPOSE_EVENTS: dict[str, str] = {
    FormPurpose.CONTENT_DOWNLOAD: "content_requested",
    FormPurpose.WEBINAR: "webinar_registered",
    FormPurpose.DEMO_REQUEST: "demo_request",
    FormPurpose.QUOTE_REQUEST: "quote_request",
    FormPurpose.TRIAL_SIGNUP: "trial_signup",
}
RELEASABLE = (SubmissionStatus.SPAM, SubmissionStatus.FAILED)
RELEASER_ROLES = frozenset({Role.ADMIN, Role.MARKETER})
IDEMPOTENCY_KEY_MAX_LENGTH = 200
RATE_MESSAGE = "Too many submissions in a short time."
USER_AGENT_MAX_LENGTH = 500


def form_source(form: Form) -> str:
    """The lead source and event source of a form's leads."""
    return f"form:{form.slug}"


@dataclass(frozen=True)
class Received:
    submission: Submission
    replayed: bool = False  # the Idempotency-Key was used before: this is that submission


def submission_receive(
    *,
    form: Form,
    values: Mapping[str, Any],
    fields: Sequence[FormField] | None = None,
    ip_address: str | None = None,
    user_agent: str = "",
    idempotency_key: str = "",
    referer: str = "",
    visitor_cookie: str = "",
    limits: Sequence[tuple[str, Rate]] = (),
    from_allowed_site: bool = False,
) -> Received:
    """Validate `values` (field name -> raw value, plus the `lb.*` names of the token,
    honeypot, consent and context) and store the submission durably.

    Raises ApplicationError (400) with an error per field; nothing is stored then. Every call
    counts one hit on each of the rate `limits` (core.ratelimit) and raises RateLimited (429)
    when one is exceeded: for a valid submission the hits are counted in the write that
    stores it (`submission_store`), so a refused submission is not stored."""
    fields = list(form.fields.all()) if fields is None else list(fields)
    clean = form_values_clean(form=form, fields=fields, raw=values)
    errors = dict(clean.errors)
    if not errors:
        errors.update(_lead_errors(fields, clean.data))
    disposable = bool(clean.email) and email_is_disposable(clean.email)
    if disposable and settings.LEADBASE_FORMS_REJECT_DISPOSABLE:
        email_field = next(f.name for f in fields if clean.data.get(f.name) == clean.email)
        errors.setdefault(
            email_field, "Use a permanent email address: this one is from a throwaway service."
        )
    if errors:
        rate_check(limits, message=RATE_MESSAGE)  # a flood of bad posts is throttled too
        raise ApplicationError(_summary(errors, fields), fields=errors)

    context: dict[str, Any] = context_from(
        values, referer_header=referer, visitor_cookie=visitor_cookie
    )
    if clean.consent:
        context["consent_text"] = form.consent_text  # the exact text shown, kept as it was
    if disposable:
        context["disposable_email"] = True
    token = values.get(TOKEN_FIELD)
    spam_reason = honeypot_check(values.get(HONEYPOT_FIELD))
    if not spam_reason and (token or not from_allowed_site):
        spam_reason = fill_token_check(token, form_id=form.pk)
    elif not token:
        # A plain HTML form pasted into one of the form's allowed sites carries no token:
        # the browser's Origin/Referer vouches for the page instead of the fill time.
        context["fill_time_checked"] = False
    submission = Submission(
        form=form,
        data=clean.data,
        context=context,
        email=clean.email,
        ip_address=ip_address,
        user_agent=user_agent[:USER_AGENT_MAX_LENGTH],
        idempotency_key=idempotency_key,
        spam_reason=spam_reason[:200],
        status=SubmissionStatus.SPAM if spam_reason else SubmissionStatus.RECEIVED,
    )
    now = time.time()
    from .tasks import submissions_drain_task  # tasks import this module

    try:
        submission_store(
            submission,
            since=(
                timezone.now() - _duplicate_window() if clean.email and not spam_reason else None
            ),
            limits=limits,
            message=RATE_MESSAGE,
            now=now,
            drain=submissions_drain_task,
        )
    except IntegrityError:
        # The same Idempotency-Key was used before (maybe by a concurrent request a moment
        # ago: the unique constraint made this insert wait for it): answer as it was answered.
        earlier = Submission.objects.filter(form=form, idempotency_key=idempotency_key).first()
        if not idempotency_key or earlier is None:
            raise
        return Received(earlier, replayed=True)
    return Received(submission)


def _lead_errors(fields: Sequence[FormField], data: Mapping[str, Any]) -> dict[str, str]:
    """What lead_upsert would refuse in the mapped values, under the field it came from, so a
    stored submission can always become a lead."""
    lead, origin = lead_data_for(fields=fields, data=data)
    try:
        normalize_lead_data(lead)
    except ValidationFailed as exc:
        errors: dict[str, str] = {}
        for key, message in exc.fields.items():
            if key in origin:
                errors[origin[key]] = f"This value cannot be used: it {message}."
            elif key == "email":  # neither an email address nor a phone number was given
                contact = [f for f in fields if f.maps_to in ("email", "phone")]
                name = contact[0].name if contact else "__all__"
                errors[name] = "Enter an email address or a phone number."
            else:
                errors["__all__"] = f"This form cannot take submissions: {key} {message}."
        return errors
    return {}


def _summary(errors: Mapping[str, str], fields: Sequence[FormField]) -> str:
    labels = {f.name: f.label for f in fields} | {CONSENT_FIELD: "Consent", "__all__": "Form"}
    parts = [f"{labels.get(name, name)}: {message}" for name, message in errors.items()]
    return "Please correct the form. " + " ".join(parts)


def _duplicate_window() -> dt.timedelta:
    return dt.timedelta(seconds=int(settings.LEADBASE_FORMS_DUPLICATE_WINDOW_SECONDS))


def submission_process(*, submission: Submission) -> UpsertResult | None:
    """Make the lead of a RECEIVED submission: lead_upsert with the mapped fields, the form's
    campaign, the UTM values and channel, and the consent with the exact text shown; assign
    the form's owner to a lead without one; record `form_submitted` and the purpose's event;
    then (after commit) `optin.submission_followups`. Returns None when there was nothing to do
    (processed already, or a duplicate). Safe to run twice and from several workers: the
    submission row is locked and its status decides.

    A submission whose data cannot make a lead is marked FAILED with the reason; an unexpected
    error also marks it FAILED and is raised again (the task records it)."""
    return _process(submission.pk)


def _process(submission_id: int) -> UpsertResult | None:
    try:
        with transaction.atomic():
            return _process_locked(submission_id)
    except ValidationFailed as exc:
        _mark_failed(submission_id, exc.message)
        return None
    except Exception as exc:
        _mark_failed(submission_id, f"{type(exc).__name__}: {exc}")
        raise


def submissions_drain(*, min_age: dt.timedelta | None = None) -> int:
    """Process the RECEIVED submissions (those received at least `min_age` ago), oldest
    first, each in its own transaction; returns how many were taken.

    The submission rows are the queue: each is claimed with a row lock (on PostgreSQL
    `FOR UPDATE SKIP LOCKED`, so drains running at once in several workers share the work
    instead of waiting for each other; SQLite has one writer at a time), and its status
    decides under that lock, so each is processed once whatever the number of drains. One
    that cannot become a lead is marked FAILED and the drain goes on. The drain walks the
    ids upwards, so it ends once it has caught up, also while submissions keep arriving."""
    after, taken = 0, 0
    while True:
        with transaction.atomic():
            waiting = Submission.objects.filter(status=SubmissionStatus.RECEIVED, pk__gt=after)
            if min_age is not None:
                waiting = waiting.filter(created_at__lte=timezone.now() - min_age)
            claimed = (
                waiting.order_by("pk")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)
                .first()
            )
            if claimed is None:
                return taken
            after, taken = claimed, taken + 1
            try:
                _process(claimed)
            except Exception:  # marked FAILED (releasable) by _process; the others go on
                logger.exception("Submission %s could not be processed", claimed)


def _process_locked(submission_id: int) -> UpsertResult | None:
    locked = (
        Submission.objects.select_for_update(of=("self",))
        .select_related("form", "form__campaign", "form__owner")
        .filter(pk=submission_id)
        .first()
    )
    if locked is None or locked.status != SubmissionStatus.RECEIVED:
        return None
    now = timezone.now()
    form = locked.form
    earlier = _earlier_accepted(locked)
    if earlier is not None:
        locked.status, locked.duplicate_of_id, locked.processed_at = (
            SubmissionStatus.DUPLICATE,
            earlier,
            now,
        )
        locked.save(update_fields=["status", "duplicate_of", "processed_at"])
        return None
    fields = list(form.fields.all())
    data, _ = lead_data_for(fields=fields, data=locked.data)
    context = locked.context or {}
    for key in UTM_KEYS:
        if context.get(key):
            data.setdefault(key, context[key])
    if context.get("landing_page"):
        data.setdefault("landing_page", context["landing_page"])
    if context.get("referrer"):
        data.setdefault("referrer_url", context["referrer"])
    data.setdefault("source_channel", form.channel or channel_for(context))
    if form.campaign is not None:
        data["campaign"] = form.campaign.name
    if context.get("disposable_email"):
        data["attributes"] = {**data.get("attributes", {}), "disposable_email": True}
    source = form_source(form)
    consents = []
    if context.get("consent_text"):
        consents.append(
            ConsentInput(
                purpose=form.consent_purpose,
                granted=True,
                text_shown=context["consent_text"],
                source=source,
                ip_address=locked.ip_address,
            )
        )
    result = lead_upsert(data=data, source=source, consents=consents, at=locked.created_at)
    lead = result.lead
    if lead.owner_id is None and form.owner is not None and form.owner.is_active:
        lead_assign(lead=lead, owner=form.owner)
    properties = {
        "form": form.slug,
        "purpose": form.purpose,
        "submission_id": locked.pk,
        "landing_page": context.get("landing_page", ""),
    }
    visitor = context.get("visitor_id") or None
    if visitor:
        properties["visitor_id"] = visitor
        # The visitor's tracked history (page views before the form) joins the lead.
        visitor_identify(visitor_id=visitor, lead=lead, at=locked.created_at)
    events = [Event(lead=lead, type=FORM_SUBMITTED, properties=properties, visitor_id=visitor)]
    if purpose_event := PURPOSE_EVENTS.get(form.purpose):
        events.append(
            Event(lead=lead, type=purpose_event, properties=properties, visitor_id=visitor)
        )
    for event in events:
        event.occurred_at, event.source = locked.created_at, source[:64]
    Event.objects.bulk_create(events)
    locked.status, locked.lead, locked.processed_at, locked.error = (
        SubmissionStatus.PROCESSED,
        lead,
        now,
        "",
    )
    locked.save(update_fields=["status", "lead", "processed_at", "error"])
    transaction.on_commit(
        lambda: optin.submission_followups(submission=locked, result=result), robust=True
    )
    return result


def _earlier_accepted(submission: Submission) -> int | None:
    """An accepted submission of the same form and email, made before this one (lower id)
    within the duplicate window: the one this submission repeats."""
    if not submission.email:
        return None
    return (
        Submission.objects.filter(
            form_id=submission.form_id,
            email=submission.email,
            status__in=ACCEPTED,
            id__lt=submission.pk,
            created_at__gte=submission.created_at - _duplicate_window(),
        )
        .order_by("id")
        .values_list("pk", flat=True)
        .first()
    )


def _mark_failed(submission_id: int, error: str) -> None:
    try:
        Submission.objects.filter(pk=submission_id, status=SubmissionStatus.RECEIVED).update(
            status=SubmissionStatus.FAILED, error=error[:2000], processed_at=timezone.now()
        )
    except Exception:
        logger.exception("Submission %s failed and could not be marked as failed", submission_id)


def submission_release(*, submission: Submission, actor: User) -> Submission:
    """Process a submission held as spam (or one whose processing failed), for an admin or
    marketer. If an accepted submission with the same email reached the same form within the
    duplicate window (before or after it), the released one becomes its DUPLICATE instead,
    so releasing never makes a second event. Returns the submission as it ends up."""
    if not (actor.is_active and (actor.role in RELEASER_ROLES or actor.is_superuser)):
        raise PermissionDenied("Only admins and marketers can release held submissions.")
    window = _duplicate_window()
    with transaction.atomic():
        locked = Submission.objects.select_for_update().filter(pk=submission.pk).first()
        if locked is None:
            raise ApplicationError("This submission no longer exists.")
        if locked.status not in RELEASABLE:
            raise ApplicationError(
                f"Only submissions held as spam or failed can be released; this one is "
                f"{locked.get_status_display().lower()}."
            )
        twin = None
        if locked.email:
            twin = (
                Submission.objects.filter(
                    Q(created_at__gte=locked.created_at - window)
                    & Q(created_at__lte=locked.created_at + window),
                    form_id=locked.form_id,
                    email=locked.email,
                    status__in=ACCEPTED,
                )
                .exclude(pk=locked.pk)
                .order_by("id")
                .values_list("pk", flat=True)
                .first()
            )
        locked.released_at, locked.released_by, locked.error = timezone.now(), actor, ""
        locked.status = SubmissionStatus.DUPLICATE if twin else SubmissionStatus.RECEIVED
        locked.duplicate_of_id = twin
        locked.save(update_fields=["status", "duplicate_of", "released_at", "released_by", "error"])
        if twin is None:
            submission_process(submission=locked)
    locked.refresh_from_db()
    return locked
