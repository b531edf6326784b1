"""Merging the same suggestion, or overlapping ones, at the same moment: one merge wins, the
others find the suggestion gone (404); never a 500 or a deadlock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus

import pytest
from django.db import connection, connections
from django.test import Client

from leadbase.accounts.models import User
from leadbase.leads.models import DuplicateSuggestion, Lead

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

CLIENTS = 6


def _post_all(key: str, paths: list[str]) -> list[Reply]:
    start = threading.Barrier(len(paths))

    def post(path: str) -> Reply:
        try:
            start.wait(timeout=10)
            return ApiClient(Client(), f"Bearer {key}").post(path, {})
        finally:
            connections.close_all()

    with ThreadPoolExecutor(len(paths)) as pool:
        return list(pool.map(post, paths))


def test_simultaneous_merges_of_one_suggestion_merge_once(
    api_key_for: Callable[..., str], marketer: User, make_lead: Callable[..., Lead]
) -> None:
    older, newer = make_lead(email="a@acme.example"), make_lead(email="b@acme.example")
    suggestion = DuplicateSuggestion.objects.create(lead=newer, candidate=older, reason="test")

    replies = _post_all(
        api_key_for(marketer, "read,write"), [f"/duplicates/{suggestion.pk}/merge"] * CLIENTS
    )

    statuses = sorted(r.status for r in replies)
    assert statuses == [HTTPStatus.OK] + [HTTPStatus.NOT_FOUND] * (CLIENTS - 1)
    assert list(Lead.objects.values_list("pk", flat=True)) == [older.pk]


def test_overlapping_merges_never_fail_with_500(
    api_key_for: Callable[..., str], marketer: User, make_lead: Callable[..., Lead]
) -> None:
    a, b, c = (make_lead(email=f"{x}@acme.example") for x in "abc")
    first = DuplicateSuggestion.objects.create(lead=b, candidate=a, reason="test")
    second = DuplicateSuggestion.objects.create(lead=c, candidate=b, reason="test")

    replies = _post_all(
        api_key_for(marketer, "read,write"),
        [f"/duplicates/{first.pk}/merge", f"/duplicates/{second.pk}/merge"] * 2,
    )

    assert {r.status for r in replies} <= {HTTPStatus.OK, HTTPStatus.NOT_FOUND}, [
        r.body for r in replies
    ]
    assert Lead.objects.filter(pk=a.pk).exists()  # the oldest is kept, whatever the order
    assert Lead.objects.count() in {1, 2}
