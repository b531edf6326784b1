"""lead_upsert_many with consents: written in one insert per chunk, as lead_upsert writes them,
never twice for the same lead, purpose, status and text; and the creation rows (event,
transition) the database writes from the new leads are those lead_upsert writes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from leadbase.accounts.models import User
from leadbase.core.errors import ValidationFailed
from leadbase.leads.bulk import BatchConsent, lead_upsert_many
from leadbase.leads.models import Consent, Event, Lead, LifecycleTransition
from leadbase.leads.services import ConsentInput, lead_upsert
from tests.leads.test_bulk import _wipe

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert('x')</script> =HYPERLINK(\"http://evil\") ‮ Zoë 同意 🎉\nline two"
TEXT = "Yes, send me the newsletter about Leadbase."


def _consents() -> list[tuple[Any, ...]]:
    return sorted(
        Consent.objects.values_list(
            "lead__email", "purpose", "status", "text_shown", "source", "recorded_at", "ip_address"
        )
    )


def test_consents_are_recorded_once_however_often_the_rows_come() -> None:
    at = timezone.now().replace(microsecond=0)
    given = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    rows = [{"email": f"p{i}@acme.example"} for i in range(4)]
    consents: list[list[ConsentInput]] = [
        [ConsentInput(purpose="newsletter", text_shown=TEXT)],
        [BatchConsent(purpose="newsletter", text_shown=TEXT, given_at=given)],
        [],
        [ConsentInput(purpose="newsletter", text_shown=TEXT, source="fair 2024")],
    ]
    first = lead_upsert_many(rows, source="import:a.csv", consents=consents, at=at)
    assert [o.action for o in first.outcomes] == ["created"] * 4
    assert _consents() == [
        ("p0@acme.example", "newsletter", "granted", TEXT, "import:a.csv", at, None),
        ("p1@acme.example", "newsletter", "granted", TEXT, "import:a.csv", given, None),
        ("p3@acme.example", "newsletter", "granted", TEXT, "fair 2024", at, None),
    ]

    again = lead_upsert_many(rows, source="import:b.csv", consents=consents)
    assert [o.action for o in again.outcomes] == ["unchanged"] * 4
    assert Consent.objects.count() == 3

    new_text = [[ConsentInput(purpose="newsletter", text_shown=TEXT + " Monthly.")]] * 4
    changed = lead_upsert_many(rows, source="import:c.csv", consents=new_text)
    assert [o.action for o in changed.outcomes] == ["updated"] * 4
    assert Consent.objects.count() == 7


def test_rows_of_one_batch_for_the_same_lead_record_it_once() -> None:
    consent = ConsentInput(purpose="sales_contact", text_shown=TEXT)
    rows = [{"email": "ann@acme.example"}, {"email": "ANN@acme.example", "city": "Paris"}]
    rows += [{"email": "ann@acme.example"}]
    result = lead_upsert_many(rows, source="import", consents=[[consent]] * 3)
    assert [o.action for o in result.outcomes] == ["created", "updated", "unchanged"]
    assert Consent.objects.count() == 1


def test_a_consent_a_form_recorded_is_not_recorded_again_but_another_purpose_is() -> None:
    form = ConsentInput(purpose="newsletter", text_shown=TEXT, ip_address="203.0.113.9")
    lead = lead_upsert(data={"email": "ann@acme.example"}, source="form:x", consents=[form]).lead
    consents = [[ConsentInput(purpose="newsletter", text_shown=TEXT)]]
    result = lead_upsert_many([{"email": "ann@acme.example"}], source="import", consents=consents)
    assert result.outcomes[0].action == "unchanged"
    consents = [[ConsentInput(purpose="phone", text_shown=TEXT)]]
    result = lead_upsert_many([{"email": "ann@acme.example"}], source="import", consents=consents)
    assert result.outcomes[0].action == "updated"
    assert sorted(lead.consents.values_list("purpose", "source", "ip_address")) == [
        ("newsletter", "form:x", "203.0.113.9"),
        ("phone", "import", None),
    ]


def test_a_withdrawal_is_not_undone_by_the_same_consent_again() -> None:
    granted = ConsentInput(purpose="newsletter", text_shown=TEXT)
    withdrawn = ConsentInput(purpose="newsletter", text_shown=TEXT, granted=False)
    rows = [{"email": "ann@acme.example"}]
    lead_upsert_many(rows, source="import", consents=[[granted]])
    lead_upsert_many(rows, source="unsubscribe", consents=[[withdrawn]])
    lead_upsert_many(rows, source="import", consents=[[granted]])
    statuses = list(Consent.objects.order_by("id").values_list("status", flat=True))
    assert statuses == ["granted", "withdrawn"]


def test_hostile_and_unicode_text_is_stored_exactly() -> None:
    consents = [[ConsentInput(purpose="profiling", text_shown=HOSTILE)]]
    lead_upsert_many([{"email": "zoë@acme.example"}], source="import", consents=consents)
    assert Consent.objects.get().text_shown == HOSTILE


def test_bad_consents_reject_the_whole_batch_before_anything_is_written() -> None:
    rows = [{"email": "ann@acme.example"}]
    with pytest.raises(ValidationFailed, match="Unknown consent purpose"):
        lead_upsert_many(rows, source="import", consents=[[ConsentInput(purpose="spam")]])
    with pytest.raises(ValueError, match="2 consent entries for 1 rows"):
        lead_upsert_many(rows, source="import", consents=[[], []])
    assert not Lead.objects.exists()


def _creation_rows() -> dict[str, Any]:
    return {
        "events": sorted(
            Event.objects.values_list(
                "lead__email", "type", "occurred_at", "properties", "source", "lead__phone"
            )
        ),
        "transitions": sorted(
            LifecycleTransition.objects.values_list(
                "lead__email", "kind", "from_value", "to_value", "at", "reason", "actor_label"
            )
        ),
        "consents": _consents(),
    }


@pytest.mark.parametrize("actor", [False, True])
def test_creation_rows_and_consents_are_those_lead_upsert_writes(
    actor: bool, admin_user: User
) -> None:
    at = timezone.now().replace(microsecond=0)
    rows: list[dict[str, Any]] = [
        {"email": "ann@acme.example", "source_channel": "event", "lifecycle_stage": "mql"},
        {"email": "bob@acme.example", "phone": "+14155550123"},
        {"phone": "+442079460958", "first_name": "Zoë"},
    ]
    consent = ConsentInput(purpose="newsletter", text_shown=HOSTILE)
    user = admin_user if actor else None
    for row in rows:
        lead_upsert(data=row, source="import:x", consents=[consent], at=at, actor=user)
    expected = _creation_rows()
    _wipe()
    Consent.objects.all().delete()
    lead_upsert_many(rows, source="import:x", consents=[[consent]] * 3, at=at, actor=user)
    assert _creation_rows() == expected
    if user is not None:
        assert set(LifecycleTransition.objects.values_list("actor", flat=True)) == {user.pk}
