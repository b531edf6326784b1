"""A platform retrying a delivery while the first is still being processed makes one lead."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus

import pytest
from django.db import connection, connections
from django.test import Client

from leadbase.capture.models import WebhookDelivery, WebhookSource
from leadbase.capture.signatures import facebook_signature, generic_signature
from leadbase.leads.models import Event, Lead

from .conftest import FB_SECRET, GENERIC_SECRET, fb_body, fb_change

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: concurrent requests need their own connections to one "
        "database (SQLite's test database lives in this process's memory)",
    ),
    pytest.mark.django_db(transaction=True),
]

CLIENTS = 6


def _race(url: str, raw: bytes, headers: dict[str, str]) -> list[int]:
    start = threading.Barrier(CLIENTS)

    def send(_: int) -> int:
        try:
            start.wait(timeout=10)
            response = Client().post(url, raw, content_type="application/json", headers=headers)
            return response.status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(CLIENTS) as pool:
        return list(pool.map(send, range(CLIENTS)))


def test_simultaneous_redeliveries_of_one_leadgen_make_one_lead(
    fb_source: WebhookSource,
) -> None:
    raw = json.dumps(fb_body(fb_change("race-1", email="race@example.com"))).encode()
    statuses = _race(
        "/hooks/facebook", raw, {"X-Hub-Signature-256": facebook_signature(FB_SECRET, raw)}
    )
    assert statuses == [HTTPStatus.OK] * CLIENTS
    assert Lead.objects.count() == 1
    assert Event.objects.filter(type="form_submitted").count() == 1
    rows = list(WebhookDelivery.objects.values_list("status", flat=True))
    assert sorted(rows) == ["accepted"] + ["duplicate"] * (CLIENTS - 1)


def test_simultaneous_replays_of_a_generic_request_make_one_delivery(
    generic_src: WebhookSource,
) -> None:
    raw = json.dumps({"leads": [{"email": "g1@example.com"}, {"email": "g2@example.com"}]}).encode()
    stamp = str(int(time.time()))
    headers = {
        "X-Leadbase-Timestamp": stamp,
        "X-Leadbase-Signature": generic_signature(GENERIC_SECRET, stamp, raw),
    }
    statuses = _race(f"/hooks/generic/{generic_src.public_id}", raw, headers)
    assert statuses == [HTTPStatus.OK] * CLIENTS
    assert Lead.objects.count() == 2
    assert Event.objects.filter(type="form_submitted").count() == 2
    assert WebhookDelivery.objects.filter(status="accepted").count() == 1
