"""The scores in the leads API: each lead carries fit, engagement, total (`score`), grade,
prospect, temperature, qualification and predicted probability; the list sorts by fit and
by engagement and filters by grade and prospect."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from ninja.responses import NinjaJSONEncoder

from leadbase.accounts.models import User
from leadbase.leads.models import Lead
from leadbase.leads.schemas import LeadOut
from leadbase.leads.selectors import lead_get

from .conftest import ApiClient

pytestmark = pytest.mark.django_db
MakeLead = Callable[..., Lead]

# name -> (fit, engagement, grade, prospect); the total is fit + engagement
SCORES: dict[str, tuple[float, float, str, bool]] = {
    "ada": (90, 10, "A", True),
    "ben": (55, 70, "B", False),
    "cy": (30, 40, "C", False),
    "dot": (10, 95, "D", False),
    "eve": (80, 5, "A", False),
    "new": (0, 0, "", False),  # not scored yet
}


@pytest.fixture
def scored(make_lead: MakeLead, rep: User) -> dict[str, Lead]:
    leads: dict[str, Lead] = {}
    for name, (fit, engagement, grade, prospect) in SCORES.items():
        lead = make_lead(email=f"{name}@example.com", first_name=name, owner=rep)
        Lead.objects.filter(pk=lead.pk).update(
            fit_score=fit,
            engagement_score=engagement,
            total_score=fit + engagement,
            fit_grade=grade,
            is_prospect=prospect,
        )
        leads[name] = lead
    return leads


def listed(api: ApiClient, **params: Any) -> list[str]:
    """The first names of every lead the listing gives, following its pages."""
    return [
        item["first_name"]
        for page in api.walk("/leads", {"limit": 2, **params})
        for item in page.body["items"]
    ]


def test_the_lead_carries_its_scores(
    api_as: Callable[..., ApiClient], marketer: User, scored: dict[str, Lead]
) -> None:
    Lead.objects.filter(pk=scored["ada"].pk).update(
        temperature="hot", qualification="mql", predicted_probability=0.4
    )
    api = api_as(marketer)
    for body in (api.get(f"/leads/{scored['ada'].pk}").body, listed_item(api, "ada")):
        assert body["fit_score"] == 90
        assert body["engagement_score"] == 10
        assert body["score"] == body["total_score"] == 100
        assert body["grade"] == "A"
        assert body["is_prospect"] is True
        assert body["temperature"] == "hot"
        assert body["qualification"] == "mql"
        assert body["predicted_probability"] == 0.4
    unscored = api.get(f"/leads/{scored['new'].pk}").body
    assert unscored["grade"] is None and unscored["is_prospect"] is False


def listed_item(api: ApiClient, name: str) -> dict[str, Any]:
    items = api.get("/leads", {"q": name}).body["items"]
    assert len(items) == 1, items
    return dict(items[0])


@pytest.mark.parametrize("name", ["ada", "ben", "new"])
def test_fast_read_with_scores_is_the_full_leadout_json(
    api_as: Callable[..., ApiClient], marketer: User, scored: dict[str, Lead], name: str
) -> None:
    lead = lead_get(user=marketer, lead_id=scored[name].pk)
    assert lead is not None
    full = json.dumps(LeadOut.model_validate(lead).model_dump(), cls=NinjaJSONEncoder).encode()
    assert api_as(marketer).get(f"/leads/{lead.pk}").content == full


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("-fit_score", ["ada", "eve", "ben", "cy", "dot", "new"]),
        ("fit_score", ["new", "dot", "cy", "ben", "eve", "ada"]),
        ("-engagement_score", ["dot", "ben", "cy", "ada", "eve", "new"]),
        ("engagement_score", ["new", "eve", "ada", "cy", "ben", "dot"]),
        ("-total_score", ["ben", "dot", "ada", "eve", "cy", "new"]),
    ],
)
def test_sorts_by_each_score_across_pages(
    api_as: Callable[..., ApiClient],
    marketer: User,
    scored: dict[str, Lead],
    sort: str,
    expected: list[str],
) -> None:
    assert listed(api_as(marketer), sort=sort) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"grade": "A"}, ["eve", "ada"]),
        ({"grade": ["A", "D"]}, ["eve", "dot", "ada"]),  # repeated
        ({"grade": "b,c"}, ["cy", "ben"]),  # comma-separated, any case
        ({"prospect": "true"}, ["ada"]),
        ({"prospect": "false"}, ["new", "eve", "dot", "cy", "ben"]),
        ({"grade": "A", "prospect": "false"}, ["eve"]),
        ({"grade": "A", "min_score": 90}, ["ada"]),
        ({"grade": "B", "sort": "-engagement_score"}, ["ben"]),
    ],
)
def test_filters_by_grade_and_prospect(
    api_as: Callable[..., ApiClient],
    marketer: User,
    scored: dict[str, Lead],
    params: dict[str, Any],
    expected: list[str],
) -> None:
    assert listed(api_as(marketer), **params) == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"grade": "E"}, "grade"),
        ({"grade": "A,Z"}, "grade"),
        ({"prospect": "maybe"}, "prospect"),
        ({"sort": "-grade"}, "sort"),
    ],
)
def test_bad_score_filters_are_422s_naming_the_parameter(
    api_as: Callable[..., ApiClient], marketer: User, params: dict[str, str], field: str
) -> None:
    reply = api_as(marketer).get("/leads", params)
    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert field in reply.errors, reply.errors


def test_a_cursor_from_another_score_sort_is_refused(
    api_as: Callable[..., ApiClient], marketer: User, scored: dict[str, Lead]
) -> None:
    api = api_as(marketer)
    cursor = api.get("/leads", {"sort": "-fit_score", "limit": 1}).body["next"]
    reply = api.get("/leads", {"sort": "-engagement_score", "limit": 1, "cursor": cursor})
    assert reply.status == HTTPStatus.BAD_REQUEST
    assert "cursor" in reply.errors


def test_score_filters_keep_a_reps_isolation(
    api_as: Callable[..., ApiClient], other_rep: User, scored: dict[str, Lead]
) -> None:
    api = api_as(other_rep)
    assert listed(api, grade="A") == []
    assert listed(api, prospect="true", sort="-fit_score") == []
