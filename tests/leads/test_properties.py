"""Property tests: normalisation is stable, and merging never loses an event or a value."""

from __future__ import annotations

from typing import Any

import phonenumbers
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from leadbase.leads.merge_rules import LEAD_FIELDS
from leadbase.leads.models import Event, Lead, LeadChange
from leadbase.leads.normalize import normalize_email, normalize_phone
from leadbase.leads.services import lead_merge, lead_upsert


@given(st.emails())
def test_email_normalisation_is_idempotent_and_case_insensitive(raw: str) -> None:
    try:
        once = normalize_email(raw)
    except ValueError:
        assume(False)
        return
    assert normalize_email(once) == once
    assert once == once.lower()
    assert normalize_email(raw.swapcase()) == once or not raw.isascii()


regions = sorted(r for r in phonenumbers.SUPPORTED_REGIONS if r.isalpha())


@given(st.sampled_from(regions), st.sampled_from(["mobile", "fixed"]), st.booleans())
def test_phone_normalisation_gives_one_e164_form(region: str, kind: str, national: bool) -> None:
    number_type = (
        phonenumbers.PhoneNumberType.MOBILE
        if kind == "mobile"
        else phonenumbers.PhoneNumberType.FIXED_LINE
    )
    example = phonenumbers.example_number_for_type(region, number_type)
    assume(example is not None and phonenumbers.is_valid_number(example))
    assert example is not None
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if national
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    written = phonenumbers.format_number(example, fmt)
    e164 = normalize_phone(written, country=region)
    assert e164.startswith("+")
    assert normalize_phone(e164) == e164


text = st.sampled_from(["", "Ann", "Bob", "Zoë", "王伟", "<b>x</b>"])
lead_fields = st.fixed_dictionaries(
    {},
    optional={
        "first_name": text,
        "last_name": text,
        "job_title": st.sampled_from(["", "CTO", "Engineer"]),
        "city": st.sampled_from(["", "Paris", "Zürich"]),
        "phone": st.sampled_from(["", "+14155550123", "+442079460958"]),
        "attributes": st.dictionaries(st.sampled_from(["plan", "seats"]), st.integers(0, 3)),
    },
)


@pytest.mark.django_db
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(a=lead_fields, b=lead_fields, events_a=st.integers(0, 3), events_b=st.integers(0, 3))
def test_merge_never_loses_an_event_or_a_value(
    a: dict[str, Any], b: dict[str, Any], events_a: int, events_b: int
) -> None:
    Lead.objects.all().delete()
    primary = lead_upsert(data={**a, "email": "a@merge.example"}, source="t").lead
    duplicate = lead_upsert(data={**b, "email": "b@merge.example", "phone": ""}, source="t").lead
    if b.get("phone") and not Lead.objects.filter(phone=b["phone"]).exists():
        duplicate.phone = b["phone"]
        duplicate.save()
    for lead, count in ((primary, events_a), (duplicate, events_b)):
        for i in range(count):
            Event.objects.create(lead=lead, type="page_view", occurred_at=lead.created_at,
                                 properties={"i": i})  # fmt: skip
    before_values = [
        (name, str(getattr(lead, name)))
        for lead in (primary, duplicate)
        for name in LEAD_FIELDS
        if getattr(lead, name)
    ]
    before_attrs = [
        (f"attributes.{k}", str(v))
        for lead in (primary, duplicate)
        for k, v in lead.attributes.items()
    ]
    before_events = Event.objects.count()

    merged = lead_merge(primary=primary, duplicate=duplicate)

    assert Lead.objects.count() == 1
    assert Event.objects.filter(lead=merged).count() == before_events + 1  # + the merge event
    history = set(LeadChange.objects.filter(lead=merged).values_list("field", "new_value"))
    for name, value in before_values:
        assert str(getattr(merged, name)) == value or (name, value) in history, name
    for name, value in before_attrs:
        key = name.split(".", 1)[1]
        assert str(merged.attributes.get(key)) == value or (name, value) in history, name
