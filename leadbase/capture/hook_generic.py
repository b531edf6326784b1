"""The generic JSON webhook: POST /hooks/generic/<public id>.

Headers `X-Leadbase-Timestamp` (unix seconds) and `X-Leadbase-Signature: sha256=<hex
HMAC-SHA256 of "<timestamp>.<raw body>" keyed with the source's secret>`. The body is one lead
object or `{"leads": [...]}` (at most 100); keys are mapped by the source's field mapping, and
lead field names pass as they are. Each item is saved or reported on its own:
`{"accepted": N, "errors": [{"index": i, "message": "..."}]}`.

Replays: a timestamp more than 5 minutes from the server's clock is refused (401). Inside that
window, the same request sent again has the same signature; the delivery's `external_id` is
the `Idempotency-Key` header when sent, else the signature, and a second request with an
accepted delivery's key is answered as a duplicate (200, `"duplicate": true`) without touching
any lead. The same Idempotency-Key with a different body is a 409.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

from django.db import transaction

from leadbase.core.errors import ValidationFailed
from leadbase.leads.models import Lead

from .hook_intake import (
    Answer,
    BadBody,
    Inbound,
    error,
    generic_source,
    parse_json,
    too_large,
    too_large_detail,
)
from .hook_mapping import map_generic_item
from .hook_payloads import MAX_ITEMS_PER_REQUEST
from .models import DeliveryStatus, WebhookKind, WebhookSource
from .services_hooks import (
    Applied,
    accepted_delivery,
    claim_and_apply,
    delivery_record,
    duplicate_record,
    lead_from_hook,
    outcome_text,
    rejection_record,
)
from .signatures import generic_signature_valid, generic_timestamp_problem

logger = logging.getLogger(__name__)

KIND = WebhookKind.GENERIC
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


def _items(parsed: Any) -> list[Any]:
    if isinstance(parsed, dict) and "leads" in parsed:
        if set(parsed) != {"leads"}:
            raise BadBody(
                HTTPStatus.BAD_REQUEST,
                'A batch is {"leads": [...]} with nothing else beside "leads".',
            )
        leads = parsed["leads"]
        if not isinstance(leads, list) or not leads:
            raise BadBody(HTTPStatus.BAD_REQUEST, '"leads" must be a non-empty list of objects.')
        if len(leads) > MAX_ITEMS_PER_REQUEST:
            raise BadBody(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"The batch holds {len(leads)} leads; the limit is {MAX_ITEMS_PER_REQUEST} per "
                "request. Split it into several requests.",
            )
        return leads
    if isinstance(parsed, dict):
        return [parsed]
    raise BadBody(
        HTTPStatus.BAD_REQUEST,
        'The body must be one lead object, or {"leads": [ ... ]} for several.',
    )


def generic_receive(public_id: str, inbound: Inbound) -> Answer:
    ip = inbound.ip_address
    source = generic_source(public_id)
    if source is None:
        detail = "There is no generic webhook source with this id. Check the URL in Leadbase."
        rejection_record(
            kind=KIND, http_status=404, detail=f"{detail} (id {public_id[:60]!r})",
            ip_address=ip, now=inbound.now,
        )  # fmt: skip
        return error(HTTPStatus.NOT_FOUND, detail)

    def refuse(status: int, detail: str, kept: str = DeliveryStatus.REJECTED) -> Answer:
        rejection_record(
            kind=KIND, http_status=status, detail=detail, source=source, body=inbound.body,
            ip_address=ip, status=kept, now=inbound.now,
        )  # fmt: skip
        return error(status, detail)

    if not source.is_active:
        return refuse(HTTPStatus.FORBIDDEN, "This webhook source is switched off in Leadbase.")
    if too_large(inbound):
        return refuse(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE, too_large_detail(), DeliveryStatus.INVALID
        )
    body = inbound.body or b""
    timestamp = inbound.headers.get("X-Leadbase-Timestamp", "")
    if problem := generic_timestamp_problem(timestamp, now=inbound.now):
        return refuse(HTTPStatus.UNAUTHORIZED, problem)
    signature = inbound.headers.get("X-Leadbase-Signature", "").strip()
    if not signature:
        return refuse(
            HTTPStatus.UNAUTHORIZED,
            'X-Leadbase-Signature is missing: send "sha256=" + the hex HMAC-SHA256 of '
            '"<timestamp>.<raw body>" keyed with the source\'s secret.',
        )
    if not generic_signature_valid(
        secret=source.secret, timestamp=timestamp.strip(), body=body, header=signature
    ):
        return refuse(
            HTTPStatus.FORBIDDEN,
            'X-Leadbase-Signature does not match: sign "<timestamp>.<raw body>" (the exact '
            "bytes sent) with HMAC-SHA256 and the source's current secret, as sha256=<hex>.",
        )
    key = inbound.headers.get("Idempotency-Key", "").strip()
    if key and not _IDEMPOTENCY_KEY.match(key):
        return refuse(
            HTTPStatus.BAD_REQUEST,
            "Idempotency-Key must be 1 to 200 visible ASCII characters.",
            DeliveryStatus.INVALID,
        )
    external_id = key or signature.partition("=")[2].lower()
    try:
        parsed = parse_json(inbound)
        items = _items(parsed)
    except BadBody as exc:
        return refuse(exc.status, exc.detail, DeliveryStatus.INVALID)
    payload = parsed if isinstance(parsed, dict) else {"leads": parsed}
    return _process(source, items, payload, external_id, ip)


def _process(
    source: WebhookSource,
    items: list[Any],
    payload: dict[str, Any],
    external_id: str,
    ip: str | None,
) -> Answer:
    original = accepted_delivery(source=source, external_id=external_id)
    if original is not None:
        return _duplicate(source, original, payload, ip)
    errors: list[dict[str, Any]] = []
    leads: list[Lead] = []
    notes: list[str] = []

    def apply() -> Applied:
        for index, item in enumerate(items):
            message = _apply_item(source, index, item, leads, notes)
            if message:
                errors.append({"index": index, "message": message})
        summary = f"{len(leads)} of {len(items)} lead(s) accepted"
        lines = [summary, *notes, *(f"item {e['index']}: {e['message']}" for e in errors)]
        if not leads:
            return Applied(None, "\n".join(lines), DeliveryStatus.INVALID, 422)
        return Applied(leads[0], "\n".join(lines))

    delivery, duplicate = claim_and_apply(
        source=source, external_id=external_id, payload=payload, ip_address=ip, apply=apply
    )
    if duplicate:
        return Answer(HTTPStatus.OK, _duplicate_body(delivery.pk, delivery.detail))
    body = {"accepted": len(leads), "errors": errors, "duplicate": False, "delivery": delivery.pk}
    if not leads:
        detail = "No lead was accepted; each item's problem is listed in errors."
        return Answer(HTTPStatus.UNPROCESSABLE_ENTITY, {"detail": detail, **body})
    return Answer(HTTPStatus.OK, body)


def _apply_item(
    source: WebhookSource, index: int, item: Any, leads: list[Lead], notes: list[str]
) -> str:
    """Save one item in its own savepoint; the problem as text, or '' when it was saved."""
    if not isinstance(item, dict):
        return "must be a JSON object of lead fields"
    consent = item.get("consent", False)
    if not isinstance(consent, bool):
        return "consent must be true or false"
    try:
        with transaction.atomic():
            outcome = lead_from_hook(
                source=source,
                data=map_generic_item(source.field_mapping or {}, item),
                consent=consent,
                occurred_at=None,
                properties={"platform": "generic", "index": index},
                salvage=False,
            )
    except ValidationFailed as exc:
        return exc.message
    except Exception as exc:  # one item's failure must not lose the others
        logger.exception("generic webhook item %s of source %s failed", index, source.pk)
        return f"failed unexpectedly ({type(exc).__name__}); it was logged"
    leads.append(outcome.result.lead)
    notes.append(f"item {index}: {outcome_text(outcome)}")
    return ""


def _duplicate(
    source: WebhookSource, original: Any, payload: dict[str, Any], ip: str | None
) -> Answer:
    if original.payload != payload:
        detail = (
            f"This Idempotency-Key was used by delivery #{original.pk} with a different body. "
            "Use a new key for a new request."
        )
        delivery_record(
            kind=KIND, status=DeliveryStatus.INVALID, http_status=409, detail=detail,
            source=source, payload=payload, ip_address=ip,
        )  # fmt: skip
        return error(HTTPStatus.CONFLICT, detail)
    dup = duplicate_record(source=source, original=original, payload=payload, ip_address=ip)
    return Answer(HTTPStatus.OK, _duplicate_body(dup.pk, dup.detail))


def _duplicate_body(pk: int, detail: str) -> dict[str, Any]:
    return {"accepted": 0, "errors": [], "duplicate": True, "delivery": pk, "detail": detail}
