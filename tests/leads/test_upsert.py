"""lead_upsert: validation, normalisation, dedup, merge without loss, consent, events."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from leadbase.accounts.models import User
from leadbase.core.errors import ValidationFailed
from leadbase.leads.models import (
    Company,
    Consent,
    DuplicateSuggestion,
    Event,
    Lead,
    LeadChange,
    LifecycleTransition,
)
from leadbase.leads.services import (
    LEAD_CREATED,
    ConsentInput,
    lead_merge,
    lead_update,
    lead_upsert,
    transition_record,
)

pytestmark = pytest.mark.django_db


def test_new_lead_is_created_with_creation_event_and_transition() -> None:
    result = lead_upsert(
        data={"email": " Ann@Example.COM ", "first_name": "Ann", "company": "Example Ltd"},
        source="api",
    )
    lead = result.lead
    assert result.action == "created"
    assert lead.email == "ann@example.com"
    assert lead.company is not None and lead.company.domain == "example.com"
    assert list(Event.objects.filter(lead=lead).values_list("type", flat=True)) == [LEAD_CREATED]
    transition = LifecycleTransition.objects.get(lead=lead)
    assert (transition.from_value, transition.to_value) == ("", "lead")
    assert lead.became_lead_at is not None
    assert "ann example.com" not in lead.search_text and "ann@example.com" in lead.search_text


def test_same_email_in_any_case_updates_the_same_lead() -> None:
    first = lead_upsert(data={"email": "ann@example.com"}, source="form").lead
    second = lead_upsert(data={"email": "ANN@EXAMPLE.com", "city": "Leeds"}, source="form")
    assert second.action == "updated"
    assert second.matched_by == "email"
    assert second.lead.pk == first.pk
    assert Lead.objects.count() == 1
    assert Lead.objects.get().city == "Leeds"


def test_phone_is_stored_in_e164_and_matches_across_formats() -> None:
    first = lead_upsert(data={"phone": "+44 20 7946 0958"}, source="form").lead
    assert first.phone == "+442079460958"
    again = lead_upsert(data={"phone": "020 7946 0958", "country": "gb"}, source="import")
    assert again.matched_by == "phone"
    assert again.lead.pk == first.pk


def test_phone_match_never_joins_two_different_email_addresses() -> None:
    lead_upsert(data={"email": "a@corp.example", "phone": "+14155550123"}, source="form")
    other = lead_upsert(data={"email": "b@corp.example", "phone": "+14155550123"}, source="form")
    assert other.action == "created"
    assert Lead.objects.count() == 2


def test_blank_fields_are_filled_and_conflicts_kept_in_history() -> None:
    lead_upsert(data={"email": "ann@example.com", "job_title": "Engineer"}, source="form")
    result = lead_upsert(
        data={"email": "ann@example.com", "job_title": "CTO", "city": "Paris"}, source="import"
    )
    lead = result.lead
    assert lead.job_title == "Engineer"
    assert lead.city == "Paris"
    assert result.conflicts == ("job_title",)
    change = LeadChange.objects.get(lead=lead, field="job_title")
    assert (change.old_value, change.new_value, change.kind) == ("Engineer", "CTO", "conflict_kept")
    assert change.source == "import"


def test_explicit_edit_overwrites_and_keeps_old_value() -> None:
    lead = lead_upsert(data={"email": "ann@example.com", "job_title": "Engineer"}, source="x").lead
    lead_update(lead=lead, data={"job_title": "CTO"}, actor=None)
    lead.refresh_from_db()
    assert lead.job_title == "CTO"
    assert LeadChange.objects.filter(field="job_title", old_value="Engineer", kind="updated")


def test_malformed_input_names_every_bad_field_and_writes_nothing() -> None:
    with pytest.raises(ValidationFailed) as caught:
        lead_upsert(
            data={"email": "not-an-email", "phone": "12", "country": "Narnia", "bogus": 1},
            source="api",
        )
    assert set(caught.value.fields) == {"email", "phone", "country", "bogus"}
    assert Lead.objects.count() == 0 and Event.objects.count() == 0


def test_lead_needs_email_or_phone() -> None:
    with pytest.raises(ValidationFailed) as caught:
        lead_upsert(data={"first_name": "Nobody"}, source="api")
    assert "email" in caught.value.fields


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_name", "x" * 101),  # longer than the column
        ("landing_page", "javascript:alert(1)"),  # not http(s)
        ("source_channel", "carrier-pigeon"),  # not a channel
        ("employee_count", "-5"),
        ("attributes", {"blob": "x" * 10_000}),  # oversized custom data
    ],
)
def test_bad_field_values_are_rejected(field: str, value: object) -> None:
    with pytest.raises(ValidationFailed) as caught:
        lead_upsert(data={"email": "ann@example.com", field: value}, source="api")
    assert field in caught.value.fields
    assert Lead.objects.count() == 0


def test_hostile_text_is_stored_as_plain_text_without_control_characters() -> None:
    lead = lead_upsert(
        data={
            "email": "eve@example.com",
            "first_name": "<script>alert(1)</script>",
            "last_name": "Smith\r\nBcc: victim@example.com",
            "job_title": '=HYPERLINK("http://evil")',
        },
        source="form",
    ).lead
    assert lead.first_name == "<script>alert(1)</script>"
    assert "\r" not in lead.last_name and "\n" not in lead.last_name
    assert lead.job_title.startswith("=")  # neutralised on export, not on storage


def test_unicode_names_and_domains_are_kept() -> None:
    lead = lead_upsert(
        data={"email": "zoë@bücher.example", "first_name": "Zoë", "last_name": "王伟"},
        source="form",
    ).lead
    assert lead.first_name == "Zoë" and lead.last_name == "王伟"
    assert lead.email == "zoë@bücher.example"


def test_personal_mail_domain_does_not_create_a_company() -> None:
    lead = lead_upsert(data={"email": "someone@gmail.com"}, source="form").lead
    assert lead.company is None
    assert Company.objects.count() == 0


def test_same_name_at_same_company_domain_is_suggested_not_merged() -> None:
    a = lead_upsert(
        data={"email": "jo.smith@acme.example", "first_name": "Jo", "last_name": "Smith"},
        source="form",
    )
    b = lead_upsert(
        data={"email": "jsmith@acme.example", "first_name": "jo", "last_name": "SMITH"},
        source="import",
    )
    assert b.action == "created"
    assert b.duplicate_suggestions == (a.lead.pk,)
    assert DuplicateSuggestion.objects.filter(lead=b.lead, candidate=a.lead).exists()
    assert Lead.objects.count() == 2


def test_consent_is_recorded_with_text_source_and_ip() -> None:
    lead = lead_upsert(
        data={"email": "ann@example.com"},
        source="form:newsletter",
        consents=[
            ConsentInput(
                purpose="newsletter", text_shown="Send me the newsletter", ip_address="203.0.113.9"
            )
        ],
    ).lead
    consent = Consent.objects.get(lead=lead)
    assert consent.status == "granted"
    assert consent.text_shown == "Send me the newsletter"
    assert consent.ip_address == "203.0.113.9"
    assert consent.source == "form:newsletter"


def test_unknown_consent_purpose_is_rejected() -> None:
    with pytest.raises(ValidationFailed):
        lead_upsert(
            data={"email": "ann@example.com"}, source="x", consents=[ConsentInput(purpose="spam")]
        )
    assert Lead.objects.count() == 0


def test_merge_moves_everything_and_fills_blanks(make_lead: Callable[..., Lead]) -> None:
    primary = make_lead(email="ann@example.com", first_name="Ann")
    duplicate = make_lead(email="ann.old@example.com", last_name="Lee", city="Leeds")
    Consent.objects.create(
        lead=duplicate, purpose="newsletter", status="granted", recorded_at=duplicate.created_at
    )
    transition_record(lead=duplicate, to_stage="mql", reason="test")
    dup_id = duplicate.pk

    merged = lead_merge(primary=primary, duplicate=duplicate)

    assert not Lead.objects.filter(pk=dup_id).exists()
    assert merged.last_name == "Lee" and merged.city == "Leeds" and merged.first_name == "Ann"
    assert Event.objects.filter(lead=merged, type=LEAD_CREATED).count() == 2
    assert Event.objects.filter(lead=merged, type="lead_merged").count() == 1
    assert Consent.objects.filter(lead=merged).count() == 1
    assert LifecycleTransition.objects.filter(lead=merged, to_value="mql").exists()
    # the duplicate's differing email is kept in the history
    assert LeadChange.objects.filter(
        lead=merged, field="email", new_value="ann.old@example.com", kind="merged"
    ).exists()


def test_merge_refuses_the_same_lead(make_lead: Callable[..., Lead]) -> None:
    lead = make_lead()
    with pytest.raises(ValidationFailed):
        lead_merge(primary=lead, duplicate=lead)


def test_transition_records_first_time_at_stage(rep: User) -> None:
    lead = lead_upsert(data={"email": "ann@example.com"}, source="x").lead
    transition = transition_record(lead=lead, to_stage="sql", reason="demo booked", actor=rep)
    assert transition is not None and transition.actor == rep
    first_sql = lead.became_sql_at
    transition_record(lead=lead, to_stage="recycled", reason="went quiet")
    transition_record(lead=lead, to_stage="sql", reason="back")
    lead.refresh_from_db()
    assert lead.became_sql_at == first_sql
    assert transition_record(lead=lead, to_stage="sql", reason="again") is None


def test_source_detail_given_by_the_caller_is_kept() -> None:
    lead = lead_upsert(
        data={"email": "ann@example.com", "source_detail": "Spring webinar form"}, source="form"
    ).lead
    assert lead.source_detail == "Spring webinar form"
    assert (
        lead_upsert(data={"email": "bob@example.com"}, source="form").lead.source_detail == "form"
    )


@pytest.mark.parametrize(
    ("title", "seniority"),
    [
        ("Vice President of Sales", "vp"),
        ("President", "c_level"),
        ("Chief Revenue Officer", "c_level"),
        ("Product Owner", ""),
        ("Owner", "owner"),
        ("Co-founder & CTO", "owner"),
        ("Head of Growth", "director"),
        ("Marketing Manager", "manager"),
        ("Senior Engineer", "senior"),
        ("Marketing Intern", "entry"),
        ("Engineer", ""),
    ],
)
def test_seniority_is_read_from_the_job_title(title: str, seniority: str) -> None:
    lead = lead_upsert(data={"email": "t@example.com", "job_title": title}, source="x").lead
    assert lead.seniority == seniority
