"""The lead list at /: filters, search, sorting, paging, HTMX partials and isolation."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from leadbase.accounts.models import User
from leadbase.leads.models import Lead

from .conftest import LeadFactory

pytestmark = pytest.mark.django_db
Login = Callable[[User], Client]
URL = reverse("leads:list")
HTMX = {"HX-Request": "true"}
DASH = "\N{EN DASH}"  # the page writes number ranges with an en dash


def names(html: str) -> list[str]:
    """The lead names linked from the table, in order."""
    return re.findall(r'<td class="col-name"><a href="/leads/\d+/">([^<]*)</a>', html)


def page(client: Client, **params: str) -> str:
    response = client.get(URL, params)
    assert response.status_code == 200, response.content[:2000]
    return response.text


@pytest.fixture
def leads(lead_with: LeadFactory, rep: User, other_rep: User) -> dict[str, Lead]:
    return {
        "anna": lead_with(
            rep,
            email="anna@acme.example",
            first_name="Anna",
            last_name="Berg",
            company="Acme",
            source_channel="paid_search",
            fields={
                "total_score": 82,
                "fit_score": 50,
                "engagement_score": 32,
                "temperature": "hot",
                "qualification": "sql",
                "lifecycle_stage": "sql",
            },
        ),
        "bob": lead_with(
            other_rep,
            email="bob@globex.example",
            first_name="Bob",
            last_name="Stone",
            company="Globex",
            source_channel="email",
            fields={"total_score": 45, "temperature": "warm", "qualification": "mql"},
        ),
        "cleo": lead_with(
            None,
            email="cleo@initech.example",
            first_name="Cleo",
            last_name="Park",
            company="Initech",
            source_channel="event",
            fields={"total_score": 10, "temperature": "cold", "lifecycle_stage": "subscriber"},
        ),
    }


# --- Access -------------------------------------------------------------------------------


def test_login_required(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={URL}"


def test_rep_sees_only_own_leads_and_no_owner_filter(
    login: Login, rep: User, leads: dict[str, Lead]
) -> None:
    html = page(login(rep))
    assert names(html) == ["Anna Berg"]
    assert 'name="owner"' not in html
    assert "assigned to you" in html
    # Asking for someone else's leads by owner id gives nothing more.
    assert names(page(login(rep), owner=str(leads["bob"].owner_id))) == ["Anna Berg"]


def test_admin_sees_all_leads_newest_first(
    login: Login, admin_user: User, leads: dict[str, Lead]
) -> None:
    html = page(login(admin_user))
    assert names(html) == ["Cleo Park", "Bob Stone", "Anna Berg"]
    assert f"Showing 1{DASH}3 of <strong>3</strong> leads" in html


# --- Search and filters ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("anna", ["Anna Berg"]),  # name
        ("BOB@GLOBEX", ["Bob Stone"]),  # email, any case
        ("initech", ["Cleo Park"]),  # company
        ("  park   cleo ", ["Cleo Park"]),  # every word must match, in any order
        ("park anna", []),
        ("nobody", []),
    ],
)
def test_search(
    login: Login, marketer: User, leads: dict[str, Lead], q: str, expected: list[str]
) -> None:
    html = page(login(marketer), q=q)
    assert names(html) == expected
    if not expected:
        assert "No leads match these filters." in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"stage": "sql"}, ["Anna Berg"]),
        ({"stage": "subscriber"}, ["Cleo Park"]),
        ({"temperature": "warm"}, ["Bob Stone"]),
        ({"qualification": "mql"}, ["Bob Stone"]),
        ({"qualification": "none"}, ["Cleo Park"]),
        ({"qualification": "none", "temperature": "cold"}, ["Cleo Park"]),
        ({"owner": "unassigned"}, ["Cleo Park"]),
        ({"source": "paid_search"}, ["Anna Berg"]),
        ({"min_score": "40"}, ["Bob Stone", "Anna Berg"]),
        ({"max_score": "45"}, ["Cleo Park", "Bob Stone"]),
        ({"min_score": "11", "max_score": "82"}, ["Bob Stone", "Anna Berg"]),
        ({"min_score": "40", "temperature": "hot"}, ["Anna Berg"]),
        # blank values mean "any" (what a plain GET form sends)
        ({"q": "", "stage": "", "owner": "", "min_score": "", "sort": ""}, None),
    ],
)
def test_filters(
    login: Login,
    viewer: User,
    leads: dict[str, Lead],
    params: dict[str, str],
    expected: list[str] | None,
) -> None:
    html = page(login(viewer), **params)
    assert names(html) == (expected or ["Cleo Park", "Bob Stone", "Anna Berg"])


def test_not_qualified_is_a_qualification_choice(
    login: Login, marketer: User, leads: dict[str, Lead]
) -> None:
    html = page(login(marketer))
    assert '<option value="none">Not qualified</option>' in html
    html = page(login(marketer), qualification="none")
    assert '<option value="none" selected>Not qualified</option>' in html
    assert names(html) == ["Cleo Park"]
    assert names(page(login(marketer), qualification="none", temperature="hot")) == []


def test_owner_filter_lists_users(
    login: Login, admin_user: User, rep: User, leads: dict[str, Lead]
) -> None:
    html = page(login(admin_user), owner=str(rep.pk))
    assert names(html) == ["Anna Berg"]
    assert f'<option value="{rep.pk}" selected>rob</option>' in html
    assert '<option value="unassigned">Unassigned</option>' in html


def test_filters_are_kept_in_the_form(
    login: Login, admin_user: User, leads: dict[str, Lead]
) -> None:
    html = page(login(admin_user), q="anna", temperature="hot", min_score="5")
    assert 'value="anna"' in html
    assert '<option value="hot" selected>Hot</option>' in html
    assert 'name="min_score" value="5"' in html


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("-total_score", ["Anna Berg", "Bob Stone", "Cleo Park"]),
        ("total_score", ["Cleo Park", "Bob Stone", "Anna Berg"]),
        ("created_at", ["Anna Berg", "Bob Stone", "Cleo Park"]),
        ("-created_at", ["Cleo Park", "Bob Stone", "Anna Berg"]),
    ],
)
def test_sort(
    login: Login, admin_user: User, leads: dict[str, Lead], sort: str, expected: list[str]
) -> None:
    assert names(page(login(admin_user), sort=sort)) == expected


def test_sort_by_last_activity(login: Login, admin_user: User, lead_with: LeadFactory) -> None:
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    for name, days in [("Old", 30), ("Recent", 1), ("Middle", 10)]:
        lead_with(first_name=name, fields={"last_activity_at": now - timedelta(days=days)})
    client = login(admin_user)
    assert names(page(client, sort="-last_activity_at")) == ["Recent", "Middle", "Old"]
    html = page(client, sort="last_activity_at")
    assert names(html) == ["Old", "Middle", "Recent"]
    assert 'aria-sort="ascending"' in html


def test_column_header_links_toggle_the_sort(
    login: Login, admin_user: User, leads: dict[str, Lead]
) -> None:
    html = page(login(admin_user), sort="-total_score", q="a")
    assert 'aria-sort="descending"' in html
    assert 'href="/?sort=total_score&amp;q=a"' in html  # the next click sorts ascending
    assert 'href="/?sort=-last_activity_at&amp;q=a"' in html


# --- Paging ---------------------------------------------------------------------------------


def test_pagination(login: Login, admin_user: User, lead_with: LeadFactory) -> None:
    for number in range(53):
        lead_with(first_name=f"P{number:02d}")
    client = login(admin_user)
    first = page(client)
    assert len(names(first)) == 50
    assert names(first)[0] == "P52"
    assert f"Showing 1{DASH}50 of <strong>53</strong> leads" in first
    assert 'href="/?page=2"' in first
    assert 'aria-current="page">1<' in first
    second = page(client, page="2")
    assert names(second) == ["P02", "P01", "P00"]
    assert f"Showing 51{DASH}53 of" in second
    # Out of range or nonsense page numbers show the nearest real page, never an error.
    assert names(page(client, page="999")) == names(second)
    assert names(page(client, page="abc")) == names(first)


def test_page_links_keep_the_filters(
    login: Login, admin_user: User, lead_with: LeadFactory
) -> None:
    for number in range(51):
        lead_with(first_name=f"Hot{number}", fields={"temperature": "hot"})
    html = page(login(admin_user), temperature="hot", page="1")
    assert 'href="/?temperature=hot&amp;page=2"' in html


# --- HTMX -----------------------------------------------------------------------------------


def test_htmx_request_gets_only_the_results(
    login: Login, admin_user: User, leads: dict[str, Lead]
) -> None:
    response = login(admin_user).get(URL, {"q": "bob"}, headers=HTMX)
    assert response.status_code == 200
    html = response.text
    assert "<html" not in html
    assert "<form" not in html
    assert 'id="results"' not in html  # the container stays; only its content is replaced
    assert names(html) == ["Bob Stone"]
    assert "HX-Request" in response["Vary"]


def test_full_page_has_the_htmx_form_and_results_region(
    login: Login, admin_user: User, leads: dict[str, Lead]
) -> None:
    html = page(login(admin_user))
    assert "<html" in html
    assert 'hx-get="/"' in html
    assert 'hx-trigger="input changed delay:300ms, change, submit"' in html
    assert 'hx-target="#results"' in html
    assert 'hx-push-url="true"' in html
    assert '<section id="results" class="results" aria-live="polite"' in html
    assert 'method="get" action="/"' in html  # works as a plain form without JavaScript


def test_history_restore_gets_the_whole_page(
    login: Login, admin_user: User, leads: dict[str, Lead]
) -> None:
    headers = {**HTMX, "HX-History-Restore-Request": "true"}
    response = login(admin_user).get(URL, headers=headers)
    assert "<html" in response.text


# --- Invalid filters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"min_score": "abc"}, "<strong>Min score:</strong> Enter a number."),
        ({"max_score": "1e999"}, "<strong>Max score:</strong> Enter a number."),
        ({"min_score": "nan"}, "<strong>Min score:</strong> Enter a number."),
        ({"stage": "bogus"}, "<strong>Stage:</strong> Select a valid choice. bogus is not"),
        ({"temperature": "lukewarm"}, "<strong>Temperature:</strong> Select a valid choice."),
        ({"owner": "99999"}, "<strong>Owner:</strong> Select a valid choice."),
        ({"owner": "nobody"}, "<strong>Owner:</strong> Select a valid choice."),
        ({"sort": "password"}, "<strong>Sort by:</strong> Select a valid choice."),
        ({"source": "carrier pigeon"}, "<strong>Source:</strong> Select a valid choice."),
        (
            {"min_score": "50", "max_score": "10"},
            "<strong>Max score:</strong> Max score must not be below min score.",
        ),
        ({"q": "x" * 201}, "<strong>Search:</strong> Ensure this value has at most 200"),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_invalid_filters_answer_400_with_the_reason(
    login: Login,
    admin_user: User,
    leads: dict[str, Lead],
    params: dict[str, str],
    message: str,
    htmx: bool,
) -> None:
    response = login(admin_user).get(URL, params, headers=HTMX if htmx else {})
    assert response.status_code == 400
    html = response.text
    assert "These filters could not be applied" in html
    assert message in html
    assert names(html) == []
    assert ("<html" in html) is not htmx
    if not htmx:
        assert 'aria-invalid="true"' in html  # the bad field is marked in the form


def test_invalid_filter_value_is_escaped(login: Login, admin_user: User) -> None:
    response = login(admin_user).get(URL, {"stage": "<img src=x onerror=alert(1)>"})
    assert response.status_code == 400
    assert "<img src=x" not in response.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in response.text


# --- Rendering ------------------------------------------------------------------------------


def test_columns(login: Login, admin_user: User, leads: dict[str, Lead], rep: User) -> None:
    html = page(login(admin_user), q="anna")
    row = html[html.index('<td class="col-name">') :]
    row = row[: row.index("</tr>")]
    assert f'href="/leads/{leads["anna"].pk}/">Anna Berg</a>' in row
    assert "anna@acme.example" in row
    assert "Acme" in row
    assert '<span class="badge stage stage-sql">SQL</span>' in row
    assert '<span class="badge temp temp-hot">Hot</span>' in row
    assert '<span class="badge qual">SQL</span>' in row
    assert "<strong>82</strong>" in row
    assert "fit 50 · eng 32" in row
    assert str(rep) in row
    assert "Paid search" in row
    assert "ago</time>" in row


def test_lead_names_are_escaped(login: Login, admin_user: User, lead_with: LeadFactory) -> None:
    lead_with(first_name="<script>alert(1)</script>", last_name='"><b>x</b>')
    html = page(login(admin_user))
    assert "<script>alert(1)</script>" not in html
    assert "<b>x</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &quot;&gt;&lt;b&gt;x&lt;/b&gt;" in html


def test_unicode_names_render_and_are_searchable(
    login: Login, admin_user: User, lead_with: LeadFactory
) -> None:
    lead_with(first_name="Zoë", last_name="Müller-Łukasiewicz", company="Café Lumière")
    lead_with(first_name="山田", last_name="太郎")
    client = login(admin_user)
    html = page(client)
    assert "Zoë Müller-Łukasiewicz" in html
    assert "Café Lumière" in html
    assert "山田 太郎" in html
    assert names(page(client, q="müller")) == ["Zoë Müller-Łukasiewicz"]
    assert names(page(client, q="山田")) == ["山田 太郎"]


def test_page_obeys_the_content_security_policy(
    login: Login, admin_user: User, leads: dict[str, Lead]
) -> None:
    response = login(admin_user).get(URL)
    policy = response["Content-Security-Policy"]
    # (the nonce is added to the header only on pages that use one)
    assert "script-src 'self'" in policy
    assert "style-src 'self';" in policy
    assert "unsafe-inline" not in policy
    html = response.text
    assert "<style" not in html
    assert " style=" not in html
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    for tag in re.findall(r"<script[^>]*>", html):
        assert " src=" in tag or "nonce=" in tag
    assert "/static/vendor/htmx.org/dist/htmx.min.js" in html


# --- Queries and speed -----------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
def test_query_count_does_not_grow_with_the_rows(
    login: Login,
    admin_user: User,
    rep: User,
    lead_with: LeadFactory,
    django_assert_max_num_queries: DjangoAssertNumQueries,
    htmx: bool,
) -> None:
    for number in range(40):
        lead_with(
            rep if number % 2 else None,
            first_name=f"N{number}",
            company=f"Company {number}",
            email=f"n{number}@c{number}.example",
        )
    client = login(admin_user)
    client.get(URL)  # the session is loaded once; count the steady state
    # session + user + owners for the filter + count + one page of leads with company and owner
    with django_assert_max_num_queries(5):
        response = client.get(URL, {"sort": "-total_score"}, headers=HTMX if htmx else {})
    assert len(names(response.text)) == 40
