"""insert_rows / update_rows store exactly what the ORM stores, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, models, transaction
from django.utils import timezone

from leadbase.accounts.models import Role, User
from leadbase.core.fastinsert import in_values, insert_rows, update_rows
from leadbase.leads.models import (
    Campaign,
    Company,
    Consent,
    DuplicateSuggestion,
    Event,
    Lead,
)

pytestmark = pytest.mark.django_db

KOLKATA = ZoneInfo("Asia/Kolkata")
TIMESTAMPS = {"created_at", "updated_at"}


def stored(model: type[models.Model], pk: int, *, skip: set[str] = TIMESTAMPS) -> dict[str, str]:
    """The row as the database holds it: every column's storage class (SQLite) and text."""
    columns = [
        f.column
        for f in model._meta.concrete_fields
        if not f.primary_key and f.column and f.column not in skip
    ]
    pk_column = model._meta.pk.column
    assert pk_column is not None
    quote = connection.ops.quote_name
    if connection.vendor == "sqlite":
        shown = [
            f"typeof({quote(c)}) || ':' || coalesce(CAST({quote(c)} AS TEXT), '')" for c in columns
        ]
    else:
        shown = [f"coalesce({quote(c)}::text, 'NULL')" for c in columns]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(shown)} FROM {quote(model._meta.db_table)} "  # noqa: S608
            f"WHERE {quote(pk_column)} = %s",
            [pk],
        )
        row = cursor.fetchone()
    return dict(zip(columns, row, strict=True))


def orm_twin(model: type[models.Model], values: dict[str, Any]) -> int:
    model._default_manager.bulk_create([model(**values)])
    return orm_twin_pk(model)


def assert_same_row(model: type[models.Model], values: dict[str, Any]) -> int:
    """Insert `values` with insert_rows, then (that row deleted, for unique columns) with
    bulk_create: both rows hold the same, bar the id and the automatic timestamps."""
    before = timezone.now()
    [pk] = insert_rows(model, [values], return_ids=True)
    after = timezone.now()
    ours = stored(model, pk)
    obj = model._default_manager.get(pk=pk)
    for name in TIMESTAMPS & {f.name for f in model._meta.concrete_fields}:
        assert before <= getattr(obj, name) <= after
    model._default_manager.filter(pk=pk).delete()
    assert ours == stored(model, orm_twin(model, values))
    return orm_twin_pk(model)


def orm_twin_pk(model: type[models.Model]) -> int:
    last = model._default_manager.order_by("-pk").first()
    assert last is not None
    return int(last.pk)


@pytest.fixture
def owner() -> User:
    return User.objects.create(username="olga", role=Role.SALES_REP)


def test_every_kind_of_lead_column_round_trips(owner: User) -> None:
    company = Company.objects.create(domain="acme.example", name="Acme")
    campaign = Campaign.objects.create(name="spring")
    referrer = Lead.objects.create(email="ref@acme.example")
    at = dt.datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=KOLKATA)
    values = {
        "email": "zoë@acme.example",
        "first_name": "Zoë",
        "last_name": "Łukasz 李",
        "job_title": "CTO\tand\nfounder",
        "company_id": company.pk,
        "campaign_id": campaign.pk,
        "referred_by_id": referrer.pk,
        "owner_id": owner.pk,
        "lifecycle_stage": "mql",
        "fit_score": 12.5,
        "total_score": 3,  # an int for a float column: converted as the ORM does
        "predicted_probability": None,
        "became_mql_at": at,
        "became_lead_at": at.astimezone(dt.UTC),
        "last_activity_at": at,
        "archived": True,
        "attributes": {"名前": "Zoë", "n": 1.5, "flags": [True, None, 0], "deep": {"ß": "ü"}},
        "search_text": "zoë łukasz 李",
    }
    lead = Lead.objects.get(pk=assert_same_row(Lead, values))
    assert lead.attributes == values["attributes"]
    assert lead.became_mql_at == at
    assert lead.archived is True
    assert (lead.company_id, lead.owner_id, lead.referred_by_id) == (
        company.pk,
        owner.pk,
        referrer.pk,
    )


def test_missing_columns_get_their_defaults() -> None:
    before = timezone.now()
    lead = Lead.objects.get(
        pk=assert_same_row(Lead, {"email": "a@acme.example", "last_activity_at": before})
    )
    assert (lead.lifecycle_stage, lead.sales_status, lead.temperature) == ("lead", "new", "cold")
    assert lead.attributes == {} and lead.archived is False and lead.company_id is None
    [pk] = insert_rows(Lead, [{"email": "b@acme.example"}], return_ids=True)
    assert before <= Lead.objects.get(pk=pk).last_activity_at <= timezone.now()  # callable


def test_decimals_integers_dates_and_ip_addresses_round_trip() -> None:
    assert_same_row(
        Company,
        {
            "name": "Ünïcode GmbH",
            "domain": "xn--nicode-2ya.example",
            "employee_count": 250,
            "annual_revenue": Decimal("12345678901.25"),
            "country": "DE",
        },
    )
    assert_same_row(
        Campaign,
        {"name": "autumn", "cost": Decimal("0.10"), "starts_on": dt.date(2026, 9, 1)},
    )
    lead = Lead.objects.create(email="c@acme.example")
    assert_same_row(
        Consent,
        {
            "lead_id": lead.pk,
            "purpose": "newsletter",
            "status": "granted",
            "text_shown": "Yes, send me news.\n— «ok»",
            "recorded_at": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            "ip_address": "2001:db8::1",
            "confirmed_at": None,
        },
    )
    assert_same_row(
        Event,
        {
            "lead_id": lead.pk,
            "type": "page_view",
            "occurred_at": dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=KOLKATA),
            "properties": ["ünï", {"a": None}],
        },
    )


def test_ids_come_in_row_order_and_are_never_handed_out_twice() -> None:
    rows = [{"email": f"p{i}@acme.example"} for i in range(5)]
    ids = insert_rows(Lead, rows, return_ids=True)
    assert ids == sorted(set(ids))
    assert [Lead.objects.get(pk=pk).email for pk in ids] == [r["email"] for r in rows]
    assert Lead.objects.create(email="next@acme.example").pk > ids[-1]
    Lead.objects.filter(pk__gte=ids[-1]).delete()  # the newest ids are free again...
    [again] = insert_rows(Lead, [{"email": "later@acme.example"}], return_ids=True)
    assert again > ids[-1] + 1  # ...but not reused (AUTOINCREMENT, sequences)


def test_rows_without_ids_and_conflicts_ignored() -> None:
    a, b = (Lead.objects.create(email=f"{n}@acme.example") for n in "ab")
    pair = {"lead_id": a.pk, "candidate_id": b.pk, "reason": "same name"}
    assert insert_rows(DuplicateSuggestion, [pair]) == []
    insert_rows(DuplicateSuggestion, [pair, {**pair, "lead_id": b.pk}], ignore_conflicts=True)
    assert DuplicateSuggestion.objects.count() == 2
    lead = {"email": "a@acme.example", "attributes": {"ü": [1]}, "archived": True}
    insert_rows(Lead, [lead, {**lead, "email": "c@acme.example"}], ignore_conflicts=True)
    assert Lead.objects.get(email="c@acme.example").attributes == {"ü": [1]}
    assert Lead.objects.get(email="a@acme.example").archived is False  # kept as it was


def test_unknown_and_automatic_columns_are_refused() -> None:
    with pytest.raises(ValueError, match="no writable column 'company'"):
        insert_rows(Lead, [{"company": None}])
    with pytest.raises(ValueError, match="time of the write"):
        insert_rows(Lead, [{"email": "a@acme.example", "created_at": timezone.now()}])
    with pytest.raises(ValueError, match="return_ids and ignore_conflicts"):
        insert_rows(Lead, [{}], return_ids=True, ignore_conflicts=True)


def test_update_rows_writes_what_save_writes(owner: User) -> None:
    company = Company.objects.create(domain="acme.example")
    mine, theirs = (Lead.objects.create(email=f"{n}@acme.example") for n in "ab")
    at = dt.datetime(2026, 5, 6, 7, 8, 9, 10, tzinfo=KOLKATA)
    changes = {
        "city": "Zürich",
        "attributes": {"plan": "prö", "seats": [1, 2]},
        "became_mql_at": at,
        "archived": True,
        "fit_score": 7.25,
        "company_id": company.pk,
        "owner_id": owner.pk,
        "predicted_probability": None,
    }
    before = timezone.now()
    with transaction.atomic():
        update_rows(Lead, [*changes, "updated_at"], [(mine.pk, *changes.values())])
    for name, value in changes.items():
        setattr(theirs, name, value)
    theirs.save(update_fields=[*changes, "updated_at"])
    skip = {"email", "search_text", "last_activity_at", "created_at", "updated_at"}
    assert stored(Lead, mine.pk, skip=skip) == stored(Lead, theirs.pk, skip=skip)
    mine.refresh_from_db()
    assert mine.attributes == changes["attributes"] and mine.became_mql_at == at
    assert before <= mine.updated_at <= timezone.now()


def test_update_rows_many_rows_and_nulls() -> None:
    leads = [Lead.objects.create(email=f"u{i}@acme.example", city="Lyon") for i in range(3)]
    update_rows(Lead, ["city", "became_sql_at"], [(lead.pk, f"C{lead.pk}", None) for lead in leads])
    assert {lead.city for lead in Lead.objects.all()} == {f"C{lead.pk}" for lead in leads}
    with pytest.raises(ValueError, match="expected 2 values"):
        update_rows(Lead, ["city", "became_sql_at"], [(leads[0].pk, "x")])


def test_in_values_selects_by_long_lists_of_text_or_ids() -> None:
    leads = [Lead.objects.create(email=f"in{i}@acme.example") for i in range(4)]
    emails = [f"in{i}@acme.example" for i in range(0, 4, 2)] + ["nobody@acme.example"]
    found = Lead.objects.filter(email__in=in_values(Lead, "email", emails))
    assert sorted(found.values_list("email", flat=True)) == sorted(emails[:2])
    ids = [lead.pk for lead in leads[1:]]
    assert set(Lead.objects.filter(pk__in=in_values(Lead, "id", ids))) == set(leads[1:])
    assert not Lead.objects.filter(pk__in=in_values(Lead, "id", []))


def test_too_long_values_fail_or_pass_as_with_the_orm() -> None:
    """PostgreSQL refuses a value longer than the column (SQLite keeps it): never cut short."""
    lead = Lead.objects.create(email="long@acme.example")
    long_city = "x" * 150  # the column takes 100

    def outcome(write: Any) -> str:
        try:
            with transaction.atomic():
                write()
        except Exception as exc:  # the kind of failure is what is compared
            return type(exc).__name__
        return Lead.objects.get(pk=lead.pk).city

    ours = outcome(lambda: update_rows(Lead, ["city"], [(lead.pk, long_city)]))
    orm = outcome(lambda: Lead.objects.filter(pk=lead.pk).update(city=long_city))
    assert ours == orm
    longest = Lead.objects.create(email="e" * 254)  # the column's length
    assert not Lead.objects.filter(email__in=in_values(Lead, "email", [longest.email + "!"]))


def test_update_rows_sets_a_creation_time_only_when_given() -> None:
    lead = Lead.objects.create(email="t@acme.example")
    then = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    update_rows(Lead, ["created_at"], [(lead.pk, then)])  # auto_now_add: a value like any
    lead.refresh_from_db()
    assert lead.created_at == then
