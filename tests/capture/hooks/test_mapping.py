"""Field mapping and platform payload reading (pure functions)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadbase.capture.hook_mapping import (
    map_fields,
    map_generic_item,
    mapping_problems,
    split_full_name,
)
from leadbase.capture.hook_payloads import PayloadError, facebook_leads, parse_time

names = st.sampled_from(
    ["email", "full_name", "first_name", "phone_number", "work_email", "city", "Budget",
     "budget", "What's up?", "country", "zip_code", "post_code", "Postal Code", "postal_code",
     "post code"]
)  # fmt: skip
values = st.text(min_size=1, max_size=30).filter(lambda v: v.strip() == v and v)


@given(pairs=st.lists(st.tuples(names, values), max_size=12, unique_by=lambda p: p[0].casefold()))
def test_no_answer_is_lost(pairs: list[tuple[str, str]]) -> None:
    """Every value other than a full name (which is split into the names) ends up in a lead
    field or an attribute, whatever collides."""
    data = map_fields("facebook", {}, pairs)
    kept = [v for k, v in data.items() if k != "attributes"]
    kept += list(data.get("attributes", {}).values())
    for name, value in pairs:
        if name != "full_name":
            assert value in kept, (name, value, data)


def test_collisions_keep_the_first_and_the_other_as_attribute() -> None:
    data = map_fields(
        "facebook", {}, [("email", ["a@example.com"]), ("work_email", ["b@work.example"])]
    )
    assert data == {"email": "a@example.com", "attributes": {"work_email": "b@work.example"}}


def test_full_name_fills_only_missing_names() -> None:
    assert map_fields("facebook", {}, [("full_name", ["Ann Lee"]), ("first_name", ["Annie"])]) == {
        "first_name": "Annie",
        "last_name": "Lee",
    }
    assert split_full_name("Cher") == ("Cher", "")
    assert split_full_name("  ") == ("", "")


def test_mapping_names_match_without_case_and_empty_target_drops() -> None:
    data = map_fields("linkedin", {"email": "", "Budget": "attributes.b"}, [
        ("EMAIL", "x@example.com"), ("budget", "5"), ("FIRST_NAME", "Jo")
    ])  # fmt: skip
    assert data == {"first_name": "Jo", "attributes": {"b": "5"}}


def test_generic_items_pass_lead_fields_and_map_the_rest() -> None:
    item = {"mail": "a@example.com", "city": "Oslo", "attributes": {"x": 1}, "plan": "p"}
    data = map_generic_item({"mail": "email", "plan": "attributes.plan"}, item)
    assert data == {"email": "a@example.com", "city": "Oslo", "attributes": {"x": 1, "plan": "p"}}
    assert map_generic_item({}, {"attributes": "nope"})["attributes"] == "nope"


@pytest.mark.parametrize(
    ("mapping", "field"),
    [
        ({"a": "nope"}, "field_mapping.a"),
        ({"a": 5}, "field_mapping.a"),
        ({"": "email"}, "field_mapping."),
        ({"a": "attributes."}, "field_mapping.a"),
        ({"a": "attributes"}, "field_mapping.a"),
        ({str(i): "email" for i in range(201)}, "field_mapping"),
        ([], "field_mapping"),
    ],
)
def test_bad_mappings_are_named(mapping: Any, field: str) -> None:
    assert field in mapping_problems(mapping)


def test_good_mappings_pass() -> None:
    assert mapping_problems({"a": "email", "b": "", "c": "full_name", "d": "attributes.x_1"}) == {}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1_700_000_000, dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC)),
        (1_700_000_000_000, dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC)),
        ("2024-05-01T10:00:00+0000", dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC)),
        ("1700000000", dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC)),
        ("yesterday", None),
        (10**30, None),
        (True, None),
        (-5, None),
    ],
)
def test_platform_times(value: Any, expected: dt.datetime | None) -> None:
    assert parse_time(value) == expected


@given(body=st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(["object", "entry", "changes", "field", "value",
                                       "leadgen_id", "field_data", "name", "values"]),
                      children, max_size=4),
    max_leaves=20,
))  # fmt: skip
def test_any_json_is_read_or_refused_with_a_message(body: Any) -> None:
    """Whatever an authenticated sender posts, reading it never crashes."""
    try:
        leads, notes = facebook_leads(body)
    except PayloadError as exc:
        message = str(exc)
        assert message.strip()
        return
    for lead in leads:
        assert lead.problem or lead.external_id
        assert isinstance(notes, list)
