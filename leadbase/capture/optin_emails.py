"""The emails that follow a form submission: the double opt-in confirmation and the content
delivery (to the lead), and the owner notification (to a user). Built here, sent by the tasks in
tasks_optin.

Everything in them that comes from a submission is user input. Headers are built only from
`single_line` text (no CR, LF or other control characters can reach a header, so a hostile
name cannot add one) and from addresses that passed `validate_email`; the HTML part is a Django
template, so values are escaped; the plain-text part is plain text.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, mailers
from django.core.validators import validate_email
from django.template.loader import render_to_string
from django.urls import reverse

from leadbase.accounts.models import User
from leadbase.leads.merge_rules import as_text
from leadbase.leads.models import Lead

from .models import Form, Submission
from .optin_links import (
    confirm_token_make,
    download_link_max_age,
    download_token_make,
    optin_link_max_age,
)

SUBJECT_LIMIT = 150
# Owner notifications list at most this many fields, each cut to VALUE_LIMIT characters.
FIELD_LIMIT = 50
VALUE_LIMIT = 500


def single_line(value: object, *, limit: int = 100) -> str:
    """`value` as one line of text fit for an email header: every run of whitespace (CR, LF,
    tab, Unicode line separators) becomes one space, other control and format characters go,
    and the result is cut to `limit` characters (with an ellipsis)."""
    text = " ".join(str(value).split())
    text = "".join(ch for ch in text if unicodedata.category(ch) not in {"Cc", "Cf"})
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def valid_address(value: str) -> str | None:
    """`value` if it is one plain email address (no display name, nothing that could split a
    header), else None."""
    if not value or value != value.strip() or any(ch in value for ch in "\r\n\t<>,;\"'"):
        return None
    try:
        validate_email(value)
    except ValidationError:
        return None
    return value


def business_name() -> str:
    return single_line(getattr(settings, "LEADBASE_BUSINESS_NAME", "Leadbase"), limit=80)


def absolute_url(path: str) -> str:
    base = str(getattr(settings, "LEADBASE_BASE_URL", "http://localhost:8000")).rstrip("/")
    return f"{base}{path}"


def _days(delta: dt.timedelta) -> str:
    days = delta.total_seconds() / 86400
    return f"{days:g} day{'s' if days != 1 else ''}"


def _message(
    *,
    subject: str,
    to: str,
    template: str,
    context: Mapping[str, Any],
    reply_to: str | None = None,
) -> EmailMultiAlternatives:
    context = {"business": business_name(), **context}
    message = EmailMultiAlternatives(
        subject=single_line(subject, limit=SUBJECT_LIMIT),
        body=render_to_string(f"capture/email/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        reply_to=[reply_to] if reply_to else None,
    )
    message.attach_alternative(
        render_to_string(f"capture/email/{template}.html", context), "text/html"
    )
    return message


def greeting_name(submission: Submission, lead: Lead | None) -> str:
    name = lead.first_name if lead is not None else ""
    return single_line(name or submission.data.get("first_name", "") or "", limit=60)


def confirmation_message(*, submission: Submission, to: str) -> EmailMultiAlternatives:
    form = submission.form
    token = confirm_token_make(submission=submission, email=to)
    return _message(
        subject=f"Please confirm your email: {single_line(form.name, limit=80)} \N{EN DASH} "
        f"{business_name()}",
        to=to,
        template="confirm",
        context={
            "form_name": single_line(form.name, limit=200),
            "name": greeting_name(submission, submission.lead),
            "url": absolute_url(reverse("forms:confirm", args=[token])),
            "valid_for": _days(optin_link_max_age()),
            "delivers_content": delivers_content(form),
        },
    )


def delivers_content(form: Form) -> bool:
    return form.purpose == "content_download" and bool(form.content_file)


def content_title(form: Form) -> str:
    return single_line(form.name, limit=200)


def content_message(*, submission: Submission, to: str) -> EmailMultiAlternatives:
    form = submission.form
    token = download_token_make(submission=submission, email=to)
    return _message(
        subject=f"Your download: {single_line(form.name, limit=80)} \N{EN DASH} {business_name()}",
        to=to,
        template="content",
        context={
            "form_name": content_title(form),
            "name": greeting_name(submission, submission.lead),
            "url": absolute_url(reverse("forms:download", args=[token])),
            "valid_for": _days(download_link_max_age()),
        },
    )


def _field_rows(submission: Submission) -> list[tuple[str, str]]:
    data = submission.data if isinstance(submission.data, dict) else {}
    labels = {field.name: field.label for field in submission.form.fields.all()}
    rows = []
    for key, value in list(data.items())[:FIELD_LIMIT]:
        text = as_text(value)
        if len(text) > VALUE_LIMIT:
            text = text[: VALUE_LIMIT - 1] + "…"
        rows.append((single_line(labels.get(str(key), key), limit=100), text))
    return rows


def owner_message(*, submission: Submission, lead: Lead, owner: User) -> EmailMultiAlternatives:
    form = submission.form
    who = single_line(lead.full_name or lead.email or lead.phone or f"Lead {lead.pk}", limit=80)
    context = submission.context if isinstance(submission.context, dict) else {}
    utm = [
        (key, single_line(context[key], limit=200))
        for key in ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
        if context.get(key)
    ]
    return _message(
        subject=f"New submission of {single_line(form.name, limit=60)}: {who}",
        to=owner.email,
        template="owner",
        reply_to=valid_address(lead.email),
        context={
            "form_name": single_line(form.name, limit=200),
            "owner_name": single_line(owner.get_full_name() or owner.username, limit=80),
            "lead_name": who,
            "lead_email": lead.email,
            "company": single_line(lead.company.name, limit=200) if lead.company else "",
            "fields": _field_rows(submission),
            "utm": utm,
            "submitted_at": submission.created_at,
            "lead_url": absolute_url(lead.get_absolute_url()),
            "is_new": lead.created_at >= submission.created_at,
        },
    )


def mail_send(message: EmailMultiAlternatives) -> None:
    """Send through the default mailer of MAILERS; raises on failure (the task retries)."""
    mailers.default.send_messages([message])
