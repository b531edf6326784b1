"""The lead list's score controls: sorting by fit and engagement, filtering by grade and
prospect, and each row's grade and prospect mark."""

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


def names(html: str) -> list[str]:
    return re.findall(r'<td class="col-name"><a href="/leads/\d+/">([^<]*)</a>', html)


def page(client: Client, params: dict[str, str | list[str]] | None = None) -> str:
    response = client.get(URL, params or {})
    assert response.status_code == 200, response.content[:2000]
    return response.text


@pytest.fixture
def scored(lead_with: LeadFactory, rep: User) -> dict[str, Lead]:
    """Ada (A, prospect), Ben (B), Cy (C), Dot (D), Nel (not scored): created in that order."""
    rows = {
        "Ada": (90, 10, "A", True),
        "Ben": (55, 70, "B", False),
        "Cy": (30, 40, "C", False),
        "Dot": (10, 95, "D", False),
        "Nel": (0, 0, "", False),
    }
    return {
        name: lead_with(
            rep,
            first_name=name,
            email=f"{name.lower()}@example.com",
            fields={
                "fit_score": fit,
                "engagement_score": engagement,
                "total_score": fit + engagement,
                "fit_grade": grade,
                "is_prospect": prospect,
            },
        )
        for name, (fit, engagement, grade, prospect) in rows.items()
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"sort": "-fit_score"}, ["Ada", "Ben", "Cy", "Dot", "Nel"]),
        ({"sort": "fit_score"}, ["Nel", "Dot", "Cy", "Ben", "Ada"]),
        ({"sort": "-engagement_score"}, ["Dot", "Ben", "Cy", "Ada", "Nel"]),
        ({"sort": "engagement_score"}, ["Nel", "Ada", "Cy", "Ben", "Dot"]),
        ({"grade": "A"}, ["Ada"]),
        ({"grade": ["B", "D"]}, ["Dot", "Ben"]),  # several grades: any of them
        ({"prospect": "yes"}, ["Ada"]),
        ({"prospect": "no"}, ["Nel", "Dot", "Cy", "Ben"]),
        ({"grade": ["A", "B"], "prospect": "no"}, ["Ben"]),
        (
            {"grade": ["A", "B", "C"], "min_score": "100", "sort": "-engagement_score"},
            ["Ben", "Ada"],
        ),
        ({"grade": "", "prospect": ""}, ["Nel", "Dot", "Cy", "Ben", "Ada"]),  # blank: any
    ],
)
def test_sorts_and_filters_by_scores(
    login: Login,
    viewer: User,
    scored: dict[str, Lead],
    params: dict[str, str | list[str]],
    expected: list[str],
) -> None:
    assert names(page(login(viewer), params)) == expected


def test_the_controls_keep_their_values(login: Login, admin_user: User) -> None:
    html = page(login(admin_user), {"grade": ["A", "C"], "prospect": "yes", "sort": "-fit_score"})
    checked = re.findall(r'<input type="checkbox" name="grade" value="([A-D])"[^>]*checked', html)
    assert checked == ["A", "C"]
    assert '<option value="yes" selected>Prospects</option>' in html
    assert '<option value="-fit_score" selected>Best fit</option>' in html
    assert '<option value="engagement_score">Least engaged</option>' in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"grade": "E"}, "Fit grade"),
        ({"prospect": "perhaps"}, "Prospect"),
        ({"sort": "-grade"}, "Sort by"),
    ],
)
def test_bad_values_answer_400_saying_which_control(
    login: Login, admin_user: User, params: dict[str, str], message: str
) -> None:
    response = login(admin_user).get(URL, params)
    assert response.status_code == 400
    assert f"<strong>{message}:</strong>" in response.text


def test_rows_show_the_grade_and_the_prospect_mark(
    login: Login, admin_user: User, scored: dict[str, Lead]
) -> None:
    html = page(login(admin_user), {"sort": "-fit_score"})
    rows = re.findall(r'<td class="nowrap col-grade">(.*?)</td>', html)
    assert len(rows) == 5
    assert '<span class="badge grade grade-A" title="Fit grade A">A</span>' in rows[0]
    assert "prospect-mark" in rows[0]
    assert '<span class="badge grade grade-B"' in rows[1] and "prospect-mark" not in rows[1]
    assert "Not scored yet" in rows[4]


def test_grade_header_toggles_the_fit_sort(
    login: Login, admin_user: User, scored: dict[str, Lead]
) -> None:
    html = page(login(admin_user))
    assert 'href="/?sort=-fit_score"' in html
    html = page(login(admin_user), {"sort": "-fit_score"})
    assert 'aria-sort="descending"' in html
    assert 'href="/?sort=fit_score"' in html


@pytest.mark.parametrize("htmx", [False, True])
def test_score_filters_do_not_add_queries(
    login: Login,
    admin_user: User,
    rep: User,
    lead_with: LeadFactory,
    django_assert_max_num_queries: DjangoAssertNumQueries,
    htmx: bool,
) -> None:
    for number in range(30):
        lead_with(
            rep,
            first_name=f"N{number}",
            company=f"Company {number}",
            email=f"n{number}@c{number}.example",
            fields={"fit_grade": "AB"[number % 2], "is_prospect": number % 3 == 0},
        )
    client = login(admin_user)
    client.get(URL)  # the session is loaded once; count the steady state
    params = {"grade": ["A", "B"], "prospect": "no", "sort": "-engagement_score"}
    # session + user + owners for the filter + count + one page of leads with company and owner
    with django_assert_max_num_queries(5):
        response = client.get(URL, params, headers=HTMX if htmx else {})
    assert len(names(response.text)) == 20
