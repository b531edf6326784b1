"""lead_upsert_many matching by phone: it reads only the leads lead_upsert could pick (not
every lead sharing a number), and still gives what lead_upsert gives row by row, also when
several stored leads share a phone, some without an email."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from leadbase.leads import bulk
from leadbase.leads.bulk import lead_upsert_many
from leadbase.leads.models import Lead
from leadbase.leads.normalize import normalize_lead_data
from tests.leads.test_bulk import _snapshot, _wipe
from tests.leads.test_bulk_existing import _sequential

pytestmark = pytest.mark.django_db

PHONES = ["+14155550123", "+442079460958"]
EMAILS = ["ann@acme.example", "bob@acme.example", "cy@globex.example", "dee@gmail.com"]

# Stored leads written directly (as an edit that cleared an email could leave them): several
# may share a phone, with or without an email.
stored_strategy = st.lists(
    st.tuples(st.sampled_from(["", *EMAILS]), st.sampled_from(["", *PHONES])),
    max_size=8,
)
row_strategy = st.fixed_dictionaries(
    {},
    optional={
        "email": st.sampled_from(EMAILS),
        "phone": st.sampled_from(PHONES),
        "first_name": st.sampled_from(["Ann", "Bob"]),
        "city": st.sampled_from(["Paris", "Lyon"]),
        "company": st.sampled_from(["Acme", "Globex"]),
    },
)


def _store(stored: list[tuple[str, str]]) -> None:
    seen: set[str] = set()
    for email, phone in stored:
        if (email and email in seen) or not (email or phone):
            continue
        seen.add(email)
        Lead.objects.create(email=email, phone=phone, first_name="Stored")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    stored=stored_strategy,
    rows=st.lists(row_strategy, max_size=10),
    chunk=st.sampled_from([1, 4, 2000]),
)
# A stored lead that gets the phone from a row comes before the one that had it (lower id).
@example(
    stored=[(EMAILS[0], ""), ("", PHONES[0])],
    rows=[{"email": EMAILS[0], "phone": PHONES[0]}, {"phone": PHONES[0], "city": "Lyon"}],
    chunk=2000,
)
# Likewise among new leads: the first one created gets the phone after the second.
@example(
    stored=[],
    rows=[
        {"email": EMAILS[0]},
        {"email": EMAILS[1], "phone": PHONES[0]},
        {"email": EMAILS[0], "phone": PHONES[0]},
        {"phone": PHONES[0], "city": "Lyon"},
    ],
    chunk=2000,
)
# Two rows with new emails and a phone take two stored leads without an email, in id order.
@example(
    stored=[("", PHONES[1]), ("", PHONES[1]), (EMAILS[2], PHONES[1])],
    rows=[
        {"email": EMAILS[0], "phone": PHONES[1]},
        {"email": EMAILS[1], "phone": PHONES[1]},
        {"phone": PHONES[1], "city": "Paris"},
    ],
    chunk=2000,
)
def test_batch_equals_row_by_row_with_shared_phones(
    stored: list[tuple[str, str]], rows: list[dict[str, Any]], chunk: int
) -> None:
    _wipe()
    _store(stored)
    expected_actions = _sequential(rows)
    expected = _snapshot()
    expected_leads = sorted(Lead.objects.values_list("email", "phone", "first_name", "city"))

    _wipe()
    _store(stored)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("leadbase.leads.bulk.CHUNK", chunk)
        batch = lead_upsert_many(rows, source="import")

    assert [o.action for o in batch.outcomes] == expected_actions
    assert _snapshot() == expected
    assert sorted(Lead.objects.values_list("email", "phone", "first_name", "city")) == (
        expected_leads
    )


def _loaded(rows: list[dict[str, Any]]) -> list[int]:
    """The ids of the stored leads a chunk of `rows` reads."""
    cleaned = [(i, normalize_lead_data(row)) for i, row in enumerate(rows)]
    return [state.pk or 0 for state in bulk._load_existing(cleaned)]


def test_a_shared_phone_does_not_load_every_lead_that_has_it() -> None:
    switchboard = PHONES[0]
    ids = [Lead.objects.create(email=f"p{i}@acme.example", phone=switchboard).pk for i in range(30)]
    assert _loaded([{"email": "new@acme.example", "phone": switchboard}]) == []
    assert _loaded([{"phone": switchboard}]) == [ids[0]]
    assert _loaded([{"email": "p7@acme.example", "phone": switchboard}]) == [ids[7]]


def test_rows_with_new_emails_take_the_leads_without_one_in_turn() -> None:
    phone = PHONES[1]
    first = Lead.objects.create(phone=phone, first_name="One")
    second = Lead.objects.create(phone=phone, first_name="Two")
    Lead.objects.create(phone=phone, first_name="Three")
    rows: list[dict[str, Any]] = [
        {"email": "a@acme.example", "phone": phone},
        {"email": "b@acme.example", "phone": phone},
    ]
    assert _loaded(rows) == [first.pk, second.pk]  # the third cannot be reached by 2 rows
    result = lead_upsert_many([*rows, {"email": "c@acme.example", "phone": phone}], source="x")
    assert [o.action for o in result.outcomes] == ["updated", "updated", "updated"]
    emails = dict(Lead.objects.values_list("first_name", "email"))
    assert emails == {"One": "a@acme.example", "Two": "b@acme.example", "Three": "c@acme.example"}
