"""Fixtures for the webhooks: sources of each kind, and clients that sign as the platforms do."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from django.http import HttpResponseBase
from django.test import Client

from leadbase.capture.models import WebhookKind, WebhookSource
from leadbase.capture.services_hooks import webhook_source_create
from leadbase.capture.signatures import (
    facebook_signature,
    generic_signature,
    linkedin_signature,
)

FB_SECRET = "fb-app-secret-0123456789abcdef"
LI_SECRET = "li-client-secret-abcdef"
GENERIC_SECRET = "generic-secret-0123456789-abcdefghijkl"


@dataclass(frozen=True)
class Hit:
    status: int
    body: Any
    response: HttpResponseBase

    @property
    def text(self) -> str:
        return bytes(getattr(self.response, "content", b"")).decode()


def hit(response: HttpResponseBase) -> Hit:
    content = bytes(getattr(response, "content", b""))
    body: Any = content.decode()
    if response.get("Content-Type", "").startswith("application/json"):
        body = json.loads(content)
    return Hit(response.status_code, body, response)


def as_bytes(body: Any) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


@pytest.fixture
def fb_source(db: None) -> WebhookSource:
    return webhook_source_create(
        kind=WebhookKind.FACEBOOK, name="Spring ads", secret=FB_SECRET, verify_token="tok-123"
    )


@pytest.fixture
def li_source(db: None) -> WebhookSource:
    return webhook_source_create(kind=WebhookKind.LINKEDIN, name="LI forms", secret=LI_SECRET)


@pytest.fixture
def generic_src(db: None) -> WebhookSource:
    return webhook_source_create(kind=WebhookKind.GENERIC, name="Zap", secret=GENERIC_SECRET)


@pytest.fixture
def post_facebook(client: Client) -> Callable[..., Hit]:
    """post_facebook(body, secret=FB_SECRET, signature=None, headers=None, content_type=...)"""

    def send(
        body: Any,
        *,
        secret: str = FB_SECRET,
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Hit:
        raw = as_bytes(body)
        sent = {
            "X-Hub-Signature-256": facebook_signature(secret, raw)
            if signature is None
            else signature
        }
        sent.update(headers or {})
        sent = {k: v for k, v in sent.items() if v != ""}
        return hit(client.post("/hooks/facebook", raw, content_type=content_type, headers=sent))

    return send


@pytest.fixture
def post_linkedin(client: Client) -> Callable[..., Hit]:
    def send(
        body: Any,
        *,
        secret: str = LI_SECRET,
        signature: str | None = None,
        content_type: str = "application/json",
    ) -> Hit:
        raw = as_bytes(body)
        sent = {
            "X-LI-Signature": linkedin_signature(secret, raw) if signature is None else signature
        }
        sent = {k: v for k, v in sent.items() if v != ""}
        return hit(client.post("/hooks/linkedin", raw, content_type=content_type, headers=sent))

    return send


@pytest.fixture
def post_generic(client: Client) -> Callable[..., Hit]:
    """post_generic(source, body, timestamp=now, secret=source.secret, signature=None, ...)"""

    def send(
        source: WebhookSource | str,
        body: Any,
        *,
        timestamp: int | str | None = None,
        secret: str | None = None,
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Hit:
        raw = as_bytes(body)
        public_id = source if isinstance(source, str) else str(source.public_id)
        key = secret if secret is not None else getattr(source, "secret", GENERIC_SECRET)
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        sent = {
            "X-Leadbase-Timestamp": stamp,
            "X-Leadbase-Signature": (
                generic_signature(key, stamp, raw) if signature is None else signature
            ),
        }
        sent.update(headers or {})
        sent = {k: v for k, v in sent.items() if v != ""}
        url = f"/hooks/generic/{public_id}"
        return hit(client.post(url, raw, content_type=content_type, headers=sent))

    return send


def fb_change(
    leadgen_id: str = "444", *, page_id: str = "1001", form_id: str = "2002", **fields: Any
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "leadgen_id": leadgen_id,
        "page_id": page_id,
        "form_id": form_id,
        "ad_id": "3003",
        "adgroup_id": "3004",
        "created_time": 1_760_000_000,
    }
    if fields:
        value["field_data"] = [{"name": k, "values": [v]} for k, v in fields.items()]
    return {"field": "leadgen", "value": value}


def fb_body(*changes: dict[str, Any], page_id: str = "1001") -> dict[str, Any]:
    return {
        "object": "page",
        "entry": [{"id": page_id, "time": 1_760_000_001, "changes": list(changes)}],
    }


def li_notice(
    response_id: str = "urn:li:leadGenFormResponse:abc-1",
    *,
    form: str = "urn:li:versionedLeadGenForm:(urn:li:leadGenForm:818,1)",
    owner: str = "urn:li:sponsoredAccount:5208",
    action: str = "CREATED",
    answers: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    notice: dict[str, Any] = {
        "type": "LEAD_ACTION",
        "leadGenFormResponse": response_id,
        "leadGenForm": form,
        "owner": {"sponsoredAccount": owner},
        "leadType": "SPONSORED",
        "leadAction": action,
        "occurredAt": 1_686_182_358_881,
    }
    if answers is not None:
        notice["formResponse"] = {
            "answers": [
                {
                    "questionId": n,
                    "predefinedField": name,
                    "answerDetails": {"textQuestionAnswer": {"answer": value}},
                }
                for n, (name, value) in enumerate(answers.items(), start=1)
            ]
        }
    return notice
