"""The public beacon (/t/collect), the pixel (/t/pixel.gif), the snippet (/t/lb.js), and how a
visitor's events join a lead when the visitor identifies."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client
from django.test.utils import override_settings

from leadbase.leads.events import visitor_identify
from leadbase.leads.models import Event, Lead, Visitor
from leadbase.leads.services import lead_merge
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db
MakeLead = Callable[..., Lead]
VISITOR = "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"


def beacon(client: Client, body: Any, **headers: str) -> Any:
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post("/t/collect", data, content_type="text/plain", headers=headers)


def page_view(
    url: str = "https://www.example.com/blog/x?utm_source=news&utm_medium=email",
) -> dict[str, Any]:
    return {"type": "page_view", "properties": {"url": url, "title": "Blog", "referrer": ""}}


def test_a_beacon_stores_the_visitors_page_views_with_utm_values(client: Client) -> None:
    response = beacon(client, {"visitor_id": VISITOR, "events": [page_view()]})

    assert response.status_code == HTTPStatus.ACCEPTED
    assert response.json() == {"accepted": 1, "duplicates": 0, "errors": []}
    event = Event.objects.get(visitor_id=VISITOR)
    assert event.lead is None and event.type == "page_view"
    assert event.properties["utm_source"] == "news" and event.properties["utm_medium"] == "email"
    assert Visitor.objects.get(visitor_id=VISITOR).lead is None


def test_a_view_of_a_pricing_page_is_a_pricing_page_view(client: Client) -> None:
    beacon(client, {"visitor_id": VISITOR, "events": [page_view("https://example.com/pricing/")]})
    assert Event.objects.get(visitor_id=VISITOR).type == "pricing_page_view"


def test_a_browser_cannot_send_server_side_facts_nor_name_a_lead(
    client: Client, make_lead: MakeLead
) -> None:
    lead = make_lead(email="ann@example.com")
    response = beacon(
        client,
        {
            "visitor_id": VISITOR,
            "events": [
                {"type": "form_submitted"},
                {"type": "email_clicked"},
                {"type": "page_view", "lead_id": lead.pk},
                {"type": "content_download", "properties": {"file": "guide.pdf"}},
            ],
        },
    )
    body = response.json()
    assert body["accepted"] == 1
    assert [e["index"] for e in body["errors"]] == [0, 1, 2]
    assert "events API" in body["errors"][0]["message"]
    assert not Event.objects.filter(lead=lead).exclude(type="lead_created").exists()


def test_a_browsers_event_ids_cannot_collide_with_an_integrations(
    client: Client, api: ApiClient, make_lead: MakeLead
) -> None:
    lead = make_lead(email="ann@example.com")
    beacon(client, {"visitor_id": VISITOR, "events": [{"type": "page_view", "event_id": "crm-1"}]})
    reply = api.post("/events", {"type": "demo_request", "lead_id": lead.pk, "event_id": "crm-1"})
    assert reply.body["accepted"] == 1


def test_a_resent_beacon_event_is_stored_once(client: Client) -> None:
    body = {"visitor_id": VISITOR, "events": [{"type": "page_view", "event_id": "e-1"}]}
    beacon(client, body)
    assert beacon(client, body).json()["duplicates"] == 1
    assert Event.objects.filter(visitor_id=VISITOR).count() == 1


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ("{not json", HTTPStatus.BAD_REQUEST, "not JSON"),
        (b"\xff\xfe\x00", HTTPStatus.BAD_REQUEST, "not JSON"),
        ('{"events": []}', HTTPStatus.BAD_REQUEST, "visitor_id"),
        ('{"visitor_id": "short", "events": []}', HTTPStatus.BAD_REQUEST, "visitor_id"),
        ('{"visitor_id": "abcdefgh<script>", "events": []}', HTTPStatus.BAD_REQUEST, "visitor_id"),
        (json.dumps({"visitor_id": VISITOR, "events": "x"}), HTTPStatus.BAD_REQUEST, "events"),
        (json.dumps({"visitor_id": VISITOR, "events": [page_view()] * 21}), 413, "at most 20"),
        (json.dumps({"visitor_id": VISITOR, "events": [], "pad": "x" * 20_000}), 413, "limit"),
    ],
)
def test_bad_beacons_are_refused_with_a_message(
    client: Client, body: str | bytes, status: int, says: str
) -> None:
    response = beacon(client, body)
    assert response.status_code == status
    assert says in response.json()["detail"] + json.dumps(response.json()["errors"])
    assert not Event.objects.filter(visitor_id=VISITOR).exists()


def test_the_beacon_is_rate_limited_per_address(client: Client, settings: Any) -> None:
    settings.LEADBASE_TRACKING_RATE_PER_IP = "3/60"
    statuses = [beacon(client, {"visitor_id": VISITOR, "events": []}).status_code for _ in range(4)]
    assert statuses == [202, 202, 202, 429]
    refused = beacon(client, {"visitor_id": VISITOR, "events": []})
    assert 1 <= int(refused["Retry-After"]) <= 60


@override_settings(LEADBASE_TRACKING_ALLOWED_DOMAINS="example.com shop.example.org")
def test_only_the_allowed_sites_may_send_when_a_list_is_set(client: Client) -> None:
    body = {"visitor_id": VISITOR, "events": [page_view()]}
    assert beacon(client, body, Origin="https://www.example.com").status_code == 202
    assert beacon(client, body, Origin="https://shop.example.org").status_code == 202
    refused = beacon(client, body, Origin="https://evil.example.net")
    assert refused.status_code == HTTPStatus.FORBIDDEN
    assert "LEADBASE_TRACKING_ALLOWED_DOMAINS" in refused.json()["detail"]
    assert beacon(client, body).status_code == HTTPStatus.FORBIDDEN  # no origin at all


def test_a_preflight_is_answered_for_json_beacons(client: Client) -> None:
    response = client.options("/t/collect", headers={"Origin": "https://www.example.com"})
    assert response.status_code == HTTPStatus.NO_CONTENT
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Content-Type" in response["Access-Control-Allow-Headers"]


def test_the_pixel_records_a_page_view_and_always_answers_an_image(client: Client) -> None:
    ok = client.get("/t/pixel.gif", {"vid": VISITOR, "url": "https://example.com/a", "title": "A"})
    bad = client.get("/t/pixel.gif", {"vid": VISITOR, "type": "email_clicked"})
    hostile = client.get("/t/pixel.gif", {"vid": "x\r\nSet-Cookie: a=b"})

    assert ok.status_code == 200 and ok["Content-Type"] == "image/gif"
    assert ok.content.startswith(b"GIF89a")
    assert bad.status_code == 400 and "events API" in bad["X-Leadbase-Error"]
    assert hostile.status_code == 400 and "\n" not in hostile["X-Leadbase-Error"]
    assert "Set-Cookie" not in hostile or "a=b" not in str(hostile.cookies)
    assert list(Event.objects.filter(visitor_id=VISITOR).values_list("type", flat=True)) == [
        "page_view"
    ]


def test_the_pixel_without_a_visitor_id_sets_its_own_cookie(client: Client) -> None:
    first = client.get("/t/pixel.gif", {"url": "https://example.com/"})
    minted = first.cookies["lb_vid"].value
    second = client.get("/t/pixel.gif", {"url": "https://example.com/b"})
    assert "lb_vid" not in second.cookies
    assert Event.objects.filter(visitor_id=minted).count() == 2


def test_the_snippet_is_served_as_cacheable_javascript(client: Client) -> None:
    response = client.get("/t/lb.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "max-age" in response["Cache-Control"]
    assert b"sendBeacon" in response.content


def test_identifying_attaches_the_visitors_past_events_and_its_next_ones(
    client: Client, make_lead: MakeLead
) -> None:
    beacon(client, {"visitor_id": VISITOR, "events": [page_view(), page_view()]})
    lead = make_lead(email="ann@example.com")

    done = visitor_identify(visitor_id=VISITOR, lead=lead)
    beacon(client, {"visitor_id": VISITOR, "events": [page_view("https://example.com/pricing")]})

    assert done.attached == 2
    types = sorted(
        Event.objects.filter(lead=lead, visitor_id=VISITOR).values_list("type", flat=True)
    )
    assert types == ["page_view", "page_view", "pricing_page_view"]
    assert not Event.objects.filter(lead__isnull=True).exists()


def test_two_visitors_of_one_lead_share_its_history_and_merging_leads_keeps_both(
    client: Client, make_lead: MakeLead
) -> None:
    other = "a1b2c3d4e5f60718293a4b5c"
    beacon(client, {"visitor_id": VISITOR, "events": [page_view()]})
    beacon(client, {"visitor_id": other, "events": [page_view()]})
    ann = make_lead(email="ann@example.com")
    ann_work = make_lead(email="ann@work.example")
    visitor_identify(visitor_id=VISITOR, lead=ann)
    visitor_identify(visitor_id=other, lead=ann_work)

    lead_merge(primary=ann, duplicate=ann_work, actor=None)
    beacon(client, {"visitor_id": other, "events": [page_view()]})

    assert Event.objects.filter(lead=ann, type="page_view").count() == 3
    assert set(Visitor.objects.values_list("lead_id", flat=True)) == {ann.pk}


def test_identify_through_the_api(api: ApiClient, client: Client, make_lead: MakeLead) -> None:
    beacon(client, {"visitor_id": VISITOR, "events": [page_view()]})
    lead = make_lead(email="ann@example.com")

    reply = api.post("/identify", {"visitor_id": VISITOR, "email": "ANN@example.com"})
    missing = api.post("/identify", {"visitor_id": VISITOR, "email": "nobody@example.com"})
    both = api.post("/identify", {"visitor_id": VISITOR, "email": "a@b.example", "lead_id": 1})
    bad = api.post("/identify", {"visitor_id": "<x>", "lead_id": lead.pk})

    assert reply.status == 200 and reply.body == {
        "lead_id": lead.pk,
        "attached": 1,
        "relinked_from": None,
    }
    assert missing.status == HTTPStatus.NOT_FOUND
    assert both.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert bad.status == HTTPStatus.UNPROCESSABLE_ENTITY and "visitor_id" in bad.errors
