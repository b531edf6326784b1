"""/capture/export: the lead list as filtered, as CSV or XLSX, read back and checked."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from leadbase.accounts.models import User
from leadbase.capture.exports import HEADERS
from leadbase.leads import selectors
from leadbase.leads.models import Lead

from .conftest import HOSTILE, body, emails, login_as, read_csv, read_xlsx

pytestmark = pytest.mark.django_db
URL = reverse("capture:export")


def export(client: Client, fmt: str, **params: str) -> list[dict[str, Any]]:
    response = client.get(URL, {"format": fmt, **params})
    assert response.status_code == HTTPStatus.OK, getattr(response, "content", b"")[:1000]
    assert response.streaming
    assert response["Content-Disposition"].startswith('attachment; filename="leads-')
    assert response["Content-Disposition"].endswith(f'.{fmt}"')
    assert "no-store" in response["Cache-Control"]
    data = body(response)
    return read_csv(data) if fmt == "csv" else read_xlsx(data)


@pytest.fixture
def leads(make_lead: Callable[..., Lead], rep: User, other_rep: User) -> dict[str, Lead]:
    def lead(owner: User | None, email: str, **fields: Any) -> Lead:
        made = make_lead(owner=owner, email=email, company="Acme", company_domain="acme.example")
        if fields:
            Lead.objects.filter(pk=made.pk).update(**fields)
            made.refresh_from_db()
        return made

    return {
        "hot": lead(rep, "hot@acme.example", temperature="hot", total_score=90, first_name="Hal"),
        "warm": lead(other_rep, "warm@acme.example", temperature="warm", total_score=50),
        "cold": lead(None, "cold@acme.example", temperature="cold", total_score=5),
    }


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_column_and_the_values_of_a_lead(
    leads: dict[str, Lead], admin_user: User, rep: User, fmt: str
) -> None:
    rows = export(login_as(admin_user), fmt)
    assert list(rows[0]) == list(HEADERS)
    hot = next(row for row in rows if row["email"] == "hot@acme.example")
    assert hot["company"] == "Acme" and hot["company_domain"] == "acme.example"
    assert hot["owner"] == rep.username
    assert hot["temperature"] == "hot" and hot["lifecycle_stage"] == "lead"
    assert hot["first_name"] == "Hal"
    assert float(hot["total_score"]) == 90
    assert hot["archived"] == "false"
    lead = leads["hot"]
    assert hot["created_at"] == lead.created_at.isoformat(timespec="seconds")
    assert hot["created_at"].endswith("+00:00")
    assert hot["id"] in (str(lead.pk), lead.pk, float(lead.pk))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_formulas_are_neutralised_and_other_values_kept(
    hostile_lead: Lead, rep: User, fmt: str
) -> None:
    [row] = export(login_as(rep), fmt)

    for field in ("first_name", "last_name", "job_title", "department", "city", "region"):
        assert row[field] == "'" + HOSTILE[field], field
    assert row["utm_campaign"] == "'" + HOSTILE["utm_campaign"]
    assert row["company"] == "'=cmd|' /C calc'!A0"
    # Not formulas: kept exactly (markup too: a spreadsheet is not HTML).
    assert row["source_detail"] == "<script>alert('x')</script>"
    assert row["utm_term"] == "Zoë 李 🚀"
    assert row["attributes"] == '{"note": "=1+1", "x": [1]}'
    # A real negative number stays a number.
    if fmt == "xlsx":
        assert row["total_score"] == -5.0 and row["fit_score"] == -7.5
    else:
        assert row["total_score"] == "-5.0" and row["fit_score"] == "-7.5"
    numeric = {"total_score", "fit_score"}
    for name, value in row.items():
        if isinstance(value, str) and name not in numeric:
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r", "\uff1d")), value


def test_the_csv_keeps_line_breaks_and_commas_inside_one_cell(
    hostile_lead: Lead, rep: User
) -> None:
    response = login_as(rep).get(URL, {"format": "csv"})
    data = body(response)
    assert data.count(b"\r\n") >= 2  # header and row end; the line break inside is quoted
    [row] = read_csv(data)
    assert row["job_title"] == '\'-2+3\nsecond line, with "quotes"'


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_rep_exports_only_their_own_leads(
    leads: dict[str, Lead], rep: User, other_rep: User, fmt: str
) -> None:
    assert emails(export(login_as(rep), fmt)) == ["hot@acme.example"]
    assert emails(export(login_as(other_rep), fmt)) == ["warm@acme.example"]
    # A rep cannot widen it with the owner filter of the list.
    assert emails(export(login_as(rep), fmt, owner=str(other_rep.pk))) == ["hot@acme.example"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["cold@acme.example", "warm@acme.example", "hot@acme.example"]),
        ({"temperature": "hot"}, ["hot@acme.example"]),
        ({"min_score": "10", "sort": "-total_score"}, ["hot@acme.example", "warm@acme.example"]),
        ({"owner": "unassigned"}, ["cold@acme.example"]),
        ({"q": "warm"}, ["warm@acme.example"]),
        ({"sort": "total_score"}, ["cold@acme.example", "warm@acme.example", "hot@acme.example"]),
        ({"page": "3"}, ["cold@acme.example", "warm@acme.example", "hot@acme.example"]),
    ],
)
def test_the_lead_lists_filters_and_order_apply(
    leads: dict[str, Lead], marketer: User, params: dict[str, str], expected: list[str]
) -> None:
    assert emails(export(login_as(marketer), "csv", **params)) == expected


def test_the_export_matches_the_lead_list_selector(
    leads: dict[str, Lead], admin_user: User
) -> None:
    rows = export(login_as(admin_user), "xlsx", stage="lead", sort="-total_score")
    filters = selectors.LeadFilters(stage="lead", sort="-total_score")
    expected = selectors.lead_list(user=admin_user, filters=filters)
    assert emails(rows) == [lead.email for lead in expected]


def test_the_owner_filter_takes_a_user(leads: dict[str, Lead], admin_user: User, rep: User) -> None:
    assert emails(export(login_as(admin_user), "csv", owner=str(rep.pk))) == ["hot@acme.example"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"format": "pdf"}, b"is not a format Leadbase exports"),
        ({"format": "<b>x</b>"}, b"&lt;b&gt;x&lt;/b&gt;"),
        ({"temperature": "boiling"}, b"Select a valid choice"),
        ({"min_score": "abc"}, b"Enter a number"),
        ({"min_score": "9", "max_score": "1"}, b"Max score must not be below min score"),
        ({"stage": "<script>alert(1)</script>"}, b"Select a valid choice"),
    ],
)
def test_bad_format_or_filters_answer_400_saying_what_to_fix(
    leads: dict[str, Lead], admin_user: User, params: dict[str, str], message: bytes
) -> None:
    response = login_as(admin_user).get(URL, params)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert message in response.content
    assert b"<script>alert(1)" not in response.content


def test_export_needs_login(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == HTTPStatus.FOUND
    assert "/accounts/login" in response["Location"]


def test_the_lead_list_links_to_the_export_with_its_filters(
    leads: dict[str, Lead], admin_user: User
) -> None:
    client = login_as(admin_user)
    for headers in ({}, {"HX-Request": "true"}):
        page = client.get(
            reverse("leads:list"), {"temperature": "hot", "page": "1"}, headers=headers
        )
        html = page.content.decode()
        assert f'href="{URL}?temperature=hot&amp;format=csv"' in html, html[:3000]
        assert f'href="{URL}?temperature=hot&amp;format=xlsx"' in html
