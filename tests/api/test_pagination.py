"""Cursor pagination: every row exactly once, in order, for every sort, while rows are added;
cursors cannot be forged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.core import signing
from django.utils import timezone

from leadbase.accounts.models import User
from leadbase.leads.api import CURSOR_SALT, LEAD_KEYSETS
from leadbase.leads.models import Company, Lead

from .conftest import ApiClient

pytestmark = pytest.mark.django_db

ApiAs = Callable[..., ApiClient]
MakeLead = Callable[..., Lead]
T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def api(api_as: ApiAs, marketer: User) -> ApiClient:
    return api_as(marketer, "read")


@pytest.fixture
def tied_leads(make_lead: MakeLead) -> list[Lead]:
    """13 leads whose scores and activity times tie in runs."""
    leads = [make_lead() for _ in range(13)]
    scores = [50, 50, 50, 10, 10, 10, 10, 0, 0, 75, 50, 10, 0]
    minutes = [5, 5, 0, 1, 1, 1, 0, 9, 9, 5, 0, 3, 1]
    for lead, score, minute in zip(leads, scores, minutes, strict=True):
        activity = T0 + dt.timedelta(minutes=minute)
        Lead.objects.filter(pk=lead.pk).update(total_score=score, last_activity_at=activity)
    return list(Lead.objects.all())


def _expected_order(leads: list[Lead], sort: str) -> list[int]:
    """The order each sort promises: by the column (NULLs last), ties broken by id, both in
    the sort's direction."""
    keyset = LEAD_KEYSETS[sort]
    sign = -1 if keyset.descending else 1

    def key(lead: Lead) -> tuple[Any, ...]:
        if keyset.column is None:
            return (sign * lead.pk,)
        value = getattr(lead, keyset.column)
        if value is None:
            return (1, 0, sign * lead.pk)
        number = value.timestamp() if isinstance(value, dt.datetime) else value
        return (0, sign * number, sign * lead.pk)

    return [lead.pk for lead in sorted(leads, key=key)]


def _walk_ids(api: ApiClient, params: dict[str, Any]) -> list[int]:
    return [item["id"] for page in api.walk("/leads", params) for item in page.body["items"]]


@pytest.mark.parametrize("sort", sorted(LEAD_KEYSETS))
@pytest.mark.parametrize("limit", [1, 2, 3, 5, 13, 500])
def test_walking_the_pages_returns_every_lead_exactly_once_in_order(
    api: ApiClient, tied_leads: list[Lead], sort: str, limit: int
) -> None:
    ids = _walk_ids(api, {"sort": sort, "limit": limit})

    assert len(ids) == len(set(ids)) == len(tied_leads)
    assert ids == _expected_order(tied_leads, sort)


def test_pages_have_the_requested_size_and_the_last_one_has_no_next(
    api: ApiClient, make_lead: MakeLead
) -> None:
    for _ in range(5):
        make_lead()

    pages = list(api.walk("/leads", {"limit": 2}))

    assert [len(p.body["items"]) for p in pages] == [2, 2, 1]
    assert [p.body["next"] is None for p in pages] == [False, False, True]


def test_exact_multiple_of_the_limit_ends_without_an_empty_page(
    api: ApiClient, make_lead: MakeLead
) -> None:
    for _ in range(4):
        make_lead()

    pages = list(api.walk("/leads", {"limit": 2}))

    assert [len(p.body["items"]) for p in pages] == [2, 2]


@pytest.mark.parametrize("sort", ["-created_at", "-total_score", "-last_activity_at"])
def test_leads_added_while_paging_neither_repeat_nor_hide_existing_ones(
    api: ApiClient, tied_leads: list[Lead], make_lead: MakeLead, sort: str
) -> None:
    expected = set(_expected_order(tied_leads, sort))
    first = api.get("/leads", {"sort": sort, "limit": 4})
    seen = [item["id"] for item in first.body["items"]]
    for score in (100, 50, 10, 0):  # new leads landing before, inside and after the cursor
        new = make_lead()
        Lead.objects.filter(pk=new.pk).update(total_score=score, last_activity_at=T0)

    cursor = first.body["next"]
    while cursor:
        page = api.get("/leads", {"sort": sort, "limit": 4, "cursor": cursor})
        seen += [item["id"] for item in page.body["items"]]
        cursor = page.body["next"]

    assert len(seen) == len(set(seen))
    assert expected <= set(seen)


def test_filters_apply_on_every_page(api: ApiClient, make_lead: MakeLead) -> None:
    hot = [make_lead() for _ in range(5)]
    for _ in range(5):
        make_lead()
    Lead.objects.filter(pk__in=[lead.pk for lead in hot]).update(temperature="hot")

    ids = _walk_ids(api, {"temperature": "hot", "limit": 2})

    assert sorted(ids) == sorted(lead.pk for lead in hot)


def _a_cursor(api: ApiClient, make_lead: MakeLead, **params: Any) -> str:
    for _ in range(3):
        make_lead()
    cursor = api.get("/leads", {"limit": 1, **params}).body["next"]
    assert isinstance(cursor, str)
    return cursor


def test_tampered_cursor_is_400_with_a_clear_message(api: ApiClient, make_lead: MakeLead) -> None:
    cursor = _a_cursor(api, make_lead)
    signature = cursor.rpartition(":")[2]
    forged = signing.dumps({"sort": "-created_at", "v": None, "id": 10**6})
    tampered = [
        cursor[:-1] + ("A" if cursor[-1] != "A" else "B"),
        cursor[:-10],
        forged,  # signed, but not with the cursor salt
        f"{forged.rpartition(':')[0]}:{signature}",  # someone else's payload, our signature
        "junk",
        "",
        "ünïcödé:ßig",
    ]

    for bad in tampered:
        reply = api.get("/leads", {"limit": 1, "cursor": bad})
        if bad == "":
            assert reply.status == HTTPStatus.OK  # an empty cursor means the first page
            continue
        assert reply.status == HTTPStatus.BAD_REQUEST, bad
        assert "cursor" in reply.detail
        assert "cursor" in reply.errors


def test_cursor_of_one_sort_is_refused_for_another(api: ApiClient, make_lead: MakeLead) -> None:
    cursor = _a_cursor(api, make_lead, sort="-total_score")

    reply = api.get("/leads", {"sort": "-last_activity_at", "cursor": cursor})

    assert reply.status == HTTPStatus.BAD_REQUEST
    assert "-total_score" in reply.detail


@pytest.mark.parametrize(
    "payload",
    [
        {"sort": "-total_score", "v": "high", "id": 1},
        {"sort": "-total_score", "v": 1.0, "id": "1"},
        {"sort": "-total_score", "v": None, "id": 1},
        {"sort": "-last_activity_at", "v": "yesterday", "id": 1},
        ["-created_at", 1],
    ],
)
def test_signed_but_malformed_cursor_is_400_not_a_crash(api: ApiClient, payload: Any) -> None:
    cursor = signing.dumps(payload, salt=CURSOR_SALT)
    sort = payload["sort"] if isinstance(payload, dict) else "-created_at"

    reply = api.get("/leads", {"sort": sort, "cursor": cursor})

    assert reply.status == HTTPStatus.BAD_REQUEST
    assert "cursor" in reply.errors


def test_cursor_is_opaque(api: ApiClient, make_lead: MakeLead) -> None:
    cursor = _a_cursor(api, make_lead, sort="-total_score")

    assert "total_score" not in cursor


def test_rep_pages_only_through_own_leads(
    api_as: ApiAs, rep: User, other_rep: User, make_lead: MakeLead
) -> None:
    own = [make_lead(owner=rep) for _ in range(5)]
    for _ in range(5):
        make_lead(owner=other_rep)

    ids = _walk_ids(api_as(rep), {"limit": 2})

    assert ids == [lead.pk for lead in reversed(own)]


# --- Companies ---------------------------------------------------------------------------


def test_companies_walk_every_company_once_newest_first_and_by_name(api: ApiClient) -> None:
    names = ["Delta", "alpha", "Charlie", "bravo", "Alpha", "Echo", "echo"]
    companies = [Company.objects.create(name=name) for name in names]

    newest = [i["id"] for p in api.walk("/companies", {"limit": 2}) for i in p.body["items"]]
    by_name = [
        i["id"]
        for p in api.walk("/companies", {"limit": 3, "sort": "name"})
        for i in p.body["items"]
    ]

    assert newest == [c.pk for c in reversed(companies)]
    assert len(by_name) == len(set(by_name)) == len(companies)
    assert by_name == [c.pk for c in Company.objects.order_by("name", "id")]


def test_company_search_and_detail(api: ApiClient, make_lead: MakeLead) -> None:
    make_lead(email="ann@acme.example", company="Acme Tools")
    make_lead(email="bo@globex.example", company="Globex")
    acme = Company.objects.get(domain="acme.example")

    found = api.get("/companies", {"q": "acme"})
    detail = api.get(f"/companies/{acme.pk}")

    assert [c["id"] for c in found.body["items"]] == [acme.pk]
    assert detail.status == HTTPStatus.OK
    assert detail.body["name"] == "Acme Tools"
    assert detail.body["domain"] == "acme.example"


def test_unknown_company_is_404(api: ApiClient) -> None:
    assert api.get("/companies/31337").status == HTTPStatus.NOT_FOUND


def test_company_cursor_cannot_be_used_for_leads(api: ApiClient) -> None:
    for name in ("A", "B"):
        Company.objects.create(name=name)
    cursor = api.get("/companies", {"limit": 1}).body["next"]

    reply = api.get("/leads", {"cursor": cursor})

    assert reply.status == HTTPStatus.BAD_REQUEST


def test_timestamps_in_cursors_keep_microseconds(api: ApiClient, make_lead: MakeLead) -> None:
    leads = [make_lead() for _ in range(3)]
    base = timezone.now().replace(microsecond=123456)
    for lead in leads:  # all within the same millisecond
        Lead.objects.filter(pk=lead.pk).update(
            last_activity_at=base + dt.timedelta(microseconds=lead.pk)
        )

    ids = _walk_ids(api, {"sort": "-last_activity_at", "limit": 1})

    assert ids == [lead.pk for lead in reversed(leads)]
