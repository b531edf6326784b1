"""Request and response shapes of the webhook-source API (/api/v1/webhook-sources)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from ninja import Field, Schema
from pydantic import ConfigDict

Kind = Literal["facebook", "linkedin", "generic"]
DeliveryStatusName = Literal["", "accepted", "duplicate", "rejected", "invalid", "failed"]


class WebhookSourceIn(Schema):
    model_config = ConfigDict(extra="forbid")

    kind: Kind
    name: str = Field(max_length=200)
    secret: str = Field(
        "",
        max_length=200,
        description="Facebook: the app secret; LinkedIn: the client secret (both required). "
        "Generic: empty to have one generated.",
    )
    verify_token: str = Field(
        "", max_length=200, description="Facebook only; empty to have one generated."
    )
    external_id: str = Field(
        "",
        max_length=100,
        description="Page/form id (Facebook) or account/organization/form URN or id "
        "(LinkedIn) this source takes; empty: every lead its secret verifies.",
    )
    field_mapping: dict[str, str] = Field(
        default_factory=dict,
        description='Platform field name -> lead field, "attributes.<key>", "full_name" or "".',
    )
    campaign: str = Field("", max_length=200, description="Campaign name (created if new).")
    channel: str = "paid_social"
    consent_text: str = Field("", max_length=5000)
    is_active: bool = True


class WebhookSourcePatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200)
    secret: str | None = Field(None, max_length=200, description="A new platform secret.")
    verify_token: str | None = Field(None, max_length=200)
    external_id: str | None = Field(None, max_length=100)
    field_mapping: dict[str, str] | None = None
    campaign: str | None = Field(None, max_length=200, description='"" removes the campaign.')
    channel: str | None = None
    consent_text: str | None = Field(None, max_length=5000)
    is_active: bool | None = None
    rotate_secret: bool = Field(False, description="Generic sources: generate a new secret.")


class WebhookSourceOut(Schema):
    id: int
    kind: Kind
    name: str
    public_id: uuid.UUID
    url: str = Field(description="The URL to configure in the platform.")
    secret: str
    verify_token: str
    external_id: str
    field_mapping: dict[str, str]
    campaign: str
    channel: str
    consent_text: str
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class WebhookSourceList(Schema):
    items: list[WebhookSourceOut]


class DeliveryOut(Schema):
    id: int
    source: int | None
    kind: str
    status: str
    http_status: int
    detail: str
    external_id: str
    payload: dict[str, object]
    ip_address: str | None
    lead: int | None
    received_at: dt.datetime


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    next: int | None = Field(
        description="Pass as `before` for the next (older) page; null on the last page."
    )
