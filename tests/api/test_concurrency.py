"""The same lead sent at the same moment by several clients ends up as one lead."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus

import pytest
from django.db import connection, connections
from django.test import Client

from leadbase.accounts.models import User
from leadbase.leads.models import Lead

from .conftest import ApiClient, Reply

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: concurrent requests need their own connections to one "
        "database (SQLite's test database lives in this process's memory)",
    ),
    pytest.mark.django_db(transaction=True),
]

CLIENTS = 8


def test_simultaneous_submissions_of_one_lead_create_it_once(
    api_key_for: Callable[..., str], marketer: User
) -> None:
    key = api_key_for(marketer, "ingest,read")
    start = threading.Barrier(CLIENTS)

    def submit(i: int) -> Reply:
        try:
            start.wait(timeout=10)
            api = ApiClient(Client(), f"Bearer {key}")
            return api.post("/leads", {"email": "Same@Example.com", "city": f"City {i}"})
        finally:
            connections.close_all()

    with ThreadPoolExecutor(CLIENTS) as pool:
        replies = list(pool.map(submit, range(CLIENTS)))

    statuses = sorted(r.status for r in replies)
    assert statuses == [HTTPStatus.OK] * (CLIENTS - 1) + [HTTPStatus.CREATED]
    assert {r.body["id"] for r in replies} == {Lead.objects.get().pk}
