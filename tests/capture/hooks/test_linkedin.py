"""LinkedIn Lead Gen Forms at /hooks/linkedin: URL validation, signatures, leads."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client

from leadbase.capture.models import DeliveryStatus, WebhookDelivery, WebhookSource
from leadbase.capture.services_hooks import webhook_source_create, webhook_source_update
from leadbase.leads.models import Consent, Event, Lead

from .conftest import LI_SECRET, Hit, li_notice

Post = Callable[..., Hit]
CODE = "890e4665-4dfe-4ab1-b689-ed553bceeed0"


def test_validation_answers_the_challenge_with_its_hmac(client: Client, li_source: Any) -> None:
    response = client.get("/hooks/linkedin", {"challengeCode": CODE})
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("application/json")
    expected = hmac.new(LI_SECRET.encode(), CODE.encode(), hashlib.sha256).hexdigest()
    assert json.loads(response.content) == {"challengeCode": CODE, "challengeResponse": expected}


def test_validation_without_a_linkedin_source_is_403(client: Client, db: None) -> None:
    response = client.get("/hooks/linkedin", {"challengeCode": CODE})
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_validation_without_a_code_is_400(client: Client, li_source: Any) -> None:
    assert client.get("/hooks/linkedin").status_code == HTTPStatus.BAD_REQUEST


def test_missing_signature_is_401(post_linkedin: Post, li_source: Any) -> None:
    reply = post_linkedin(li_notice(answers={"EMAIL": "a@example.com"}), signature="")
    assert reply.status == HTTPStatus.UNAUTHORIZED
    assert WebhookDelivery.objects.get().status == DeliveryStatus.REJECTED
    assert not Lead.objects.exists()


def test_forged_signature_is_403(post_linkedin: Post, li_source: Any) -> None:
    reply = post_linkedin(li_notice(answers={"EMAIL": "a@example.com"}), secret="guess")
    assert reply.status == HTTPStatus.FORBIDDEN
    assert WebhookDelivery.objects.get().http_status == 403
    assert not Lead.objects.exists()


def test_reserialised_body_signature_is_refused(client: Client, li_source: Any) -> None:
    notice = li_notice(answers={"EMAIL": "a@example.com"})
    sent = json.dumps(notice, indent=2).encode()
    digest = hmac.new(
        LI_SECRET.encode(), b"hmacsha256=" + json.dumps(notice).encode(), hashlib.sha256
    ).hexdigest()
    response = client.post(
        "/hooks/linkedin", sent, content_type="application/json", headers={"X-LI-Signature": digest}
    )
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_body_only_signature_is_accepted_too(post_linkedin: Post, li_source: Any) -> None:
    notice = li_notice(answers={"EMAIL": "plain@example.com"})
    raw = json.dumps(notice).encode()
    digest = hmac.new(LI_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert post_linkedin(raw, signature=f"hmacsha256={digest}").status == HTTPStatus.OK
    assert Lead.objects.filter(email="plain@example.com").exists()


def test_a_lead_is_created_from_the_answers(post_linkedin: Post, li_source: WebhookSource) -> None:
    answers = {
        "FIRST_NAME": "Łucja",
        "LAST_NAME": "Nowak",
        "EMAIL": "lucja@example.pl",
        "COMPANY_NAME": "Przykład Sp. z o.o.",
        "JOB_TITLE": "VP Sales",
        "COUNTRY": "PL",
    }
    reply = post_linkedin(li_notice(answers=answers))
    assert reply.status == HTTPStatus.OK
    assert reply.body["results"][0]["status"] == "accepted"
    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name, lead.country) == ("Łucja", "Nowak", "PL")
    assert lead.seniority == "vp" and lead.source_detail == "linkedin:LI forms"
    event = Event.objects.get(type="form_submitted")
    assert event.properties["lead_id"] == "urn:li:leadGenFormResponse:abc-1"
    assert event.properties["platform"] == "linkedin"
    assert WebhookDelivery.objects.get().external_id == "urn:li:leadGenFormResponse:abc-1"


def test_the_same_response_id_is_a_duplicate(post_linkedin: Post, li_source: Any) -> None:
    notice = li_notice(answers={"EMAIL": "d@example.com"})
    post_linkedin(notice)
    again = post_linkedin(notice)
    assert again.body["results"][0]["status"] == "duplicate"
    assert Lead.objects.count() == 1
    assert Event.objects.filter(type="form_submitted").count() == 1


def test_a_deletion_notice_changes_nothing(post_linkedin: Post, li_source: Any) -> None:
    post_linkedin(li_notice(answers={"EMAIL": "d@example.com"}))
    reply = post_linkedin(li_notice(action="DELETED"))
    assert reply.body["results"][0]["status"] == "accepted"
    assert "DELETED" in reply.body["results"][0]["detail"]
    again = post_linkedin(li_notice(action="DELETED"))  # LinkedIn may deliver twice
    assert again.status == HTTPStatus.OK
    assert again.body["results"][0]["status"] == "duplicate"
    assert Lead.objects.count() == 1


def test_custom_questions_are_named_by_the_form_questions(
    post_linkedin: Post, li_source: WebhookSource
) -> None:
    webhook_source_update(
        source=li_source, changes={"field_mapping": {"budget": "attributes.budget"}}
    )
    notice = li_notice()
    notice["questions"] = [
        {"questionId": 1, "predefinedField": "EMAIL"},
        {"questionId": 2, "name": "budget"},
        {"questionId": 3},  # no name: kept as question_3
    ]
    notice["formResponse"] = {
        "answers": [
            {"questionId": 1, "answerDetails": {"textQuestionAnswer": {"answer": "q@example.com"}}},
            {"questionId": 2, "answerDetails": {"textQuestionAnswer": {"answer": "50k"}}},
            {"questionId": 3, "answerDetails": {"multipleChoiceAnswer": {"options": [1, 3]}}},
        ]
    }
    assert post_linkedin(notice).status == HTTPStatus.OK
    lead = Lead.objects.get()
    assert lead.email == "q@example.com"
    assert lead.attributes == {"budget": "50k", "question_3": "1, 3"}


def test_consent_is_not_recorded_when_linkedin_reports_it_unticked(
    post_linkedin: Post, li_source: WebhookSource
) -> None:
    webhook_source_update(source=li_source, changes={"consent_text": "Email me news"})
    refused = li_notice("urn:li:leadGenFormResponse:r1", answers={"EMAIL": "r@example.com"})
    refused["formResponse"]["consentResponses"] = [{"consentId": 1, "accepted": False}]
    given = li_notice("urn:li:leadGenFormResponse:r2", answers={"EMAIL": "g@example.com"})
    given["formResponse"]["consentResponses"] = [{"consentId": 1, "accepted": True}]
    post_linkedin(refused)
    post_linkedin(given)
    assert list(Consent.objects.values_list("lead__email", flat=True)) == ["g@example.com"]


def test_a_notification_without_answers_is_kept_as_failed(
    post_linkedin: Post, li_source: Any
) -> None:
    reply = post_linkedin(li_notice())
    assert reply.status == HTTPStatus.OK
    assert reply.body["results"][0]["status"] == "failed"
    assert "leadFormResponses" in reply.body["results"][0]["detail"]


@pytest.mark.parametrize(
    ("external_id", "taken"),
    [
        ("urn:li:sponsoredAccount:5208", True),
        ("5208", True),
        ("818", True),  # the form id inside the versioned form URN
        ("urn:li:leadGenForm:818", True),
        ("9999", False),
    ],
)
def test_the_source_is_picked_by_account_or_form(
    post_linkedin: Post, db: None, external_id: str, taken: bool
) -> None:
    webhook_source_create(kind="linkedin", name="Scoped", secret=LI_SECRET, external_id=external_id)
    reply = post_linkedin(li_notice(answers={"EMAIL": "s@example.com"}))
    assert (reply.body["results"][0]["status"] == "accepted") is taken
    assert Lead.objects.exists() is taken


def test_a_body_that_is_not_a_notification_is_400(post_linkedin: Post, li_source: Any) -> None:
    assert post_linkedin([1, 2]).status == HTTPStatus.BAD_REQUEST
    assert post_linkedin("[]").status == HTTPStatus.BAD_REQUEST
