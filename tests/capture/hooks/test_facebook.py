"""Facebook / Instagram Lead Ads at /hooks/facebook: handshake, signatures, leads."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client

from leadbase.capture import services_hooks
from leadbase.capture.models import DeliveryStatus, WebhookDelivery, WebhookKind, WebhookSource
from leadbase.capture.services_hooks import webhook_source_create, webhook_source_update
from leadbase.capture.signatures import facebook_signature
from leadbase.leads.models import Campaign, Consent, Event, Lead

from .conftest import FB_SECRET, Hit, fb_body, fb_change

Post = Callable[..., Hit]


def handshake(client: Client, token: str, **extra: str) -> Any:
    params = {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1158201444"}
    return client.get("/hooks/facebook", {**params, **extra})


# --- Handshake -----------------------------------------------------------------------------


def test_handshake_echoes_the_challenge_as_plain_text(client: Client, fb_source: Any) -> None:
    response = handshake(client, "tok-123")
    assert response.status_code == HTTPStatus.OK
    assert response.content == b"1158201444"
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize("token", ["tok-12", "tok-1234", "TOK-123", "", "tok-123 "])
def test_handshake_with_a_wrong_token_is_403(client: Client, fb_source: Any, token: str) -> None:
    response = handshake(client, token)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert b"1158201444" not in response.content


def test_handshake_without_any_facebook_source_is_403(client: Client, db: None) -> None:
    webhook_source_create(kind=WebhookKind.GENERIC, name="other")  # not a Facebook source
    assert handshake(client, "").status_code == HTTPStatus.FORBIDDEN
    assert handshake(client, "anything").status_code == HTTPStatus.FORBIDDEN


def test_handshake_ignores_inactive_sources(client: Client, fb_source: WebhookSource) -> None:
    webhook_source_update(source=fb_source, changes={"is_active": False})
    assert handshake(client, "tok-123").status_code == HTTPStatus.FORBIDDEN


def test_handshake_needs_subscribe_mode_and_a_short_challenge(
    client: Client, fb_source: Any
) -> None:
    assert handshake(client, "tok-123", **{"hub.mode": "x"}).status_code == 400
    assert handshake(client, "tok-123", **{"hub.challenge": "9" * 600}).status_code == 400


# --- Signatures ----------------------------------------------------------------------------


def test_missing_signature_is_401_and_kept_as_rejected(post_facebook: Post, fb_source: Any) -> None:
    reply = post_facebook(fb_body(fb_change(email="a@example.com")), signature="", headers={})
    assert reply.status == HTTPStatus.UNAUTHORIZED
    assert "X-Hub-Signature-256" in reply.body["detail"]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.http_status, delivery.source) == ("rejected", 401, None)
    assert "missing" in delivery.detail
    assert not Lead.objects.exists()


def test_refused_requests_are_stored_up_to_a_rate_per_ip(
    post_facebook: Post, fb_source: Any, settings: Any
) -> None:
    settings.LEADBASE_HOOKS_REJECTED_LOG_RATE = "2/86400"  # one window for the test
    for _ in range(4):
        assert post_facebook({"object": "page"}, signature="").status == HTTPStatus.UNAUTHORIZED
    assert WebhookDelivery.objects.count() == 2


def test_forged_signature_is_403_and_nothing_is_processed(
    post_facebook: Post, fb_source: Any
) -> None:
    reply = post_facebook(fb_body(fb_change(email="a@example.com")), secret="not-the-secret")
    assert reply.status == HTTPStatus.FORBIDDEN
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.REJECTED and delivery.http_status == 403
    assert not Lead.objects.exists() and not Event.objects.exists()


def test_signature_over_a_reserialised_body_is_refused(client: Client, fb_source: Any) -> None:
    body = json.dumps(fb_body(fb_change(email="a@example.com")), indent=2).encode()
    compact = json.dumps(json.loads(body)).encode()
    response = client.post(
        "/hooks/facebook",
        body,
        content_type="application/json",
        headers={"X-Hub-Signature-256": facebook_signature(FB_SECRET, compact)},
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not Lead.objects.exists()


def test_legacy_sha1_signature_alone_is_not_enough(post_facebook: Post, fb_source: Any) -> None:
    reply = post_facebook(
        fb_body(fb_change(email="a@example.com")),
        signature="",
        headers={"X-Hub-Signature": "sha1=0123"},
    )
    assert reply.status == HTTPStatus.UNAUTHORIZED


def test_signed_request_with_wrong_content_type_is_415(post_facebook: Post, fb_source: Any) -> None:
    reply = post_facebook(fb_body(fb_change(email="a@example.com")), content_type="text/plain")
    assert reply.status == HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    assert WebhookDelivery.objects.get().status == DeliveryStatus.INVALID


@pytest.mark.parametrize(
    "raw", [b"{not json", b'{"object": NaN}', b"\xff\xfe", b"   ", b"[" * 5000]
)
def test_signed_malformed_json_is_400(post_facebook: Post, fb_source: Any, raw: bytes) -> None:
    reply = post_facebook(raw)
    assert reply.status == HTTPStatus.BAD_REQUEST
    assert "JSON" in reply.body["detail"] or "UTF-8" in reply.body["detail"]
    assert not Lead.objects.exists()


def test_oversized_body_is_413_before_it_is_read(
    post_facebook: Post, fb_source: Any, settings: Any
) -> None:
    settings.LEADBASE_HOOKS_MAX_BODY_BYTES = 1000
    reply = post_facebook({"object": "page", "entry": [], "pad": "x" * 2000})
    assert reply.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert "1,000 bytes" in reply.body["detail"]
    assert WebhookDelivery.objects.get().http_status == 413


def test_a_non_lead_ads_body_is_400(post_facebook: Post, fb_source: Any) -> None:
    reply = post_facebook({"object": "user", "entry": []})
    assert reply.status == HTTPStatus.BAD_REQUEST
    assert "Lead Ads" in reply.body["detail"]


# --- Leads ---------------------------------------------------------------------------------


def test_a_lead_is_created_with_source_channel_event_and_defaults(
    post_facebook: Post, fb_source: WebhookSource
) -> None:
    reply = post_facebook(
        fb_body(
            fb_change(
                "9001",
                email="Ann.Lee@Example.COM",
                full_name="Ann Marie Lee",
                phone_number="+44 20 7946 0958",
                company_name="Example Ltd",
                job_title="Head of Marketing",
                city="London",
                country="GB",
                **{"what's_your_budget?": "10-50k"},
            )
        )
    )
    assert reply.status == HTTPStatus.OK, reply.body
    assert reply.body["results"][0]["status"] == "accepted"
    lead = Lead.objects.get()
    assert (lead.email, lead.first_name, lead.last_name) == (
        "ann.lee@example.com",
        "Ann Marie",
        "Lee",
    )
    assert (lead.phone, lead.country, lead.city) == ("+442079460958", "GB", "London")
    assert lead.company is not None and lead.company.name == "Example Ltd"
    assert lead.source_channel == "paid_social"
    assert lead.source_detail == "facebook:Spring ads"
    assert lead.attributes == {"what_s_your_budget": "10-50k"}
    event = Event.objects.get(type="form_submitted")
    assert event.lead == lead and event.source == "facebook:Spring ads"
    assert event.properties["leadgen_id"] == "9001"
    assert event.properties["form_id"] == "2002" and event.properties["ad_id"] == "3003"
    assert event.properties["platform"] == "facebook"
    assert event.occurred_at.timestamp() == 1_760_000_000
    delivery = WebhookDelivery.objects.get()
    assert (delivery.source, delivery.lead, delivery.external_id) == (fb_source, lead, "9001")


def test_the_same_leadgen_id_again_is_a_duplicate_with_no_second_lead(
    post_facebook: Post, fb_source: Any
) -> None:
    body = fb_body(fb_change("777", email="dup@example.com"))
    assert post_facebook(body).body["results"][0]["status"] == "accepted"
    second = post_facebook(body)
    assert second.status == HTTPStatus.OK
    assert second.body["results"][0]["status"] == "duplicate"
    # even with other answers, the leadgen id decides
    third = post_facebook(fb_body(fb_change("777", email="someone-else@example.com")))
    assert third.body["results"][0]["status"] == "duplicate"
    assert Lead.objects.count() == 1
    assert Event.objects.filter(type="form_submitted").count() == 1
    statuses = list(WebhookDelivery.objects.order_by("id").values_list("status", flat=True))
    assert statuses == ["accepted", "duplicate", "duplicate"]
    lead = Lead.objects.get()
    assert all(d.lead == lead for d in WebhookDelivery.objects.all())


def test_one_bad_change_does_not_lose_the_others(post_facebook: Post, fb_source: Any) -> None:
    body = fb_body(
        fb_change("1", email="one@example.com"),
        fb_change("2", email="not-an-email"),  # no phone either: cannot be a lead
        {"field": "leadgen", "value": {"page_id": "1001"}},  # no leadgen id
        {"field": "feed", "value": {}},  # another subscription: ignored
        fb_change("3", email="three@example.com"),
    )
    reply = post_facebook(body)
    assert reply.status == HTTPStatus.OK
    statuses = [r["status"] for r in reply.body["results"]]
    assert statuses == ["accepted", "invalid", "invalid", "accepted"]
    assert "email" in reply.body["results"][1]["detail"]
    assert "leadgen_id" in reply.body["results"][2]["detail"]
    assert any("not a leadgen change" in note for note in reply.body["notes"])
    assert set(Lead.objects.values_list("email", flat=True)) == {
        "one@example.com",
        "three@example.com",
    }


def test_an_invalid_value_is_kept_as_an_attribute_not_lost(
    post_facebook: Post, fb_source: Any
) -> None:
    reply = post_facebook(fb_body(fb_change(email="x@example.com", country="Atlantis")))
    assert "country" in reply.body["results"][0]["detail"]
    lead = Lead.objects.get()
    assert lead.country == "" and lead.attributes["invalid_country"] == "Atlantis"


def test_a_country_name_becomes_its_code(post_facebook: Post, fb_source: Any) -> None:
    post_facebook(fb_body(fb_change(email="x@example.com", country="United Kingdom")))
    assert Lead.objects.get().country == "GB"


def test_unicode_and_idn_emails(post_facebook: Post, fb_source: Any) -> None:
    post_facebook(fb_body(fb_change("u1", email="Zoë@Bücher.Example", full_name="Zoë Ångström")))
    post_facebook(fb_body(fb_change("u2", email="zoë@xn--bcher-kva.example")))
    lead = Lead.objects.get()  # the same person both times
    assert lead.email == "zoë@bücher.example"
    assert (lead.first_name, lead.last_name) == ("Zoë", "Ångström")


def test_a_notification_without_field_data_is_kept_as_failed(
    post_facebook: Post, fb_source: Any
) -> None:
    reply = post_facebook(fb_body(fb_change("5555")))
    result = reply.body["results"][0]
    assert reply.status == HTTPStatus.OK and result["status"] == "failed"
    assert "Graph API" in result["detail"]
    assert WebhookDelivery.objects.get().external_id == "5555"
    assert not Lead.objects.exists()


def test_the_source_mapping_overrides_the_defaults(post_facebook: Post, fb_source: Any) -> None:
    webhook_source_update(
        source=fb_source,
        changes={
            "field_mapping": {
                "Firma": "company",
                "city": "attributes.town",
                "job_title": "",
                "Budget": "attributes.budget",
            }
        },
    )
    post_facebook(
        fb_body(
            fb_change(email="m@example.com", firma="ACME", city="Köln", job_title="x", budget="5k")
        )
    )
    lead = Lead.objects.get()
    assert lead.company is not None and lead.company.name == "ACME"
    assert lead.city == "" and lead.job_title == ""
    assert lead.attributes == {"town": "Köln", "budget": "5k"}


def test_the_source_is_picked_by_page_or_form_id(post_facebook: Post, db: None) -> None:
    by_page = webhook_source_create(
        kind="facebook", name="Page A", secret=FB_SECRET, external_id="1001"
    )
    by_form = webhook_source_create(
        kind="facebook", name="Form B", secret=FB_SECRET, external_id="7007"
    )
    post_facebook(fb_body(fb_change("a", email="a@example.com")))
    post_facebook(fb_body(fb_change("b", email="b@example.com", page_id="9", form_id="7007")))
    unmatched = post_facebook(
        fb_body(fb_change("c", email="c@example.com", page_id="5", form_id="6"))
    )
    assert WebhookDelivery.objects.get(external_id="a").source == by_page
    assert WebhookDelivery.objects.get(external_id="b").source == by_form
    assert unmatched.body["results"][0]["status"] == "rejected"
    assert "match no source" in unmatched.body["results"][0]["detail"]
    assert not Lead.objects.filter(email="c@example.com").exists()


def test_each_secret_verifies_only_its_own_sources(post_facebook: Post, db: None) -> None:
    webhook_source_create(kind="facebook", name="App 1", secret="secret-one")
    two = webhook_source_create(kind="facebook", name="App 2", secret="secret-two")
    post_facebook(fb_body(fb_change("z", email="z@example.com")), secret="secret-two")
    assert WebhookDelivery.objects.get().source == two


def test_consent_text_records_a_marketing_consent_and_campaign_is_set(
    post_facebook: Post, fb_source: WebhookSource
) -> None:
    campaign = Campaign.objects.create(name="Spring 2026", channel="paid_social")
    webhook_source_update(
        source=fb_source,
        changes={"consent_text": "Yes, email me offers.", "campaign": campaign},
    )
    post_facebook(fb_body(fb_change(email="c@example.com")))
    consent = Consent.objects.get()
    assert (consent.purpose, consent.status, consent.text_shown) == (
        "marketing_email",
        "granted",
        "Yes, email me offers.",
    )
    assert Lead.objects.get().campaign == campaign


def test_an_unexpected_failure_answers_500_and_keeps_the_others(
    post_facebook: Post, fb_source: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = services_hooks.lead_upsert  # type: ignore[attr-defined]

    def flaky(**kwargs: Any) -> Any:
        if kwargs["data"].get("email") == "boom@example.com":
            raise RuntimeError("database hiccup")
        return real(**kwargs)

    monkeypatch.setattr(services_hooks, "lead_upsert", flaky)
    body = fb_body(
        fb_change("ok", email="ok@example.com"), fb_change("bad", email="boom@example.com")
    )
    reply = post_facebook(body)
    assert reply.status == HTTPStatus.INTERNAL_SERVER_ERROR  # so the platform retries
    assert [r["status"] for r in reply.body["results"]] == ["accepted", "failed"]
    monkeypatch.setattr(services_hooks, "lead_upsert", real)
    retry = post_facebook(body)  # the retry: the first is a duplicate, the second goes in
    assert retry.status == HTTPStatus.OK
    assert [r["status"] for r in retry.body["results"]] == ["duplicate", "accepted"]
    assert Lead.objects.count() == 2


def test_hostile_strings_are_stored_verbatim(post_facebook: Post, fb_source: Any) -> None:
    name = '<script>alert("x")</script>'
    post_facebook(fb_body(fb_change(email="h@example.com", first_name=name, notes="=HYPERLINK(1)")))
    lead = Lead.objects.get()
    assert lead.first_name == name and lead.attributes["notes"] == "=HYPERLINK(1)"


def test_too_many_changes_in_one_request_is_413(post_facebook: Post, fb_source: Any) -> None:
    changes = [fb_change(str(i), email=f"n{i}@example.com") for i in range(101)]
    reply = post_facebook(fb_body(*changes))
    assert reply.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert not Lead.objects.exists()


def test_no_csrf_token_is_needed(fb_source: Any) -> None:
    raw = json.dumps(fb_body(fb_change("csrf", email="csrf@example.com"))).encode()
    response = Client(enforce_csrf_checks=True).post(
        "/hooks/facebook",
        raw,
        content_type="application/json",
        headers={"X-Hub-Signature-256": facebook_signature(FB_SECRET, raw)},
    )
    assert response.status_code == HTTPStatus.OK
    assert Lead.objects.filter(email="csrf@example.com").exists()


def test_only_get_and_post_are_allowed(client: Client, db: None) -> None:
    assert client.put("/hooks/facebook").status_code == HTTPStatus.METHOD_NOT_ALLOWED
