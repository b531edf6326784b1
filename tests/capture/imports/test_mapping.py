"""Mapping suggestions from column names, and the checks a mapping must pass."""

from __future__ import annotations

from typing import Any

import pytest

from leadbase.capture.imports.consent import CONSENT
from leadbase.capture.imports.mapping import (
    FULL_NAME,
    LEAD_TARGETS,
    TARGETS,
    compile_mapping,
    split_full_name,
    suggest_mapping,
)
from leadbase.core.errors import ValidationFailed
from leadbase.leads.normalize import ACCEPTED_FIELDS, normalize_lead_data


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("email", "email"),
        ("E-mail", "email"),
        ("Email Address", "email"),
        ("EMAIL_ADDRESS", "email"),
        ("E-Mail-Adresse", "email"),  # German
        ("first_name", "first_name"),
        ("First Name", "first_name"),
        ("Vorname", "first_name"),
        ("Prénom", "first_name"),  # accents dropped for the comparison
        ("Last name", "last_name"),
        ("Surname", "last_name"),
        ("Name", FULL_NAME),
        ("Full name", FULL_NAME),
        ("company", "company"),
        ("Company Name", "company"),
        ("Organization", "company"),
        ("Website", "company_domain"),
        ("phone", "phone"),
        ("Mobile", "phone"),
        ("Phone Number", "phone"),
        ("country", "country"),
        ("Job Title", "job_title"),
        ("Title", "job_title"),
        ("UTM Source", "utm_source"),
        ("utm_campaign", "utm_campaign"),
        ("utm-medium", "utm_medium"),
        ("Lead Source", "source_detail"),  # free text, never a channel
        ("Employees", "employee_count"),
        ("Lifecycle stage", "lifecycle_stage"),
    ],
)
def test_suggestion_from_the_column_name(header: str, target: str) -> None:
    assert suggest_mapping([header]) == {header: target}


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("Favourite Colour", "attributes.favourite_colour"),
        ("Company size", "attributes.company_size"),  # usually a range, not a number
        ("Marketing consent", "attributes.marketing_consent"),  # not recorded as consent
        ("Ünïcödé ☃ Notes!", "attributes.unicode_notes"),
        ("☃", "attributes.column_1"),
    ],
)
def test_unknown_columns_are_suggested_as_custom_attributes(header: str, target: str) -> None:
    assert suggest_mapping([header]) == {header: target}


def test_the_first_of_two_columns_for_one_field_wins() -> None:
    mapping = suggest_mapping(["Work email", "Email", "Phone", "Mobile"])
    assert mapping == {
        "Work email": "email",
        "Email": "attributes.email",
        "Phone": "phone",
        "Mobile": "attributes.mobile",
    }


def test_every_target_is_something_lead_upsert_accepts() -> None:
    assert set(LEAD_TARGETS) == ACCEPTED_FIELDS - {"attributes"}
    assert set(TARGETS) == {*LEAD_TARGETS, FULL_NAME, CONSENT}  # consent: not lead data
    # and normalisation takes each (no "is not a lead field" error for any of them)
    data = dict.fromkeys(LEAD_TARGETS, "")
    data["email"] = "ann@example.com"
    assert normalize_lead_data(data) == {"email": "ann@example.com"}


HEADERS = ["E-mail", "Name", "Notes", "Internal"]


def test_compiled_mapping_makes_lead_data() -> None:
    mapper = compile_mapping(
        {"E-mail": "email", "Name": FULL_NAME, "Notes": "attributes.notes", "Internal": ""},
        HEADERS,
    )
    data = mapper.lead_data(
        ["ann@example.com", "Ann Lee", " likes tea ", "x"], {"source_channel": "import"}
    )
    assert data == {
        "email": "ann@example.com",
        "first_name": "Ann",
        "last_name": "Lee",
        "attributes": {"notes": "likes tea"},
        "source_channel": "import",
    }
    # blank cells give nothing (an empty value never overwrites a stored one)
    assert mapper.lead_data(["", " ", "", ""], {}) == {}


@pytest.mark.parametrize(
    ("mapping", "errors"),
    [
        ({"Nope": "email"}, {"mapping.Nope": "is not a column of the file"}),
        ({"E-mail": "emial"}, {"mapping.E-mail": "“emial” is not a lead field"}),
        ({"E-mail": "email", "Notes": "email"}, {"mapping.Notes": "maps to email, as the col"}),
        ({"E-mail": "email", "Notes": "attributes."}, {"mapping.Notes": "names a custom attr"}),
        ({"E-mail": "email", "Notes": "attributes.<x>"}, {"mapping.Notes": "names a custom"}),
        ({"Name": FULL_NAME, "Notes": ""}, {"mapping": "maps no column to email or phone"}),
        ({}, {"mapping": "maps no column to email or phone"}),
    ],
)
def test_bad_mappings_are_refused_naming_the_column(
    mapping: dict[str, str], errors: dict[str, str]
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        compile_mapping(mapping, HEADERS)
    assert caught.value.fields.keys() == errors.keys()
    for key, start in errors.items():
        assert caught.value.fields[key].startswith(start), caught.value.fields
    assert caught.value.message.startswith("The column mapping cannot be used:")


@pytest.mark.parametrize("mapping", [["email"], {"E-mail": 1}, "email", None])
def test_a_mapping_that_is_not_an_object_of_strings(mapping: Any) -> None:
    with pytest.raises(ValidationFailed, match="must be a JSON object of column name"):
        compile_mapping(mapping, HEADERS)


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("Ada Lovelace", ("Ada", "Lovelace")),
        ("Lovelace, Ada", ("Ada", "Lovelace")),
        ("Mary Ann  Smith", ("Mary Ann", "Smith")),
        ("Cher", ("Cher", "")),
        ("  Zoë   Müller ", ("Zoë", "Müller")),
    ],
)
def test_full_names_are_split(name: str, parts: tuple[str, str]) -> None:
    assert split_full_name(name.strip()) == parts


def test_first_and_last_name_columns_win_over_the_split_full_name() -> None:
    mapper = compile_mapping({"E-mail": "email", "Name": FULL_NAME, "Notes": "first_name"}, HEADERS)
    assert mapper.lead_data(["a@example.com", "Ann Lee", "Annie", ""], {}) == {
        "email": "a@example.com",
        "first_name": "Annie",
        "last_name": "Lee",
    }
