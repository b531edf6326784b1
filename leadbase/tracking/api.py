"""The events API: `POST /api/v1/events` (one event or a batch) and `POST /api/v1/identify`."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.http import HttpRequest
from ninja import Body, Field, Router, Schema

from leadbase.accounts.api_auth import request_api_key, request_user, require_scope
from leadbase.accounts.models import Scope
from leadbase.core.errors import ValidationFailed
from leadbase.leads.api import errors

from .services import BATCH_MAX, events_ingest, visitor_identify_api

router = Router()


class ItemErrorOut(Schema):
    index: int = Field(description="Position of the event in the batch (0-based).")
    message: str = Field(description="What is wrong with it and what to send instead.")


class IngestOut(Schema):
    accepted: int = Field(description="Events stored (durably, before this answer).")
    duplicates: int = Field(description="Events whose event_id was already stored: not stored.")
    errors: list[ItemErrorOut]


EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"type": "string", "example": "pricing_page_view"},
        "timestamp": {"type": "string", "format": "date-time", "description": "default: now"},
        "properties": {"type": "object"},
        "lead_id": {"type": "integer"},
        "email": {"type": "string"},
        "visitor_id": {"type": "string"},
        "event_id": {"type": "string", "description": "makes a resend a no-op"},
    },
}
REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        EVENT_SCHEMA,
                        {
                            "type": "object",
                            "required": ["events"],
                            "properties": {
                                "events": {
                                    "type": "array",
                                    "maxItems": BATCH_MAX,
                                    "items": EVENT_SCHEMA,
                                }
                            },
                        },
                    ]
                }
            }
        },
    }
}


def _source(request: HttpRequest) -> str:
    key = request_api_key(request)
    return f"api:{key.name or key.prefix}"[:64]


@router.post(
    "/events",
    response={
        200: IngestOut,
        **errors(HTTPStatus.BAD_REQUEST, HTTPStatus.REQUEST_ENTITY_TOO_LARGE),
    },
    tags=["events"],
    summary="Record events (one, or a batch of up to 1,000)",
    openapi_extra=REQUEST_BODY,
)
def post_events(request: HttpRequest, payload: Body[dict[str, Any]]) -> dict[str, Any]:
    """Send one event object, or `{"events": [...]}`. Each event has `type`, `timestamp` (ISO
    8601; default now), `properties` (object), one of `lead_id`, `email` or `visitor_id`, and an
    optional `event_id`: an event whose `event_id` was already stored is counted in
    `duplicates` and not stored again. Invalid events are listed in `errors` by position while
    the valid rest is stored (the answer is 200 as long as the request itself is well formed;
    413 past 1,000 events). Needs the `ingest` or `write` scope."""
    require_scope(request, Scope.INGEST, Scope.WRITE)
    if "events" in payload:
        items = payload["events"]
        if not isinstance(items, list) or len(payload) != 1:
            raise ValidationFailed(
                'A batch is {"events": [ ... ]} with nothing else beside the list.',
                fields={"events": "must be a list of event objects"},
            )
    else:
        items = [payload]
    result = events_ingest(items=items, user=request_user(request), source=_source(request))
    return result.as_dict()


class IdentifyIn(Schema):
    visitor_id: str = Field(description="The visitor id the tracking snippet keeps in lb_vid.")
    lead_id: int | None = None
    email: str | None = None


class IdentifyOut(Schema):
    lead_id: int
    attached: int = Field(description="Events of the visitor now attached to the lead.")
    relinked_from: int | None = Field(
        description="The lead the visitor pointed to before, when it was another one."
    )


@router.post(
    "/identify",
    response={200: IdentifyOut, **errors(HTTPStatus.NOT_FOUND)},
    tags=["events"],
    summary="Link a tracking visitor to a lead",
)
def post_identify(request: HttpRequest, payload: IdentifyIn) -> dict[str, Any]:
    """The visitor's events so far (and from now on) belong to the lead, given by `lead_id` or
    `email`. Needs the `ingest` or `write` scope."""
    require_scope(request, Scope.INGEST, Scope.WRITE)
    done = visitor_identify_api(
        user=request_user(request),
        visitor_id=payload.visitor_id,
        lead_id=payload.lead_id,
        email=payload.email,
    )
    return {"lead_id": done.lead.pk, "attached": done.attached, "relinked_from": done.relinked_from}
