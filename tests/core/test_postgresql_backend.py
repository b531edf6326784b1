"""core.postgresql: Django's backend, with the connection health check made at most once per
HEALTH_CHECK_INTERVAL per connection."""

from __future__ import annotations

from typing import cast

import pytest
from django.db import connections

from leadbase.core.postgresql import base

connection = cast(base.DatabaseWrapper, connections["default"])
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only"),
]


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Each health check made on `connection` (True: it passed)."""
    made: list[bool] = []
    is_usable = connection.is_usable

    def counting() -> bool:
        made.append(is_usable())
        return made[-1]

    monkeypatch.setattr(connection, "is_usable", counting)
    return made


def start_request() -> None:
    connection.health_check_done = False  # as close_old_connections() at each request


def test_the_engine_is_ours() -> None:
    assert isinstance(connection, base.DatabaseWrapper)
    assert connection.health_check_enabled


def test_a_connection_checked_within_the_interval_is_not_checked_again(
    checks: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [10_000.0]
    monkeypatch.setattr(base, "_clock", lambda: now[0])
    connection._healthy_at = float("-inf")

    start_request()
    connection.close_if_health_check_failed()
    assert checks == [True]
    for seconds in (0.3, 0.6, 0.9):
        now[0] = 10_000.0 + seconds
        start_request()
        connection.close_if_health_check_failed()
    assert checks == [True]

    now[0] = 10_000.0 + base.HEALTH_CHECK_INTERVAL + 0.01
    start_request()
    connection.close_if_health_check_failed()
    assert checks == [True, True]


def test_a_connection_that_fails_its_check_is_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connection._healthy_at = float("-inf")
    old = connection.connection
    monkeypatch.setattr(connection, "is_usable", lambda: False)
    closed: list[object] = []
    monkeypatch.setattr(connection, "close", lambda: closed.append(old))

    connection.health_check_done = False
    connection.close_if_health_check_failed()

    assert closed == [old]
    assert connection.health_check_done
