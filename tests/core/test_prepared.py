"""core.prepared: a `.values()` query compiled once and run on the driver directly gives the
rows Django gives, and still goes through Django's cursor when queries are watched."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leadbase.accounts.models import User
from leadbase.core.prepared import PreparedValues, _fetcher
from leadbase.leads.models import Lead
from leadbase.leads.selectors import LEAD_OUT_VALUES

pytestmark = pytest.mark.django_db


def lead_values(pk: int, email: str) -> QuerySet[Lead, dict[str, Any]]:
    found: QuerySet[Lead, dict[str, Any]] = (
        Lead.objects.filter(pk=pk, email=email).order_by().values(*LEAD_OUT_VALUES)
    )
    return found[:1]


LEAD = PreparedValues(lead_values, pk=int, email=str)


@pytest.fixture
def lead(make_lead: Callable[..., Lead], rep: User) -> Lead:
    lead = make_lead(
        owner=rep,
        email="zoë@example.com",
        first_name="Zoë",
        company="Acme",
        annual_revenue="1234.50",
        campaign="Launch",
        attributes={"plan": "pro", "nested": {"ok": True}},
    )
    Lead.objects.filter(pk=lead.pk).update(last_activity_at=timezone.now(), total_score=12.5)
    return lead


def test_rows_are_what_values_gives(lead: Lead) -> None:
    row = LEAD.first(pk=lead.pk, email="zoë@example.com")

    assert row == lead_values(lead.pk, "zoë@example.com").get()
    assert row is not None
    assert isinstance(row["created_at"], dt.datetime) and row["created_at"].tzinfo is not None
    assert isinstance(row["company__annual_revenue"], Decimal)
    assert row["attributes"] == {"plan": "pro", "nested": {"ok": True}}
    assert LEAD.first(pk=lead.pk, email="someone@example.com") is None
    assert LEAD.first(pk=lead.pk + 1000, email="zoë@example.com") is None


def test_watched_queries_go_through_djangos_cursor(lead: Lead) -> None:
    direct = LEAD.first(pk=lead.pk, email="zoë@example.com")
    with CaptureQueriesContext(connection) as logged:
        through_django = LEAD.first(pk=lead.pk, email="zoë@example.com")
    seen: list[str] = []

    def wrapper(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
        seen.append(sql)
        return execute(sql, *args)

    with connection.execute_wrapper(wrapper):
        wrapped = LEAD.first(pk=lead.pk, email="zoë@example.com")

    assert direct == through_django == wrapped
    assert len(logged.captured_queries) == 1 and len(seen) == 1


def test_direct_runs_are_unseen_by_query_logging_when_it_is_off(lead: Lead) -> None:
    connection.queries_log.clear()
    assert LEAD.first(pk=lead.pk, email="zoë@example.com") is not None
    assert not connection.queries_log


@pytest.mark.django_db(transaction=True)
def test_rows_still_come_after_the_connection_is_replaced(lead: Lead) -> None:
    assert LEAD.first(pk=lead.pk, email="zoë@example.com") is not None
    connection.close()  # as when CONN_MAX_AGE runs out or a health check fails

    assert (
        LEAD.first(pk=lead.pk, email="zoë@example.com")
        == lead_values(lead.pk, "zoë@example.com").get()
    )


def test_a_broken_transaction_is_refused_as_django_refuses_it(lead: Lead) -> None:
    with transaction.atomic():
        transaction.set_rollback(True)  # as after a failed query inside the block
        with pytest.raises(TransactionManagementError):
            LEAD.first(pk=lead.pk, email="zoë@example.com")


ID_ONLY = ("id",)


def lead_id(pk: int) -> QuerySet[Lead, dict[str, Any]]:
    found: QuerySet[Lead, dict[str, Any]] = Lead.objects.filter(pk=pk).values(*ID_ONLY)
    return found[:1]


def test_database_errors_come_back_as_djangos() -> None:
    prepared = PreparedValues(lead_id, pk=int)
    compiled = prepared._compiled()
    sql = compiled.sql.replace('"id"', '"no_such_column"', 1)
    prepared._local.compiled = replace(compiled, sql=sql, fetch=_fetcher(connection, sql))

    with pytest.raises(DatabaseError) as raised, transaction.atomic():
        prepared.first(pk=1)

    assert type(raised.value).__module__ == "django.db.utils"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_postgresql_prepares_the_statement_once_per_connection(lead: Lead) -> None:
    for _ in range(3):
        assert LEAD.first(pk=lead.pk, email="zoë@example.com") is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [re.sub(r"\$\d+", "%s", statement) for (statement,) in cursor.fetchall()]
    assert statements.count(LEAD._compiled().sql) == 1


def leads_of_owner(owner: int) -> QuerySet[Lead, dict[str, Any]]:
    found: QuerySet[Lead, dict[str, Any]] = (
        Lead.objects.filter(owner_id=owner).order_by("pk").values(*LEAD_OUT_VALUES)
    )
    return found


OWNED = PreparedValues(leads_of_owner, owner=int)


def test_all_gives_every_row_as_values_does(
    lead: Lead, rep: User, make_lead: Callable[..., Lead]
) -> None:
    second = make_lead(owner=rep, email="second@example.com", attributes={"x": [1, 2]})

    rows = OWNED.all(owner=rep.pk)

    assert rows == list(leads_of_owner(rep.pk))
    assert [r["id"] for r in rows] == [lead.pk, second.pk]
    assert rows[1]["attributes"] == {"x": [1, 2]}
    assert rows[0]["created_at"].tzinfo is not None
    assert OWNED.all(owner=rep.pk + 1000) == []
    with pytest.raises(TypeError):
        OWNED.all(owner=rep.pk, extra=1)
