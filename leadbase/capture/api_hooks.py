"""API router: webhook sources and their deliveries (mounted under /api/v1/ by
leadbase/config/api.py). Sources hold platform secrets, so only admins' keys may use it (403
for every other role); reads need the `read` scope, writes `write`."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from leadbase.accounts.api_auth import request_user, require_scope
from leadbase.accounts.models import Scope
from leadbase.core.errors import NotFound, PermissionDenied, ValidationFailed
from leadbase.leads.schemas import ErrorOut
from leadbase.leads.services import campaign_resolve

from . import selectors_hooks as selectors
from .models import WebhookDelivery, WebhookSource
from .schemas_hooks import (
    DeliveryPage,
    DeliveryStatusName,
    WebhookSourceIn,
    WebhookSourceList,
    WebhookSourceOut,
    WebhookSourcePatch,
)
from .services_hooks import (
    webhook_source_create,
    webhook_source_delete,
    webhook_source_rotate_secret,
    webhook_source_update,
)

router = Router(tags=["webhook sources"])
ERRORS: dict[int, type[ErrorOut]] = {
    int(s): ErrorOut
    for s in (
        HTTPStatus.UNAUTHORIZED,
        HTTPStatus.FORBIDDEN,
        HTTPStatus.NOT_FOUND,
        HTTPStatus.UNPROCESSABLE_ENTITY,
    )
}


def _admin(request: HttpRequest, scope: str) -> None:
    require_scope(request, scope)
    user = request_user(request)
    if not user.is_leadbase_admin:
        raise PermissionDenied(
            f"Only admins configure webhook sources (they hold platform secrets); your role is "
            f"{user.get_role_display()}."
        )


def _source(source_id: int) -> WebhookSource:
    source = selectors.webhook_source_get(source_id=source_id)
    if source is None:
        raise NotFound(f"There is no webhook source with id {source_id}.")
    return source


def _out(request: HttpRequest, source: WebhookSource) -> dict[str, Any]:
    return {
        "id": source.pk,
        "kind": source.kind,
        "name": source.name,
        "public_id": source.public_id,
        "url": selectors.hook_url(source, request),
        "secret": source.secret,
        "verify_token": source.verify_token,
        "external_id": source.external_id,
        "field_mapping": source.field_mapping or {},
        "campaign": source.campaign.name if source.campaign else "",
        "channel": source.channel,
        "consent_text": source.consent_text,
        "is_active": source.is_active,
        "created_at": source.created_at,
        "updated_at": source.updated_at,
    }


def _delivery_out(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.pk,
        "source": delivery.source_id,
        "kind": delivery.kind,
        "status": delivery.status,
        "http_status": delivery.http_status,
        "detail": delivery.detail,
        "external_id": delivery.external_id,
        "payload": delivery.payload if isinstance(delivery.payload, dict) else {},
        "ip_address": delivery.ip_address,
        "lead": delivery.lead_id,
        "received_at": delivery.received_at,
    }


@router.get("/webhook-sources", response={200: WebhookSourceList, **ERRORS}, summary="List sources")
def list_sources(request: HttpRequest) -> dict[str, Any]:
    """Every webhook source with the URL to configure in its platform. Admins only."""
    _admin(request, Scope.READ)
    return {"items": [_out(request, s) for s in selectors.webhook_source_list()]}


@router.post(
    "/webhook-sources", response={201: WebhookSourceOut, **ERRORS}, summary="Create a source"
)
def create_source(request: HttpRequest, payload: WebhookSourceIn) -> Status[Any]:
    """A new source; the answer holds its URL and (generated) secret. Admins only."""
    _admin(request, Scope.WRITE)
    data = payload.model_dump()
    campaign = campaign_resolve(data.pop("campaign"), channel=data["channel"])
    source = webhook_source_create(**data, campaign=campaign)
    return Status(201, _out(request, source))


@router.get(
    "/webhook-sources/{source_id}", response={200: WebhookSourceOut, **ERRORS}, summary="One source"
)
def get_source(request: HttpRequest, source_id: int) -> dict[str, Any]:
    _admin(request, Scope.READ)
    return _out(request, _source(source_id))


@router.patch(
    "/webhook-sources/{source_id}",
    response={200: WebhookSourceOut, **ERRORS},
    summary="Change a source",
)
def patch_source(
    request: HttpRequest, source_id: int, payload: WebhookSourcePatch
) -> dict[str, Any]:
    """Fields given replace the stored ones; `rotate_secret: true` gives a generic source a
    new secret (the old one stops working at once)."""
    _admin(request, Scope.WRITE)
    source = _source(source_id)
    changes = payload.model_dump(exclude_unset=True)
    rotate = changes.pop("rotate_secret", False)
    if "campaign" in changes:
        name = changes["campaign"] or ""
        changes["campaign"] = campaign_resolve(name, channel=source.channel) if name else None
    changes = {k: v for k, v in changes.items() if v is not None or k == "campaign"}
    if changes:
        source = webhook_source_update(source=source, changes=changes)
    if rotate:
        webhook_source_rotate_secret(source=source)
    return _out(request, source)


@router.delete(
    "/webhook-sources/{source_id}",
    response={204: None, **ERRORS},
    summary="Delete a source",
)
def delete_source(request: HttpRequest, source_id: int) -> Status[None]:
    """The source goes; its deliveries stay on record without it."""
    _admin(request, Scope.WRITE)
    webhook_source_delete(source=_source(source_id))
    return Status(204, None)


@router.get(
    "/webhook-sources/{source_id}/deliveries",
    response={200: DeliveryPage, **ERRORS},
    summary="A source's deliveries",
)
def list_deliveries(
    request: HttpRequest,
    source_id: int,
    status: DeliveryStatusName = "",
    before: int | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """Newest first, `limit` (1-200) per page; pass `next` as `before` for older ones."""
    _admin(request, Scope.READ)
    source = _source(source_id)
    if not 1 <= limit <= selectors.MAX_DELIVERIES:
        raise ValidationFailed(
            f"limit must be between 1 and {selectors.MAX_DELIVERIES}.",
            fields={"limit": "out of range"},
        )
    rows = selectors.delivery_list(source=source, status=status, before=before, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [_delivery_out(d) for d in rows], "next": rows[-1].pk if more else None}
