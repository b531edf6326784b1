"""Writes for webhook sources and their deliveries.

Sources are configured by admins (they hold secrets). A delivery row is kept for every request
to a webhook URL, whatever became of it; a platform request that carries several leads keeps
one row per lead, so each lead is deduplicated by its platform id (a unique constraint on
accepted rows makes that hold under concurrent retries too) and linked to the lead it made.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from leadbase.core.errors import ValidationFailed
from leadbase.core.ratelimit import parse_rate, rate_hit
from leadbase.leads.models import Campaign, Channel, ConsentPurpose, Event, Lead
from leadbase.leads.services import ConsentInput, UpsertResult, lead_upsert

from .hook_mapping import mapping_problems
from .models import DeliveryStatus, WebhookDelivery, WebhookKind, WebhookSource

logger = logging.getLogger(__name__)

FORM_SUBMITTED = "form_submitted"
CONSENT_PURPOSE = ConsentPurpose.MARKETING_EMAIL
SNIPPET_CHARS = 2000
MIN_GENERIC_SECRET = 24
EDITABLE = (
    "name",
    "secret",
    "verify_token",
    "external_id",
    "field_mapping",
    "campaign",
    "channel",
    "consent_text",
    "is_active",
)


# --- Sources -------------------------------------------------------------------------------


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_verify_token() -> str:
    return secrets.token_urlsafe(24)


def _clean_source(kind: str, values: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    errors: dict[str, str] = {}
    if "name" in values:
        values["name"] = str(values["name"] or "").strip()
        if not values["name"] or len(values["name"]) > 200:
            errors["name"] = "is required, at most 200 characters"
    secret = str(values.get("secret") or "").strip()
    if secret or creating:
        if not secret and kind == WebhookKind.GENERIC:
            secret = new_secret()
        elif not secret:
            platform = "Facebook app" if kind == WebhookKind.FACEBOOK else "LinkedIn client"
            errors["secret"] = (
                f"is required: paste the {platform} secret from the platform's developer console"
            )
        elif len(secret) > 200:
            errors["secret"] = "is at most 200 characters"  # noqa: S105 - a message
        elif kind == WebhookKind.GENERIC and len(secret) < MIN_GENERIC_SECRET:
            errors["secret"] = (
                f"is at least {MIN_GENERIC_SECRET} characters; leave it empty to generate one"
            )
        values["secret"] = secret
    else:
        values.pop("secret", None)  # empty on an edit: keep the current secret
    if "verify_token" in values or creating:
        token = str(values.get("verify_token") or "").strip()
        if kind == WebhookKind.FACEBOOK and not token:
            token = new_verify_token()
        if len(token) > 200:
            errors["verify_token"] = "is at most 200 characters"  # noqa: S105 - a message
        values["verify_token"] = token if kind == WebhookKind.FACEBOOK else ""
    if "external_id" in values:
        values["external_id"] = str(values["external_id"] or "").strip()
        if len(values["external_id"]) > 100:
            errors["external_id"] = "is at most 100 characters"
    if "field_mapping" in values:
        if values["field_mapping"] is None:
            values["field_mapping"] = {}
        errors.update(mapping_problems(values["field_mapping"]))
    if "channel" in values and values["channel"] not in Channel.values:
        errors["channel"] = f"must be one of {', '.join(Channel.values)}"
    if "consent_text" in values:
        values["consent_text"] = str(values["consent_text"] or "").strip()
        if len(values["consent_text"]) > 5000:
            errors["consent_text"] = "is at most 5000 characters"
    if "campaign" in values and not (
        values["campaign"] is None or isinstance(values["campaign"], Campaign)
    ):
        errors["campaign"] = "is not a campaign"
    if errors:
        summary = "; ".join(f"{k} {v}" for k, v in errors.items())
        raise ValidationFailed(f"The webhook source was not saved: {summary}.", fields=errors)
    return values


def webhook_source_create(
    *,
    kind: str,
    name: str,
    secret: str = "",
    verify_token: str = "",
    external_id: str = "",
    field_mapping: Mapping[str, Any] | None = None,
    campaign: Campaign | None = None,
    channel: str = Channel.PAID_SOCIAL,
    consent_text: str = "",
    is_active: bool = True,
) -> WebhookSource:
    """A new source. An empty `secret` of a generic source (and an empty `verify_token` of a
    Facebook source) is generated; a platform source needs the platform's secret."""
    if kind not in WebhookKind.values:
        raise ValidationFailed(
            f"Unknown kind {kind!r}; choose one of {', '.join(WebhookKind.values)}.",
            fields={"kind": "unknown kind"},
        )
    values = _clean_source(
        kind,
        {
            "name": name,
            "secret": secret,
            "verify_token": verify_token,
            "external_id": external_id,
            "field_mapping": dict(field_mapping or {}),
            "campaign": campaign,
            "channel": channel,
            "consent_text": consent_text,
        },
        creating=True,
    )
    return WebhookSource.objects.create(kind=kind, is_active=is_active, **values)


def webhook_source_update(*, source: WebhookSource, changes: Mapping[str, Any]) -> WebhookSource:
    """Apply `changes` (any of EDITABLE). An empty secret keeps the current one; an empty
    verify token of a Facebook source makes a new one."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationFailed(
            f"These cannot be changed: {', '.join(unknown)}.",
            fields=dict.fromkeys(unknown, "read-only"),
        )
    values = _clean_source(source.kind, dict(changes), creating=False)
    for key, value in values.items():
        setattr(source, key, value)
    source.save()
    return source


def webhook_source_rotate_secret(*, source: WebhookSource) -> str:
    """A new generated secret for a generic source (the old one stops working at once)."""
    if source.kind != WebhookKind.GENERIC:
        raise ValidationFailed(
            "The secret of a platform source is the platform's own (app or client secret): "
            "reset it there and paste the new one here.",
            fields={"secret": "set by the platform"},
        )
    source.secret = new_secret()
    source.save(update_fields=["secret", "updated_at"])
    return source.secret


def webhook_source_delete(*, source: WebhookSource) -> None:
    """Delete the source; its deliveries stay, without it (for the record)."""
    source.delete()


# --- Deliveries ----------------------------------------------------------------------------


def snippet(body: bytes | None) -> dict[str, Any]:
    """What is kept of a body that was not accepted: its first characters, as text."""
    if not body:
        return {}
    text = body[:SNIPPET_CHARS].decode("utf-8", "replace")
    return {"unverified_body": text, "truncated": len(body) > SNIPPET_CHARS}


def delivery_record(
    *,
    kind: str,
    status: str,
    http_status: int,
    detail: str,
    source: WebhookSource | None = None,
    external_id: str = "",
    payload: Mapping[str, Any] | None = None,
    ip_address: str | None = None,
    lead: Lead | None = None,
) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        source=source,
        kind=kind,
        status=status,
        http_status=http_status,
        detail=detail[:5000],
        external_id=external_id[:200],
        payload=dict(payload or {}),
        ip_address=ip_address,
        lead=lead,
    )


def rejection_record(
    *,
    kind: str,
    http_status: int,
    detail: str,
    source: WebhookSource | None = None,
    body: bytes | None = None,
    ip_address: str | None = None,
    status: str = DeliveryStatus.REJECTED,
    now: float | None = None,
) -> WebhookDelivery | None:
    """Record a request that was refused before its content was trusted. Unsigned requests
    cost the sender nothing, so at most LEADBASE_HOOKS_REJECTED_LOG_RATE of them are kept per
    IP address (beyond that they are answered the same, but not stored)."""
    rate = parse_rate(
        str(getattr(settings, "LEADBASE_HOOKS_REJECTED_LOG_RATE", "60/60")),
        setting="LEADBASE_HOOKS_REJECTED_LOG_RATE",
    )
    key = f"hooks:rejected:{ip_address or 'unknown'}"
    if rate_hit([(key, rate)], now=now)[0].exceeded:
        return None
    return delivery_record(
        kind=kind,
        status=status,
        http_status=http_status,
        detail=detail,
        source=source,
        payload=snippet(body),
        ip_address=ip_address,
    )


def accepted_delivery(*, source: WebhookSource, external_id: str) -> WebhookDelivery | None:
    """The accepted delivery of the same platform id (facebook/linkedin: any source of the
    kind, as platform ids are global; generic: the same source)."""
    if not external_id:
        return None
    query = WebhookDelivery.objects.filter(status=DeliveryStatus.ACCEPTED, external_id=external_id)
    if source.kind == WebhookKind.GENERIC:
        query = query.filter(source=source)
    else:
        query = query.filter(kind=source.kind)
    return query.order_by("id").first()


# --- Leads ---------------------------------------------------------------------------------


def source_label(source: WebhookSource) -> str:
    return f"{source.kind}:{source.name}"


@dataclass(frozen=True)
class LeadOutcome:
    result: UpsertResult
    salvaged: tuple[str, ...]  # fields kept as attributes because their values were invalid


def _source_data(source: WebhookSource, data: Mapping[str, Any]) -> dict[str, Any]:
    full = dict(data)
    full.setdefault("source_channel", source.channel)
    if source.campaign_id is not None and source.campaign is not None:
        full.setdefault("campaign", source.campaign.name)
    return full


def lead_from_hook(
    *,
    source: WebhookSource,
    data: Mapping[str, Any],
    consent: bool,
    occurred_at: dt.datetime | None,
    properties: Mapping[str, Any],
    salvage: bool,
) -> LeadOutcome:
    """Upsert the lead (source `<kind>:<name>`, the source's channel and campaign, the
    source's consent text when `consent`) and record its `form_submitted` event.

    With `salvage` (platform leads: nobody can correct and resend them), a value that fails
    validation is kept as the attribute `invalid_<field>` and the lead saved without it, as
    long as an email or phone remains; otherwise ValidationFailed propagates."""
    label = source_label(source)
    consents = (
        [
            ConsentInput(
                purpose=CONSENT_PURPOSE,
                granted=True,
                text_shown=source.consent_text,
                source=label[:200],
            )
        ]
        if consent and source.consent_text
        else []
    )
    full = _source_data(source, data)
    salvaged: list[str] = []
    try:
        result = lead_upsert(data=full, source=label, consents=consents)
    except ValidationFailed as exc:
        movable = [f for f in exc.fields if f in full and f != "source_channel"]
        if not salvage or not movable:
            raise ValidationFailed(problem_text(exc), fields=exc.fields) from None
        attributes = full.get("attributes")
        attributes = dict(attributes) if isinstance(attributes, dict) else {}
        for name in movable:
            value = full.pop(name)
            salvaged.append(name)
            if name != "attributes":
                attributes[f"invalid_{name}"] = str(value)[:1000]
        if attributes and "attributes" not in movable:
            full["attributes"] = attributes
        try:
            result = lead_upsert(data=full, source=label, consents=consents)
        except ValidationFailed:
            # what remains is not a lead (e.g. the only contact was the invalid email): the
            # first problem is the one to report
            raise ValidationFailed(problem_text(exc), fields=exc.fields) from None
    Event.objects.create(
        lead=result.lead,
        type=FORM_SUBMITTED,
        occurred_at=occurred_at or timezone.now(),
        source=label[:64],
        properties={**properties, "source": source.name, "source_id": source.pk},
    )
    return LeadOutcome(result=result, salvaged=tuple(salvaged))


def problem_text(exc: ValidationFailed) -> str:
    """A lead's validation problems as one line: `email: is not a valid ...; phone: ...`."""
    if not exc.fields:
        return exc.message
    return "Not saved: " + "; ".join(f"{k}: {v}" for k, v in exc.fields.items())


def outcome_text(outcome: LeadOutcome) -> str:
    result = outcome.result
    text = f"lead #{result.lead.pk} {result.action}"
    if outcome.salvaged:
        text += (
            f"; invalid values kept as attributes instead of fields: {', '.join(outcome.salvaged)}"
        )
    if result.conflicts:
        text += f"; differing values kept in the lead's history: {', '.join(result.conflicts)}"
    return text


@dataclass(frozen=True)
class Applied:
    """What processing a delivery came to (see claim_and_apply)."""

    lead: Lead | None
    detail: str
    status: str = DeliveryStatus.ACCEPTED
    http_status: int = 200


def claim_and_apply(
    *,
    source: WebhookSource,
    external_id: str,
    payload: Mapping[str, Any],
    ip_address: str | None,
    apply: Callable[[], Applied],
) -> tuple[WebhookDelivery, bool]:
    """Run `apply()` and store its delivery with `external_id`, in one transaction; when an
    accepted delivery with that id was committed meanwhile (a concurrent retry: the unique
    constraint on accepted deliveries refuses the second), everything `apply()` wrote is
    rolled back and a duplicate is stored instead, pointing at the same lead. Returns the
    delivery and whether it is a duplicate. (Callers look for an earlier accepted delivery
    first, so this path is only taken by a race.)"""
    try:
        with transaction.atomic():
            applied = apply()
            delivery = delivery_record(
                kind=source.kind,
                status=applied.status,
                http_status=applied.http_status,
                detail=applied.detail,
                source=source,
                external_id=external_id,
                payload=payload,
                ip_address=ip_address,
                lead=applied.lead,
            )
        return delivery, False
    except IntegrityError:
        original = accepted_delivery(source=source, external_id=external_id)
        if original is None:
            raise
        return duplicate_record(
            source=source, original=original, payload=payload, ip_address=ip_address
        ), True


def duplicate_record(
    *,
    source: WebhookSource,
    original: WebhookDelivery,
    payload: Mapping[str, Any],
    ip_address: str | None,
    http_status: int = 200,
) -> WebhookDelivery:
    return delivery_record(
        kind=source.kind,
        status=DeliveryStatus.DUPLICATE,
        http_status=http_status,
        detail=(
            f"Already received as delivery #{original.pk} "
            f"({original.received_at:%Y-%m-%d %H:%M:%S} UTC); nothing was done twice."
        ),
        source=source,
        external_id=original.external_id,
        payload=payload,
        ip_address=ip_address,
        lead=original.lead,
    )


def consent_for(source: WebhookSource, platform_answer: bool | None) -> bool:
    """Platform lead forms cannot be sent without accepting their disclaimer, so the source's
    consent text is recorded unless the platform reports the consent boxes left unticked."""
    return bool(source.consent_text) and platform_answer is not False
