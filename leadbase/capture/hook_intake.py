"""What the webhook URLs do, apart from HTTP: each function takes an `Inbound` request and
returns an `Answer` (status, body), recording deliveries on the way.

Order of checks on a POST: size (413), then authenticity (401 missing / 403 wrong signature;
nothing of an unauthenticated request is processed, and it is kept as `rejected` with the
reason), then content type (415) and JSON (400), then the content. Platform requests answer
200 once authentic and readable, whatever each lead came to (the platforms cannot correct a
lead; each lead's outcome is kept on its delivery row), except 500 when something failed
unexpectedly, so the platform retries (what was accepted is then answered as duplicate).
"""

from __future__ import annotations

import hmac
import json
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from django.conf import settings

from leadbase.core.errors import ValidationFailed

from .hook_mapping import map_fields
from .hook_payloads import PayloadError, PlatformLead, facebook_leads, linkedin_leads
from .models import DeliveryStatus, WebhookKind, WebhookSource
from .services_hooks import (
    Applied,
    accepted_delivery,
    claim_and_apply,
    consent_for,
    delivery_record,
    duplicate_record,
    lead_from_hook,
    outcome_text,
    rejection_record,
)
from .signatures import (
    facebook_signature_valid,
    linkedin_challenge_response,
    linkedin_signature_valid,
)

logger = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 1_048_576
MAX_CHALLENGE_CHARS = 512
JSON_TYPES = ("application/json",)


@dataclass(frozen=True)
class Inbound:
    """A request to a webhook URL: the raw body (None when it was too large to read),
    headers (case-insensitive, as Django's request.headers), its client address, and the
    Content-Length it announced."""

    body: bytes | None
    headers: Mapping[str, str]
    ip_address: str | None
    length: int = 0
    now: float = field(default_factory=time.time)

    @property
    def media_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # JSON-serialisable, or str for text/plain
    content_type: str = "application/json"


def max_body_bytes() -> int:
    return int(getattr(settings, "LEADBASE_HOOKS_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))


def error(status: int, detail: str) -> Answer:
    return Answer(status, {"detail": detail, "errors": {}})


def too_large(inbound: Inbound) -> bool:
    limit = max_body_bytes()
    return inbound.body is None or inbound.length > limit or len(inbound.body) > limit


def too_large_detail() -> str:
    return (
        f"The body is larger than the limit of {max_body_bytes():,} bytes "
        "(LEADBASE_HOOKS_MAX_BODY_BYTES). Send fewer leads per request."
    )


class BadBody(ValueError):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def parse_json(inbound: Inbound) -> Any:
    """The body as JSON, or BadBody(415/400) saying what to fix."""
    if inbound.media_type not in JSON_TYPES:
        shown = inbound.media_type or "none"
        raise BadBody(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            f"The body must be JSON sent with Content-Type: application/json (got {shown[:80]}).",
        )
    try:
        text = (inbound.body or b"").decode("utf-8")
        return json.loads(text, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise BadBody(HTTPStatus.BAD_REQUEST, "The body is not UTF-8 text.") from None
    except json.JSONDecodeError as exc:
        raise BadBody(
            HTTPStatus.BAD_REQUEST,
            f"The body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
        ) from None
    except (ValueError, RecursionError) as exc:
        raise BadBody(HTTPStatus.BAD_REQUEST, f"The body is not valid JSON: {exc}.") from None


# --- Facebook ------------------------------------------------------------------------------


def facebook_verify(params: Mapping[str, str]) -> Answer:
    """The subscription handshake: echo `hub.challenge` when `hub.verify_token` is the verify
    token of an active Facebook source (compared in constant time)."""
    mode, token = params.get("hub.mode", ""), params.get("hub.verify_token", "")
    challenge = params.get("hub.challenge", "")
    if mode != "subscribe" or not challenge or len(challenge) > MAX_CHALLENGE_CHARS:
        return Answer(
            HTTPStatus.BAD_REQUEST,
            "This URL takes Facebook's verification request: hub.mode=subscribe, "
            "hub.verify_token and hub.challenge (at most 512 characters).",
            "text/plain",
        )
    tokens = WebhookSource.objects.filter(kind=WebhookKind.FACEBOOK, is_active=True).values_list(
        "verify_token", flat=True
    )
    matched = False
    for candidate in tokens:
        if candidate and hmac.compare_digest(candidate.encode(), token.encode()):
            matched = True
    if not matched:
        return Answer(
            HTTPStatus.FORBIDDEN,
            "The verify token matches no active Facebook source in Leadbase. Copy the verify "
            "token from the source's page in Leadbase (Capture > Webhooks).",
            "text/plain",
        )
    return Answer(HTTPStatus.OK, challenge, "text/plain")


def _pick_source(sources: list[WebhookSource], item: PlatformLead) -> WebhookSource | None:
    """The source of a lead among those whose secret verified the request: one configured
    for its page/form/account id, else one with no id (a catch-all)."""
    for source in sources:
        if source.external_id and source.external_id in item.match_ids:
            return source
    return next((s for s in sources if not s.external_id), None)


def _verified_sources(kind: str, body: bytes, header: str) -> list[WebhookSource]:
    sources = list(
        WebhookSource.objects.filter(kind=kind, is_active=True).select_related("campaign")
    )
    check = facebook_signature_valid if kind == WebhookKind.FACEBOOK else linkedin_signature_valid
    return [s for s in sources if check(secret=s.secret, body=body, header=header)]


def platform_receive(kind: str, inbound: Inbound) -> Answer:
    """A POST of Facebook Lead Ads (`kind` facebook) or LinkedIn Lead Gen (`kind` linkedin)."""
    header_name = "X-Hub-Signature-256" if kind == WebhookKind.FACEBOOK else "X-LI-Signature"
    platform = "Facebook" if kind == WebhookKind.FACEBOOK else "LinkedIn"
    secret_name = "app secret" if kind == WebhookKind.FACEBOOK else "client secret"
    ip = inbound.ip_address
    if too_large(inbound):
        detail = too_large_detail()
        rejection_record(
            kind=kind, http_status=413, detail=detail, ip_address=ip,
            status=DeliveryStatus.INVALID, now=inbound.now,
        )  # fmt: skip
        return error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, detail)
    body = inbound.body or b""
    header = inbound.headers.get(header_name, "")
    if not header.strip():
        detail = f"The {header_name} header is missing: only signed {platform} requests are taken."
        rejection_record(
            kind=kind, http_status=401, detail=detail, body=body, ip_address=ip, now=inbound.now
        )
        return error(HTTPStatus.UNAUTHORIZED, detail)
    sources = _verified_sources(kind, body, header)
    if not sources:
        detail = (
            f"The {header_name} signature matches the {secret_name} of no active {platform} "
            f"source (computed over the raw body). Check the {secret_name} in Leadbase."
        )
        rejection_record(
            kind=kind, http_status=403, detail=detail, body=body, ip_address=ip, now=inbound.now
        )
        return error(HTTPStatus.FORBIDDEN, detail)
    try:
        parsed = parse_json(inbound)
        if kind == WebhookKind.FACEBOOK:
            items, notes = facebook_leads(parsed)
        else:
            items, notes = linkedin_leads(parsed), []
    except BadBody as exc:
        _invalid(kind, sources[0], exc.status, exc.detail, body, ip)
        return error(exc.status, exc.detail)
    except PayloadError as exc:
        _invalid(kind, sources[0], exc.status, str(exc), body, ip)
        return error(exc.status, str(exc))
    if not items:
        detail = "No lead in this notification" + (f": {'; '.join(notes)}." if notes else ".")
        delivery_record(
            kind=kind, status=DeliveryStatus.INVALID, http_status=200, detail=detail,
            source=sources[0], payload=parsed if isinstance(parsed, dict) else {}, ip_address=ip,
        )  # fmt: skip
        return Answer(HTTPStatus.OK, {"received": 0, "results": [], "notes": notes})
    results = [_platform_item(kind, sources, item, ip) for item in items]
    failed = any(r["status"] == DeliveryStatus.FAILED and r.get("retry") for r in results)
    for r in results:
        r.pop("retry", None)
    status = HTTPStatus.INTERNAL_SERVER_ERROR if failed else HTTPStatus.OK
    return Answer(status, {"received": len(items), "results": results, "notes": notes})


def _invalid(
    kind: str, source: WebhookSource, status: int, detail: str, body: bytes, ip: str | None
) -> None:
    payload = {"body": body[:2000].decode("utf-8", "replace"), "truncated": len(body) > 2000}
    delivery_record(
        kind=kind, status=DeliveryStatus.INVALID, http_status=status, detail=detail,
        source=source, payload=payload, ip_address=ip,
    )  # fmt: skip


def _platform_item(
    kind: str, sources: list[WebhookSource], item: PlatformLead, ip: str | None
) -> dict[str, Any]:
    """Process one lead of a platform request; returns its outcome for the answer."""
    summary: dict[str, Any] = {"index": item.index, "id": item.external_id}

    def store(status: str, detail: str, source: WebhookSource | None) -> dict[str, Any]:
        delivery = delivery_record(
            kind=kind, status=status, http_status=200, detail=detail, source=source,
            external_id=item.external_id, payload=item.payload, ip_address=ip,
        )  # fmt: skip
        return {**summary, "status": status, "detail": detail, "delivery": delivery.pk}

    source = _pick_source(sources, item)
    if item.problem:
        return store(DeliveryStatus.INVALID, item.problem, source)
    if source is None:
        ids = ", ".join(sorted(item.match_ids)) or "none given"
        configured = ", ".join(sorted({s.external_id for s in sources})) or "none"
        return store(
            DeliveryStatus.REJECTED,
            f"No active source takes this lead: its page/form/account ids ({ids}) match no "
            f"source's external id (configured: {configured}), and no source has an empty "
            "external id to take every lead.",
            None,
        )
    original = accepted_delivery(source=source, external_id=item.external_id)
    if original is not None:
        dup = duplicate_record(
            source=source, original=original, payload=item.payload, ip_address=ip
        )
        return {**summary, "status": dup.status, "detail": dup.detail, "delivery": dup.pk}
    if item.ignored:
        notice = item.ignored
        delivery, _ = claim_and_apply(
            source=source,
            external_id=item.external_id,
            payload=item.payload,
            ip_address=ip,
            apply=lambda: Applied(lead=None, detail=notice),
        )
        return {**summary, "status": delivery.status, "detail": delivery.detail,
                "delivery": delivery.pk}  # fmt: skip
    if item.fields is None:
        api = "Graph API" if kind == WebhookKind.FACEBOOK else "leadFormResponses API"
        return store(
            DeliveryStatus.FAILED,
            f"The notification carries only the lead's id, not its answers; Leadbase does not "
            f"fetch them from the {api} (see docs/capture-webhooks.md). The id is kept here.",
            source,
        )
    return _apply_platform_lead(kind, source, item, ip, summary)


def _apply_platform_lead(
    kind: str, source: WebhookSource, item: PlatformLead, ip: str | None, summary: dict[str, Any]
) -> dict[str, Any]:
    fields = item.fields or ()

    def apply() -> Applied:
        outcome = lead_from_hook(
            source=source,
            data=map_fields(kind, source.field_mapping or {}, fields),
            consent=consent_for(source, item.consent),
            occurred_at=item.occurred_at,
            properties=item.properties,
            salvage=True,
        )
        return Applied(lead=outcome.result.lead, detail=outcome_text(outcome))

    try:
        delivery, _ = claim_and_apply(
            source=source,
            external_id=item.external_id,
            payload=item.payload,
            ip_address=ip,
            apply=apply,
        )
    except Exception as exc:  # one lead's failure must not lose the others
        if isinstance(exc, ValidationFailed):
            status, detail, retry = DeliveryStatus.INVALID, exc.message, False
        else:
            logger.exception("webhook %s lead %s failed", kind, item.external_id)
            status, retry = DeliveryStatus.FAILED, True
            detail = f"Processing failed unexpectedly ({type(exc).__name__}); it was logged."
        delivery = delivery_record(
            kind=kind, status=status, http_status=500 if retry else 200, detail=detail,
            source=source, external_id=item.external_id, payload=item.payload, ip_address=ip,
        )  # fmt: skip
        return {**summary, "status": status, "detail": detail, "delivery": delivery.pk,
                "retry": retry}  # fmt: skip
    return {**summary, "status": delivery.status, "detail": delivery.detail,
            "delivery": delivery.pk}  # fmt: skip


# --- LinkedIn ------------------------------------------------------------------------------


def linkedin_validate(params: Mapping[str, str]) -> Answer:
    """LinkedIn's endpoint validation: answer the challengeCode with its HMAC keyed with the
    client secret of the active LinkedIn sources (they share one LinkedIn app)."""
    code = params.get("challengeCode", "")
    if not code or len(code) > MAX_CHALLENGE_CHARS:
        return error(
            HTTPStatus.BAD_REQUEST,
            "This URL takes LinkedIn's validation request (?challengeCode=...) and signed "
            "lead notifications (POST).",
        )
    source = (
        WebhookSource.objects.filter(kind=WebhookKind.LINKEDIN, is_active=True)
        .order_by("id")
        .first()
    )
    if source is None:
        return error(
            HTTPStatus.FORBIDDEN,
            "No active LinkedIn source is configured in Leadbase, so there is no client "
            "secret to answer the challenge with.",
        )
    return Answer(
        HTTPStatus.OK,
        {
            "challengeCode": code,
            "challengeResponse": linkedin_challenge_response(source.secret, code),
        },
    )


# --- Generic -------------------------------------------------------------------------------


def generic_source(public_id: str) -> WebhookSource | None:
    try:
        key = uuid.UUID(public_id)
    except ValueError:
        return None
    return (
        WebhookSource.objects.filter(public_id=key, kind=WebhookKind.GENERIC)
        .select_related("campaign")
        .first()
    )
