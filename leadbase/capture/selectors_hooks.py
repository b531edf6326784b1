"""Reads for webhook sources and deliveries (admins only: callers check the role)."""

from __future__ import annotations

from django.db.models import Count, Max, QuerySet
from django.http import HttpRequest
from django.urls import reverse

from .models import WebhookDelivery, WebhookKind, WebhookSource

MAX_DELIVERIES = 200


def webhook_source_list() -> QuerySet[WebhookSource]:
    """Every source, with its delivery count and last delivery time (one query)."""
    return (
        WebhookSource.objects.select_related("campaign")
        .annotate(
            delivery_count=Count("deliveries"), last_delivery_at=Max("deliveries__received_at")
        )
        .order_by("kind", "name", "id")
    )


def webhook_source_get(*, source_id: int) -> WebhookSource | None:
    if not 0 < source_id < 2**63:
        return None
    return WebhookSource.objects.select_related("campaign").filter(pk=source_id).first()


def delivery_list(
    *,
    source: WebhookSource | None,
    status: str = "",
    before: int | None = None,
    limit: int = 50,
) -> list[WebhookDelivery]:
    """Deliveries newest first: of `source`, or (source None) those that matched no source.
    `before`: only deliveries with a smaller id (the next page)."""
    query = (
        WebhookDelivery.objects.filter(source=source)
        if source is not None
        else WebhookDelivery.objects.filter(source__isnull=True)
    )
    if status:
        query = query.filter(status=status)
    if before is not None:
        query = query.filter(pk__lt=before)
    return list(
        query.select_related("lead").order_by("-id")[: max(1, min(limit, MAX_DELIVERIES + 1))]
    )


def hook_path(source: WebhookSource) -> str:
    if source.kind == WebhookKind.GENERIC:
        return reverse("hooks:generic", kwargs={"public_id": str(source.public_id)})
    return reverse(f"hooks:{source.kind}")


def hook_url(source: WebhookSource, request: HttpRequest) -> str:
    """The address to paste into the platform (absolute, as this request reached Leadbase)."""
    return request.build_absolute_uri(hook_path(source))


def linkedin_secrets_differ() -> bool:
    """LinkedIn validates the URL with ONE client secret: several active LinkedIn sources
    must share it (they are forms or accounts of one LinkedIn app)."""
    secrets = WebhookSource.objects.filter(kind=WebhookKind.LINKEDIN, is_active=True).values_list(
        "secret", flat=True
    )
    return len(set(secrets)) > 1
