"""submission_process: from a received submission to a lead, consent, owner and events."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult
from pytest_django import DjangoCaptureOnCommitCallbacks, Settings

from leadbase.accounts.models import User
from leadbase.capture import optin
from leadbase.capture.models import FieldKind, Form, FormPurpose, Submission, SubmissionStatus
from leadbase.capture.services_submissions import submission_process
from leadbase.capture.tasks import submission_process_task
from leadbase.leads.models import Channel, Consent, Event, Lead, LeadChange
from tests.capture.forms.conftest import (
    CONSENT_TEXT,
    PostJSON,
    create_form,
    process_all,
    valid_data,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def followups(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Calls of optin.submission_followups as (submission id, lead id)."""
    calls: list[tuple[int, int]] = []

    def record(*, submission: Submission, result: Any) -> None:
        calls.append((submission.pk, result.lead.pk))

    monkeypatch.setattr(optin, "submission_followups", record)
    return calls


def submit(form: Form, post_json: PostJSON, **overrides: Any) -> Submission:
    response = post_json(form, valid_data(form, **overrides))
    assert response.status_code == HTTPStatus.OK, response.content
    return Submission.objects.latest("id")


def test_processing_makes_the_lead_with_mapped_fields_campaign_and_attribution(
    form: Form, post_json: PostJSON
) -> None:
    submit(
        form,
        post_json,
        phone="+49 30 901820",
        country="DE",
        team_size="11-50",
        updates=True,
        ref="partner-7",
        message="Hello",
        **{
            "lb.landing_page": "https://www.acme.example/demo?utm_source=google&utm_medium=cpc",
            "lb.referrer": "https://www.google.com/",
            "lb.utm_campaign": "spring",
        },
    )
    [submission] = process_all()

    assert submission.status == SubmissionStatus.PROCESSED
    lead = Lead.objects.select_related("company", "campaign").get()
    assert submission.lead == lead and submission.processed_at is not None
    assert (lead.email, lead.first_name, lead.last_name) == ("ann.lee@acme.example", "Ann", "Lee")
    assert (lead.phone, lead.country) == ("+4930901820", "DE")
    assert lead.company is not None and lead.company.name == "Acme"
    assert lead.campaign is not None and lead.campaign.name == "Spring webinar"
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign) == ("google", "cpc", "spring")
    assert lead.landing_page == "https://www.acme.example/demo?utm_source=google&utm_medium=cpc"
    assert lead.referrer_url == "https://www.google.com/"
    assert lead.source_channel == Channel.PAID_SEARCH
    assert lead.source_detail == "form:demo"
    assert lead.attributes == {
        "team_size": "11-50",
        "wants_updates": True,
        "partner_ref": "partner-7",
        "message": "Hello",
    }


def test_the_forms_channel_wins_over_the_derived_one(form: Form, post_json: PostJSON) -> None:
    form.channel = Channel.EVENT
    form.save()
    submit(form, post_json, **{"lb.utm_medium": "cpc"})
    process_all()
    assert Lead.objects.get().source_channel == Channel.EVENT


def test_consent_is_recorded_with_the_exact_text_shown_source_and_ip(
    form: Form, post_json: PostJSON
) -> None:
    submission = submit(form, post_json)
    form.consent_text = "A newer text, shown to nobody who posted before"
    form.save()
    process_all()

    consent = Consent.objects.get()
    assert consent.text_shown == CONSENT_TEXT
    assert (consent.purpose, consent.status) == ("marketing_email", "granted")
    assert consent.source == "form:demo"
    assert consent.ip_address == "127.0.0.1"
    assert consent.recorded_at == submission.created_at


def test_no_consent_row_when_the_optional_box_is_left_empty(
    form: Form, post_json: PostJSON
) -> None:
    form.consent_required = False
    form.save()
    submit(form, post_json, **{"lb.consent": False})
    process_all()
    assert Lead.objects.exists() and not Consent.objects.exists()


def test_form_submitted_and_the_purpose_event_are_recorded_at_submission_time(
    form: Form, post_json: PostJSON
) -> None:
    submission = submit(
        form,
        post_json,
        **{"lb.landing_page": "https://www.acme.example/demo", "lb.visitor_id": "v-123"},
    )
    process_all()

    events = {e.type: e for e in Event.objects.exclude(type="lead_created")}
    assert set(events) == {"form_submitted", "demo_request"}
    for event in events.values():
        assert event.occurred_at == submission.created_at
        assert event.source == "form:demo"
        assert event.properties == {
            "form": "demo",
            "purpose": "demo_request",
            "submission_id": submission.pk,
            "landing_page": "https://www.acme.example/demo",
            "visitor_id": "v-123",
        }


@pytest.mark.parametrize(
    ("purpose", "extra"),
    [
        (FormPurpose.NEWSLETTER, None),
        (FormPurpose.CONTACT, None),
        (FormPurpose.CONTEST, None),
        (FormPurpose.CONTENT_DOWNLOAD, "content_requested"),
        (FormPurpose.WEBINAR, "webinar_registered"),
        (FormPurpose.QUOTE_REQUEST, "quote_request"),
        (FormPurpose.TRIAL_SIGNUP, "trial_signup"),
    ],
)
def test_purpose_events(purpose: str, extra: str | None, post_json: PostJSON) -> None:
    form = create_form(slug=f"f-{purpose}", purpose=purpose)
    submit(form, post_json)
    process_all()
    types = set(Event.objects.exclude(type="lead_created").values_list("type", flat=True))
    assert types == {"form_submitted", *([extra] if extra else [])}


def test_the_forms_owner_gets_a_lead_without_one_only(
    form: Form, post_json: PostJSON, rep: User, other_rep: User
) -> None:
    form.owner = rep
    form.save()
    submit(form, post_json)
    process_all()
    lead = Lead.objects.get()
    assert lead.owner == rep
    assert LeadChange.objects.filter(lead=lead, field="owner_id").exists()

    Lead.objects.filter(pk=lead.pk).update(owner=other_rep)
    submit(form, post_json, email="ann.lee@acme.example", first_name="Ann")  # a duplicate
    Submission.objects.update(created_at="2020-01-01T00:00:00Z")  # outside the window
    submit(form, post_json)
    process_all()
    assert Lead.objects.get().owner == other_rep


def test_an_existing_lead_is_updated_not_duplicated_and_kept_values_win(
    form: Form, post_json: PostJSON, make_lead: Any
) -> None:
    make_lead(email="ann.lee@acme.example", first_name="Annette")
    submit(form, post_json)
    process_all()

    lead = Lead.objects.get()
    assert lead.first_name == "Annette"  # a form never overwrites what a person entered
    assert LeadChange.objects.filter(lead=lead, field="first_name", kind="conflict_kept").exists()
    assert Event.objects.filter(lead=lead, type="form_submitted").count() == 1


def test_processing_twice_does_nothing_the_second_time(
    form: Form, post_json: PostJSON, followups: list[tuple[int, int]],
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:  # fmt: skip
    submission = submit(form, post_json)
    with django_capture_on_commit_callbacks(execute=True):
        first = submission_process(submission=submission)
    with django_capture_on_commit_callbacks(execute=True):
        second = submission_process(submission=submission)

    assert first is not None and first.created
    assert second is None
    assert Event.objects.filter(type="form_submitted").count() == 1
    assert followups == [(submission.pk, first.lead.pk)]


def test_followups_run_only_after_the_commit(
    form: Form, post_json: PostJSON, followups: list[tuple[int, int]],
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:  # fmt: skip
    submission = submit(form, post_json)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        submission_process(submission=submission)
    assert followups == []  # not inside the transaction
    for callback in callbacks:
        callback()
    assert followups == [(submission.pk, Lead.objects.get().pk)]


def test_a_submission_that_cannot_make_a_lead_is_marked_failed(
    form: Form, post_json: PostJSON
) -> None:
    submission = submit(form, post_json)
    # the form changed after the visit: the email now goes nowhere, and a lead needs one
    form.fields.filter(name="email").update(maps_to="attributes.contact")
    form.save()

    assert submission_process(submission=submission) is None

    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.FAILED
    assert "email address or a phone number is required" in submission.error
    assert not Lead.objects.exists()


def test_the_old_per_submission_task_still_processes_rows_queued_before(
    form: Form, post_json: PostJSON
) -> None:
    submission = submit(form, post_json)

    assert submission_process_task.call(submission_id=submission.pk) == "processed"
    assert submission_process_task.call(submission_id=submission.pk) == "processed"
    assert submission_process_task.call(submission_id=10**9) == "missing"
    assert Event.objects.filter(type="form_submitted").count() == 1


def test_spam_and_duplicates_enqueue_no_task(form: Form, post_json: PostJSON) -> None:
    submit(form, post_json, **{"lb.website": "bot"})
    assert not DBTaskResult.objects.exists()


def test_with_the_immediate_backend_the_request_processes_after_its_commit(
    form: Form, post_json: PostJSON, settings: Settings,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:  # fmt: skip
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        submission = submit(form, post_json)

    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.PROCESSED
    assert Lead.objects.filter(email="ann.lee@acme.example").exists()


def test_a_phone_only_form_makes_a_lead_from_the_phone(post_json: PostJSON) -> None:
    form = create_form(
        slug="callback",
        consent_text="",
        fields=[
            {"name": "tel", "label": "Phone", "kind": FieldKind.PHONE, "required": True,
             "maps_to": "phone"},
            {"name": "country", "label": "Country", "kind": FieldKind.COUNTRY,
             "maps_to": "country"},
        ],
    )  # fmt: skip
    response = post_json(
        form, {"tel": "030 901820", "country": "DE", "lb.token": valid_data(form)["lb.token"]}
    )
    assert response.status_code == HTTPStatus.OK, response.json()
    process_all()
    assert Lead.objects.get().phone == "+4930901820"
