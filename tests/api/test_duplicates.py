"""/api/v1/duplicates: open suggestions, merging (older lead kept by default), dismissing,
and who may do what."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.utils import timezone

from leadbase.accounts.models import User
from leadbase.leads.models import DuplicateSuggestion, Event, Lead, LeadChange

from .conftest import ApiClient

pytestmark = pytest.mark.django_db

ApiAs = Callable[..., ApiClient]
MakeLead = Callable[..., Lead]
Suggest = Callable[..., DuplicateSuggestion]


@pytest.fixture
def api(api_as: ApiAs, marketer: User) -> ApiClient:
    return api_as(marketer)


@pytest.fixture
def suggest(make_lead: MakeLead) -> Suggest:
    """suggest(owner=None, **data of the newer lead): two leads named alike at one company, the
    first a day older, and the suggestion that pairs them (the newer lead as `lead`)."""
    counter = iter(range(1, 1000))

    def factory(owner: User | None = None, candidate_owner: User | None = None) -> Any:
        n = next(counter)
        older = make_lead(
            owner=candidate_owner or owner,
            email=f"ann{n}@acme.example",
            first_name="Ann",
            last_name=f"Lee{n}",
            city="York",
        )
        Lead.objects.filter(pk=older.pk).update(created_at=timezone.now() - dt.timedelta(days=1))
        newer = make_lead(
            owner=owner,
            email=f"a.lee{n}@acme.example",
            first_name="Ann",
            last_name=f"Lee{n}",
            job_title="CTO",
        )
        suggestion, _ = DuplicateSuggestion.objects.get_or_create(
            lead=newer, candidate=older, defaults={"reason": "same name at acme.example"}
        )
        return suggestion

    return factory


def ids(reply: Any) -> list[int]:
    assert reply.status == HTTPStatus.OK, reply.body
    return [item["id"] for item in reply.body["items"]]


# --- Listing --------------------------------------------------------------------------------


def test_lists_open_suggestions_newest_first_with_both_leads(
    api: ApiClient, suggest: Suggest, rep: User
) -> None:
    first, second = suggest(), suggest(owner=rep)
    dismissed = suggest()
    DuplicateSuggestion.objects.filter(pk=dismissed.pk).update(dismissed_at=timezone.now())

    reply = api.get("/duplicates")

    assert ids(reply) == [second.pk, first.pk]
    item = reply.body["items"][0]
    assert item["reason"] == "same name at acme.example"
    assert item["dismissed_at"] is None
    assert item["lead"]["id"] == second.lead_id
    assert item["lead"]["job_title"] == "CTO"
    assert item["lead"]["owner"] == {"id": rep.pk, "username": "rob"}
    assert item["candidate"]["id"] == second.candidate_id
    assert item["candidate"]["company"] == "acme.example"
    assert reply.body["next"] is None


def test_list_pages_by_cursor_and_filters_by_lead(api: ApiClient, suggest: Suggest) -> None:
    made = [suggest() for _ in range(5)]

    seen = [i for page in api.walk("/duplicates", {"limit": 2}) for i in ids(page)]

    assert seen == [s.pk for s in reversed(made)]
    assert ids(api.get("/duplicates", {"lead": made[2].candidate_id})) == [made[2].pk]
    assert ids(api.get("/duplicates", {"lead": made[2].lead_id})) == [made[2].pk]


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"limit": 0}, HTTPStatus.UNPROCESSABLE_ENTITY, "limit"),
        ({"limit": 501}, HTTPStatus.UNPROCESSABLE_ENTITY, "limit"),
        ({"lead": "me"}, HTTPStatus.UNPROCESSABLE_ENTITY, "lead"),
        ({"cursor": "made-up"}, HTTPStatus.BAD_REQUEST, "cursor"),
    ],
)
def test_bad_list_parameters(
    api: ApiClient, params: dict[str, Any], status: int, field: str
) -> None:
    reply = api.get("/duplicates", params)

    assert reply.status == status
    assert field in reply.errors


def test_a_leads_cursor_is_not_a_duplicates_cursor(
    api: ApiClient, make_lead: MakeLead, suggest: Suggest
) -> None:
    for _ in range(2):
        make_lead()
    cursor = api.get("/leads", {"limit": 1}).body["next"]

    assert api.get("/duplicates", {"cursor": cursor}).status == HTTPStatus.BAD_REQUEST


def test_rep_sees_only_suggestions_between_leads_they_own(
    api_as: ApiAs, rep: User, other_rep: User, suggest: Suggest
) -> None:
    own = suggest(owner=rep)
    suggest(owner=other_rep)
    suggest(owner=rep, candidate_owner=other_rep)  # one lead is someone else's
    suggest()

    assert ids(api_as(rep).get("/duplicates")) == [own.pk]


def test_listing_needs_read(api_as: ApiAs, marketer: User) -> None:
    reply = api_as(marketer, "write").get("/duplicates")

    assert reply.status == HTTPStatus.FORBIDDEN
    assert "read" in reply.detail


def test_viewer_may_list(api_as: ApiAs, viewer: User, suggest: Suggest) -> None:
    made = suggest()
    assert ids(api_as(viewer).get("/duplicates")) == [made.pk]


# --- Merging --------------------------------------------------------------------------------


def test_merge_keeps_the_older_lead_by_default(
    api: ApiClient, suggest: Suggest, marketer: User
) -> None:
    suggestion = suggest()
    older, newer = suggestion.candidate, suggestion.lead

    reply = api.post(f"/duplicates/{suggestion.pk}/merge", {})

    assert reply.status == HTTPStatus.OK, reply.body
    assert reply.body["kept_lead_id"] == older.pk
    assert reply.body["merged_lead_id"] == newer.pk
    kept = reply.body["lead"]
    assert kept["id"] == older.pk
    assert kept["job_title"] == "CTO"  # a blank field filled from the merged lead
    assert kept["email"] == older.email
    assert not Lead.objects.filter(pk=newer.pk).exists()
    assert not DuplicateSuggestion.objects.filter(pk=suggestion.pk).exists()
    merged = Event.objects.get(lead_id=older.pk, type="lead_merged")
    assert merged.properties == {"merged_lead_id": newer.pk, "by": "mia"}
    assert LeadChange.objects.filter(lead_id=older.pk, field="email", kind="merged").exists()


def test_merge_without_a_body_keeps_the_older_lead(api: ApiClient, suggest: Suggest) -> None:
    suggestion = suggest()

    reply = api.post_raw(f"/duplicates/{suggestion.pk}/merge", b"")

    assert reply.status == HTTPStatus.OK, reply.body
    assert reply.body["kept_lead_id"] == suggestion.candidate_id


def test_merge_may_keep_the_newer_lead(api: ApiClient, suggest: Suggest) -> None:
    suggestion = suggest()

    reply = api.post(f"/duplicates/{suggestion.pk}/merge", {"keep": suggestion.lead_id})

    assert reply.body["kept_lead_id"] == suggestion.lead_id
    assert not Lead.objects.filter(pk=suggestion.candidate_id).exists()
    assert Lead.objects.get(pk=suggestion.lead_id).city == "York"


@pytest.mark.parametrize(
    "body",
    [{"keep": 987654}, {"keep": "first"}, {"keep": 0}, {"keep": True}, {"keep": [1]}, {"x": 1}],
)
def test_merge_with_a_bad_body_is_422_and_merges_nothing(
    api: ApiClient, suggest: Suggest, body: dict[str, Any]
) -> None:
    suggestion = suggest()

    reply = api.post(f"/duplicates/{suggestion.pk}/merge", body)

    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert set(reply.errors) == set(body)
    assert Lead.objects.filter(pk__in=[suggestion.lead_id, suggestion.candidate_id]).count() == 2


def test_keep_must_be_one_of_the_two_leads(
    api: ApiClient, suggest: Suggest, make_lead: MakeLead
) -> None:
    suggestion, other = suggest(), make_lead()

    reply = api.post(f"/duplicates/{suggestion.pk}/merge", {"keep": other.pk})

    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert str(suggestion.lead_id) in reply.errors["keep"]


def test_merging_twice_is_404_the_second_time(api: ApiClient, suggest: Suggest) -> None:
    suggestion = suggest()
    assert api.post(f"/duplicates/{suggestion.pk}/merge", {}).status == HTTPStatus.OK

    reply = api.post(f"/duplicates/{suggestion.pk}/merge", {})

    assert reply.status == HTTPStatus.NOT_FOUND
    assert "no duplicate suggestion" in reply.detail


def test_merge_answers_a_write_only_key_without_lead_data(
    api_as: ApiAs, marketer: User, suggest: Suggest
) -> None:
    suggestion = suggest()

    reply = api_as(marketer, "write").post(f"/duplicates/{suggestion.pk}/merge", {})

    assert reply.status == HTTPStatus.OK
    assert reply.body == {
        "kept_lead_id": suggestion.candidate_id,
        "merged_lead_id": suggestion.lead_id,
        "lead": None,
    }


# --- Dismissing -----------------------------------------------------------------------------


def test_dismiss_closes_the_suggestion_and_keeps_both_leads(
    api: ApiClient, suggest: Suggest
) -> None:
    suggestion = suggest()

    reply = api.post(f"/duplicates/{suggestion.pk}/dismiss", {})

    assert reply.status == HTTPStatus.OK
    assert reply.body["id"] == suggestion.pk
    assert reply.body["dismissed_at"] is not None
    assert ids(api.get("/duplicates")) == []
    assert Lead.objects.filter(pk__in=[suggestion.lead_id, suggestion.candidate_id]).count() == 2

    again = api.post(f"/duplicates/{suggestion.pk}/dismiss", {})
    assert again.status == HTTPStatus.OK
    assert again.body["dismissed_at"] == reply.body["dismissed_at"]


# --- Who may act ----------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["merge", "dismiss"])
def test_acting_needs_write(api_as: ApiAs, marketer: User, suggest: Suggest, action: str) -> None:
    suggestion = suggest()

    for scopes in ("read", "ingest"):
        reply = api_as(marketer, scopes).post(f"/duplicates/{suggestion.pk}/{action}", {})
        assert reply.status == HTTPStatus.FORBIDDEN
        assert "write" in reply.detail
    assert DuplicateSuggestion.objects.get(pk=suggestion.pk).dismissed_at is None


@pytest.mark.parametrize("action", ["merge", "dismiss"])
def test_viewer_cannot_act(api_as: ApiAs, viewer: User, suggest: Suggest, action: str) -> None:
    suggestion = suggest()

    reply = api_as(viewer).post(f"/duplicates/{suggestion.pk}/{action}", {})

    assert reply.status == HTTPStatus.FORBIDDEN
    assert "Viewer" in reply.detail
    assert DuplicateSuggestion.objects.get(pk=suggestion.pk).dismissed_at is None


@pytest.mark.parametrize("action", ["merge", "dismiss"])
def test_rep_acts_only_on_leads_they_own(
    api_as: ApiAs, rep: User, other_rep: User, suggest: Suggest, action: str
) -> None:
    own = suggest(owner=rep)
    theirs = suggest(owner=other_rep)
    mixed = suggest(owner=rep, candidate_owner=other_rep)
    api = api_as(rep)

    for suggestion in (theirs, mixed):
        reply = api.post(f"/duplicates/{suggestion.pk}/{action}", {})
        assert reply.status == HTTPStatus.NOT_FOUND
    assert DuplicateSuggestion.objects.filter(dismissed_at__isnull=True).count() == 3

    assert api.post(f"/duplicates/{own.pk}/{action}", {}).status == HTTPStatus.OK


@pytest.mark.parametrize("path", ["/duplicates/987654/merge", "/duplicates/0/dismiss"])
def test_unknown_suggestion_is_404(api: ApiClient, path: str) -> None:
    assert api.post(path, {}).status == HTTPStatus.NOT_FOUND


def test_huge_suggestion_id_is_404_not_a_crash(api: ApiClient) -> None:
    reply = api.post("/duplicates/99999999999999999999999/merge", {})
    assert reply.status == HTTPStatus.NOT_FOUND


def test_list_needs_a_key(api_with_key: Callable[[str | None], ApiClient]) -> None:
    assert api_with_key(None).get("/duplicates").status == HTTPStatus.UNAUTHORIZED


def test_hostile_and_unicode_names_come_back_as_json_text(
    api: ApiClient, make_lead: MakeLead
) -> None:
    one = make_lead(email="x1@evil.example", first_name="<script>alert(1)</script>", last_name="Ω")
    two = make_lead(email="x2@evil.example", first_name="<script>alert(1)</script>", last_name="Ω")
    DuplicateSuggestion.objects.get_or_create(lead=two, candidate=one, defaults={"reason": "r"})

    reply = api.get("/duplicates")

    assert reply.body["items"][0]["lead"]["first_name"] == "<script>alert(1)</script>"
    assert reply.body["items"][0]["lead"]["last_name"] == "Ω"
