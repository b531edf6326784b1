"""The generic JSON webhook at /hooks/generic/<public id>."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client
from django.urls import resolve

from leadbase.capture.models import DeliveryStatus, WebhookDelivery, WebhookSource
from leadbase.capture.services_hooks import webhook_source_update
from leadbase.capture.signatures import generic_signature
from leadbase.leads.models import Consent, Event, Lead

from .conftest import GENERIC_SECRET, Hit

Post = Callable[..., Hit]


def test_one_lead_is_accepted(post_generic: Post, generic_src: WebhookSource) -> None:
    reply = post_generic(generic_src, {"email": "one@example.com", "first_name": "Una"})
    assert reply.status == HTTPStatus.OK
    assert reply.body["accepted"] == 1 and reply.body["errors"] == []
    assert reply.body["duplicate"] is False
    lead = Lead.objects.get()
    assert lead.first_name == "Una" and lead.source_detail == "generic:Zap"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.lead, delivery.source) == ("accepted", lead, generic_src)
    assert Event.objects.filter(type="form_submitted", lead=lead).count() == 1


def test_per_item_errors_keep_the_valid_items(post_generic: Post, generic_src: Any) -> None:
    body = {
        "leads": [
            {"email": "a@example.com"},
            {"email": "not-an-address"},
            "not an object",
            {"email": "b@example.com", "favourite_colour": "blue"},  # unknown field
            {"email": "c@example.com", "consent": "yes"},
            {"phone": "+14155550100", "country": "US"},
        ]
    }
    reply = post_generic(generic_src, body)
    assert reply.status == HTTPStatus.OK
    assert reply.body["accepted"] == 2
    errors = {e["index"]: e["message"] for e in reply.body["errors"]}
    assert set(errors) == {1, 2, 3, 4}
    assert "email" in errors[1]
    assert "object" in errors[2]
    assert "favourite_colour" in errors[3] and "attributes" in errors[3]
    assert "consent" in errors[4]
    assert set(Lead.objects.values_list("email", "phone")) == {
        ("a@example.com", ""),
        ("", "+14155550100"),
    }
    delivery = WebhookDelivery.objects.get()
    assert "2 of 6" in delivery.detail and "item 1:" in delivery.detail


def test_when_no_item_is_valid_the_answer_is_422(post_generic: Post, generic_src: Any) -> None:
    reply = post_generic(generic_src, {"leads": [{"email": "x"}, {"first_name": "no contact"}]})
    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert reply.body["accepted"] == 0 and len(reply.body["errors"]) == 2
    assert WebhookDelivery.objects.get().status == DeliveryStatus.INVALID
    assert not Lead.objects.exists()


def test_a_replayed_request_is_a_duplicate_without_a_second_lead(
    client: Client, generic_src: WebhookSource
) -> None:
    raw = json.dumps({"email": "replay@example.com"}).encode()
    stamp = str(int(time.time()))
    headers = {
        "X-Leadbase-Timestamp": stamp,
        "X-Leadbase-Signature": generic_signature(GENERIC_SECRET, stamp, raw),
    }
    url = f"/hooks/generic/{generic_src.public_id}"
    first = client.post(url, raw, content_type="application/json", headers=headers)
    second = client.post(url, raw, content_type="application/json", headers=headers)
    assert first.status_code == second.status_code == HTTPStatus.OK
    assert json.loads(second.content)["duplicate"] is True
    assert Event.objects.filter(type="form_submitted").count() == 1
    statuses = list(WebhookDelivery.objects.order_by("id").values_list("status", flat=True))
    assert statuses == ["accepted", "duplicate"]
    assert WebhookDelivery.objects.get(status="accepted").external_id == (
        headers["X-Leadbase-Signature"].removeprefix("sha256=")
    )


def test_an_idempotency_key_makes_retries_with_a_new_timestamp_duplicates(
    post_generic: Post, generic_src: Any
) -> None:
    body = {"email": "idem@example.com"}
    key = {"Idempotency-Key": "order-42"}
    assert post_generic(generic_src, body, headers=key).body["duplicate"] is False
    again = post_generic(generic_src, body, headers=key, timestamp=int(time.time()) + 5)
    assert again.status == HTTPStatus.OK and again.body["duplicate"] is True
    other = post_generic(generic_src, {"email": "else@example.com"}, headers=key)
    assert other.status == HTTPStatus.CONFLICT
    assert Event.objects.filter(type="form_submitted").count() == 1
    assert not Lead.objects.filter(email="else@example.com").exists()


@pytest.mark.parametrize("offset", [-310, -3600, 310, 86400])  # the edge: test_signatures
def test_timestamps_outside_the_window_are_401(
    post_generic: Post, generic_src: Any, offset: int
) -> None:
    reply = post_generic(
        generic_src, {"email": "t@example.com"}, timestamp=int(time.time()) + offset
    )
    assert reply.status == HTTPStatus.UNAUTHORIZED
    assert "5 minutes" in reply.body["detail"]
    assert not Lead.objects.exists()
    assert WebhookDelivery.objects.get().status == DeliveryStatus.REJECTED


def test_missing_timestamp_or_signature_is_401_and_wrong_signature_403(
    post_generic: Post, generic_src: Any
) -> None:
    body = {"email": "s@example.com"}
    assert post_generic(generic_src, body, timestamp="").status == HTTPStatus.UNAUTHORIZED
    assert post_generic(generic_src, body, signature="").status == HTTPStatus.UNAUTHORIZED
    assert post_generic(generic_src, body, secret="x" * 30).status == HTTPStatus.FORBIDDEN
    assert post_generic(generic_src, body, signature="sha256=" + "0" * 64).status == 403
    assert post_generic(generic_src, body, signature="md5=abc").status == 403
    assert not Lead.objects.exists()
    assert WebhookDelivery.objects.filter(status="rejected").count() == 5


def test_signature_over_a_reserialised_body_is_403(client: Client, generic_src: Any) -> None:
    sent = b'{ "email" : "r@example.com" }'
    stamp = str(int(time.time()))
    signature = generic_signature(GENERIC_SECRET, stamp, b'{"email": "r@example.com"}')
    response = client.post(
        f"/hooks/generic/{generic_src.public_id}",
        sent,
        content_type="application/json",
        headers={"X-Leadbase-Timestamp": stamp, "X-Leadbase-Signature": signature},
    )
    assert response.status_code == HTTPStatus.FORBIDDEN


@pytest.mark.parametrize("public_id", [str(uuid.uuid4()), "not-a-uuid", "%3Cscript%3E"])
def test_unknown_source_is_404_and_nothing_is_processed(
    post_generic: Post, generic_src: Any, public_id: str
) -> None:
    reply = post_generic(public_id, {"email": "u@example.com"}, secret=GENERIC_SECRET)
    assert reply.status == HTTPStatus.NOT_FOUND
    assert reply.body["detail"]
    assert not Lead.objects.exists()
    assert WebhookDelivery.objects.get().source is None


def test_an_inactive_source_is_403(post_generic: Post, generic_src: WebhookSource) -> None:
    webhook_source_update(source=generic_src, changes={"is_active": False})
    reply = post_generic(generic_src, {"email": "i@example.com"})
    assert reply.status == HTTPStatus.FORBIDDEN
    assert not Lead.objects.exists()


def test_wrong_content_type_is_415(post_generic: Post, generic_src: Any) -> None:
    reply = post_generic(
        generic_src, "email=x@example.com", content_type="application/x-www-form-urlencoded"
    )
    assert reply.status == HTTPStatus.UNSUPPORTED_MEDIA_TYPE


@pytest.mark.parametrize(
    "raw", [b"{", b'{"email": Infinity}', b"\xc3\x28", b"[]", b'"text"', b'{"leads": {}}']
)
def test_malformed_bodies_are_400(post_generic: Post, generic_src: Any, raw: bytes) -> None:
    reply = post_generic(generic_src, raw)
    assert reply.status == HTTPStatus.BAD_REQUEST, reply.body
    assert not Lead.objects.exists()


def test_oversized_body_is_413(post_generic: Post, generic_src: Any, settings: Any) -> None:
    settings.LEADBASE_HOOKS_MAX_BODY_BYTES = 2048
    reply = post_generic(generic_src, {"email": "big@example.com", "city": "x" * 5000})
    assert reply.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert WebhookDelivery.objects.get().http_status == 413


def test_more_than_100_leads_is_413(post_generic: Post, generic_src: Any) -> None:
    leads = [{"email": f"n{i}@example.com"} for i in range(101)]
    reply = post_generic(generic_src, {"leads": leads})
    assert reply.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert "100" in reply.body["detail"] and not Lead.objects.exists()


def test_a_batch_of_100_is_accepted(post_generic: Post, generic_src: Any) -> None:
    leads = [{"email": f"n{i}@example.com"} for i in range(100)]
    resolve("/hooks/facebook")  # the URLconf's first import is not what is measured
    started = time.perf_counter()
    reply = post_generic(generic_src, {"leads": leads})
    elapsed = time.perf_counter() - started
    assert reply.status == HTTPStatus.OK and reply.body["accepted"] == 100
    assert Lead.objects.count() == 100
    assert elapsed < 20, f"100 leads took {elapsed:.1f} s"


def test_field_mapping_and_attributes(post_generic: Post, generic_src: WebhookSource) -> None:
    webhook_source_update(
        source=generic_src,
        changes={
            "field_mapping": {
                "mail": "email",
                "name": "full_name",
                "org": "company",
                "plan": "attributes.plan",
                "ignored": "",
            }
        },
    )
    post_generic(
        generic_src,
        {
            "mail": "Map@Example.com",
            "name": "Jo Ann Smith",
            "org": "Widgets",
            "plan": "pro",
            "ignored": "zzz",
            "attributes": {"seats": 5},
        },
    )
    lead = Lead.objects.get()
    assert (lead.email, lead.first_name, lead.last_name) == ("map@example.com", "Jo Ann", "Smith")
    assert lead.company is not None and lead.company.name == "Widgets"
    assert lead.attributes == {"seats": 5, "plan": "pro"}


def test_consent_is_recorded_only_for_items_that_say_so(
    post_generic: Post, generic_src: WebhookSource
) -> None:
    webhook_source_update(source=generic_src, changes={"consent_text": "Send me news"})
    post_generic(
        generic_src,
        {"leads": [{"email": "yes@example.com", "consent": True}, {"email": "no@example.com"}]},
    )
    consent = Consent.objects.get()
    assert consent.lead.email == "yes@example.com" and consent.text_shown == "Send me news"


def test_unicode_idn_and_hostile_values(post_generic: Post, generic_src: Any) -> None:
    reply = post_generic(
        generic_src,
        {
            "leads": [
                {"email": "Ödön@Exämple.com", "first_name": "Ödön"},
                {"email": "x@example.com", "first_name": "<img src=x onerror=alert(1)>"},
                {"email": "y@example.com", "first_name": "=CMD|' /C calc'!A0"},
            ]
        },
    )
    assert reply.body["accepted"] == 3, reply.body
    assert Lead.objects.filter(email="ödön@exämple.com", first_name="Ödön").exists()
    assert Lead.objects.filter(first_name="<img src=x onerror=alert(1)>").exists()


def test_no_csrf_token_is_needed(generic_src: WebhookSource) -> None:
    raw = b'{"email": "csrf@example.com"}'
    stamp = str(int(time.time()))
    response = Client(enforce_csrf_checks=True).post(
        f"/hooks/generic/{generic_src.public_id}",
        raw,
        content_type="application/json",
        headers={
            "X-Leadbase-Timestamp": stamp,
            "X-Leadbase-Signature": generic_signature(GENERIC_SECRET, stamp, raw),
        },
    )
    assert response.status_code == HTTPStatus.OK


def test_get_is_not_allowed(client: Client, generic_src: Any) -> None:
    response = client.get(f"/hooks/generic/{generic_src.public_id}")
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
