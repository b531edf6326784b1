"""POST /api/v1/events: one event or a batch, valid items kept, errors per item, resends no-ops."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_django import DjangoCaptureOnCommitCallbacks

from leadbase.accounts.models import User
from leadbase.leads.models import Event, Lead
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db
MakeLead = Callable[..., Lead]


def iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_one_event_by_email_is_stored_before_the_answer(
    api: ApiClient, make_lead: MakeLead
) -> None:
    lead = make_lead(email="ann@example.com")
    when = timezone.now() - dt.timedelta(hours=2)

    reply = api.post(
        "/events",
        {
            "type": "pricing_page_view",
            "email": "Ann@Example.com",
            "timestamp": iso(when),
            "properties": {"url": "https://example.com/pricing"},
        },
    )

    assert reply.status == HTTPStatus.OK, reply.body
    assert reply.body == {"accepted": 1, "duplicates": 0, "errors": []}
    event = Event.objects.get(lead=lead, type="pricing_page_view")
    assert event.occurred_at == when.replace(microsecond=event.occurred_at.microsecond)
    assert event.properties == {"url": "https://example.com/pricing"}
    assert event.source.startswith("api:")


def test_a_batch_keeps_the_valid_events_and_names_each_bad_one(
    api: ApiClient, make_lead: MakeLead
) -> None:
    lead = make_lead(email="ann@example.com")
    future = timezone.now() + dt.timedelta(days=3)
    events: list[Any] = [
        {"type": "page_view", "lead_id": lead.pk},
        {"type": "page_view", "lead_id": lead.pk, "timestamp": iso(future)},
        {"type": "Not A Type", "lead_id": lead.pk},
        {"type": "page_view", "lead_id": lead.pk, "properties": {"x": "y" * 10_000}},
        {"type": "page_view"},
        {"type": "page_view", "lead_id": lead.pk, "email": "ann@example.com"},
        {"type": "page_view", "email": "nobody@example.com"},
        {"type": "page_view", "lead_id": 99_999_999},
        "not an object",
        {"type": "page_view", "lead_id": lead.pk, "colour": "red"},
        {"type": "page_view", "lead_id": lead.pk, "timestamp": "yesterday"},
        {"type": "webinar_attended", "email": "ann@example.com"},
    ]

    reply = api.post("/events", {"events": events})

    assert reply.status == HTTPStatus.OK
    assert reply.body["accepted"] == 2
    assert [e["index"] for e in reply.body["errors"]] == list(range(1, 11))
    messages = {e["index"]: e["message"] for e in reply.body["errors"]}
    assert "future" in messages[1]
    assert "snake_case" in messages[2]
    assert "limit" in messages[3]
    assert "exactly one" in messages[4] and "exactly one" in messages[5]
    assert "nobody@example.com" in messages[6]
    assert "99999999" in messages[7]
    assert "colour" in messages[9]
    assert "ISO 8601" in messages[10]
    assert Event.objects.filter(lead=lead, type__in=["page_view", "webinar_attended"]).count() == 2


def test_unknown_snake_case_types_are_custom_events(api: ApiClient, make_lead: MakeLead) -> None:
    lead = make_lead(email="ann@example.com")
    reply = api.post("/events", {"type": "podcast_listened", "lead_id": lead.pk})
    assert reply.body["accepted"] == 1
    assert Event.objects.filter(lead=lead, type="podcast_listened").exists()


def test_reserved_types_are_refused(api: ApiClient, make_lead: MakeLead) -> None:
    lead = make_lead(email="ann@example.com")
    reply = api.post("/events", {"type": "lead_created", "lead_id": lead.pk})
    assert reply.body["accepted"] == 0
    assert "reserved" in reply.body["errors"][0]["message"]


def test_a_resend_with_the_same_event_id_is_a_duplicate_not_a_second_event(
    api: ApiClient, make_lead: MakeLead
) -> None:
    lead = make_lead(email="ann@example.com")
    event = {"type": "demo_request", "lead_id": lead.pk, "event_id": "crm-42"}

    first = api.post("/events", {"events": [event, event]})
    again = api.post("/events", event)

    assert (first.body["accepted"], first.body["duplicates"]) == (1, 1)
    assert (again.body["accepted"], again.body["duplicates"]) == (0, 1)
    assert Event.objects.filter(lead=lead, type="demo_request").count() == 1


def test_more_than_1000_events_is_413_and_stores_nothing(
    api: ApiClient, make_lead: MakeLead
) -> None:
    lead = make_lead(email="ann@example.com")
    before = Event.objects.count()
    reply = api.post("/events", {"events": [{"type": "page_view", "lead_id": lead.pk}] * 1001})
    assert reply.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert "1,000" in reply.detail
    assert Event.objects.count() == before


def test_exactly_1000_events_are_accepted(api: ApiClient, make_lead: MakeLead) -> None:
    lead = make_lead(email="ann@example.com")
    reply = api.post("/events", {"events": [{"type": "page_view", "lead_id": lead.pk}] * 1000})
    assert reply.body["accepted"] == 1000


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("{not json", "application/json", HTTPStatus.BAD_REQUEST),
        ('{"events": "nope"}', "application/json", HTTPStatus.UNPROCESSABLE_ENTITY),
        ('{"events": [], "extra": 1}', "application/json", HTTPStatus.UNPROCESSABLE_ENTITY),
        ("[1, 2]", "application/json", HTTPStatus.UNPROCESSABLE_ENTITY),
        ("type=page_view", "application/x-www-form-urlencoded", HTTPStatus.BAD_REQUEST),
    ],
)
def test_malformed_requests_are_refused_with_a_message(
    api: ApiClient, body: str, content_type: str, status: int
) -> None:
    reply = api.post_raw("/events", body, content_type=content_type)
    assert reply.status == status, reply.body
    assert reply.detail


def test_a_key_without_ingest_or_write_is_403(
    api_as: Callable[..., ApiClient], admin_user: User
) -> None:
    reply = api_as(admin_user, "read").post("/events", {"type": "page_view", "lead_id": 1})
    assert reply.status == HTTPStatus.FORBIDDEN


def test_a_sales_reps_key_reaches_only_their_own_leads(
    api_as: Callable[..., ApiClient], rep: User, other_rep: User, make_lead: MakeLead
) -> None:
    mine = make_lead(owner=rep, email="mine@example.com")
    theirs = make_lead(owner=other_rep, email="theirs@example.com")
    reply = api_as(rep, "ingest").post(
        "/events",
        {
            "events": [
                {"type": "page_view", "lead_id": mine.pk},
                {"type": "page_view", "lead_id": theirs.pk},
                {"type": "page_view", "email": "theirs@example.com"},
            ]
        },
    )
    assert reply.body["accepted"] == 1
    assert [e["index"] for e in reply.body["errors"]] == [1, 2]
    assert not Event.objects.filter(lead=theirs, type="page_view").exists()


def test_hostile_and_unicode_properties_are_stored_as_given(
    api: ApiClient, make_lead: MakeLead
) -> None:
    lead = make_lead(email="zoë@bücher.example")
    properties = {"title": "<script>alert(1)</script>", "名前": "Zoë\u202e", "n": [1, {"a": None}]}
    reply = api.post(
        "/events", {"type": "page_view", "email": "ZOË@BÜCHER.example", "properties": properties}
    )
    assert reply.body["accepted"] == 1, reply.body
    assert Event.objects.get(lead=lead, type="page_view").properties == properties


def test_events_move_the_leads_last_activity_forward_only(
    api: ApiClient, make_lead: MakeLead
) -> None:
    lead = make_lead(email="ann@example.com")
    start = Lead.objects.get(pk=lead.pk).last_activity_at
    old = start - dt.timedelta(days=30)
    api.post("/events", {"type": "page_view", "lead_id": lead.pk, "timestamp": iso(old)})
    assert Lead.objects.get(pk=lead.pk).last_activity_at == start
    api.post("/events", {"type": "page_view", "lead_id": lead.pk})
    assert Lead.objects.get(pk=lead.pk).last_activity_at > start


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.one_of(
            st.fixed_dictionaries({"type": st.sampled_from(["page_view", "email_opened"])}),
            st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
            st.integers(),
        ),
        max_size=12,
    )
)
def test_any_batch_is_counted_whole(api: ApiClient, make_lead: MakeLead, items: list[Any]) -> None:
    """Every item is either accepted or listed as an error, never both, never lost."""
    lead = Lead.objects.filter(email="prop@example.com").first() or make_lead(
        email="prop@example.com"
    )
    batch = [{**i, "lead_id": lead.pk} if isinstance(i, dict) and "type" in i else i for i in items]
    before = Event.objects.filter(lead=lead).count()
    reply = api.post("/events", {"events": batch})
    assert reply.status == HTTPStatus.OK, json.dumps(reply.body)[:300]
    assert reply.body["accepted"] + len(reply.body["errors"]) == len(batch)
    assert Event.objects.filter(lead=lead).count() - before == reply.body["accepted"]


def test_an_accepted_event_moves_the_score_before_the_answer(
    api: ApiClient,
    make_lead: MakeLead,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    lead = make_lead(email="ann@example.com")
    before = Lead.objects.get(pk=lead.pk).engagement_score

    with django_capture_on_commit_callbacks(execute=True):
        reply = api.post("/events", {"type": "demo_request", "lead_id": lead.pk})

    assert reply.body["accepted"] == 1
    scored = Lead.objects.get(pk=lead.pk)
    assert scored.engagement_score > before
    assert scored.fit_grade  # scored with the rule set in force


def test_one_event_for_an_unknown_lead_stores_nothing_and_says_so(
    api: ApiClient, make_lead: MakeLead
) -> None:
    lead = make_lead(email="ann@example.com")
    before = Lead.objects.get(pk=lead.pk).last_activity_at
    missing = lead.pk + 1000

    reply = api.post("/events", {"type": "page_view", "lead_id": missing, "event_id": "x-1"})

    assert reply.status == HTTPStatus.OK
    assert reply.body["accepted"] == 0 and reply.body["duplicates"] == 0
    assert f"no lead with id {missing}" in reply.body["errors"][0]["message"]
    assert not Event.objects.filter(client_event_id="x-1").exists()
    # the id is free for the event once it names a real lead
    again = api.post("/events", {"type": "page_view", "lead_id": lead.pk, "event_id": "x-1"})
    assert again.body["accepted"] == 1
    assert Lead.objects.get(pk=lead.pk).last_activity_at > before
