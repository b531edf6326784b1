"""The builder's rules (form_rules): host names, redirects, field lists, slugs."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadbase.capture.form_rules import (
    MAX_FIELDS,
    SLUG_RE,
    FieldSpec,
    fields_check,
    maps_to_normalize,
    parse_allowed_domains,
    redirect_problem,
)
from leadbase.capture.models import Form
from leadbase.capture.services_forms import slug_suggest

EMAIL = FieldSpec(name="email", label="Email", kind="email", required=True, maps_to="email")


@pytest.mark.parametrize(
    ("given_text", "hosts"),
    [
        ("example.com", ["example.com"]),
        ("  Example.COM.  \n\nwww.example.com", ["example.com", "www.example.com"]),
        # a pasted address counts as its host; a port is dropped
        ("https://shop.example.com/landing?x=1", ["shop.example.com"]),
        ("example.com:8443", ["example.com"]),
        # IDN is stored as punycode, which is what browsers send in Origin headers
        ("bücher.example", ["xn--bcher-kva.example"]),
        ("xn--bcher-kva.example\nBÜCHER.example", ["xn--bcher-kva.example"]),
        ("localhost\n192.168.1.10", ["localhost", "192.168.1.10"]),
    ],
)
def test_allowed_domains_are_normalised(given_text: str, hosts: list[str]) -> None:
    assert parse_allowed_domains(given_text) == (hosts, [])


@pytest.mark.parametrize(
    ("given_text", "problem"),
    [
        ("*.example.com", "line 1 ('*.example.com') is a wildcard"),
        ("ok.example\nexa mple.com", "line 2 ('exa mple.com') is not a host name"),
        ("-bad-.example", "is not a host name"),
        ("example", "is not a host name"),
        ("a" * 64 + ".example", "is not a host name"),
        ("<script>.example", "is not a host name"),
    ],
)
def test_bad_allowed_domains_name_their_line(given_text: str, problem: str) -> None:
    _, problems = parse_allowed_domains(given_text)
    assert len(problems) == 1
    assert problem in problems[0]


def test_allowed_domains_as_a_list_name_the_entry() -> None:
    hosts, problems = parse_allowed_domains(["example.com", "", "a\nb.example"])
    assert hosts == ["example.com"]
    assert problems[0].startswith("entry 2 ('') is empty")
    assert problems[1].startswith("entry 3 ")


@given(st.lists(st.text(max_size=30), max_size=8))
def test_parsing_allowed_domains_is_idempotent(lines: list[str]) -> None:
    """What the builder stores parses back to itself, and is always plain ASCII."""
    hosts, _ = parse_allowed_domains("\n".join(lines))
    assert parse_allowed_domains("\n".join(hosts)) == (hosts, [])
    assert all(host.isascii() and host == host.lower() for host in hosts)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://www.example.com/thanks", ""),
        ("https://WWW.Example.com./thanks", ""),
        ("https://bücher.example/danke", ""),
        ("https://evil.example/", "goes to evil.example, which is not among the allowed domains"),
        ("https://www.example.com.evil.example/", "not among the allowed domains"),
        ("javascript:alert(1)", "must be a full http(s) address"),
        ("//www.example.com/x", "must be a full http(s) address"),
        ("/thanks", "must be a full http(s) address"),
        ("https://user:pw@www.example.com/", "must not contain a user name or password"),
        ("https://www.example.com:99999/", "is not a URL"),
    ],
)
def test_redirects_go_only_to_allowed_hosts(url: str, problem: str) -> None:
    hosts = ["www.example.com", "xn--bcher-kva.example"]
    if problem:
        assert problem in redirect_problem(url, hosts)
    else:
        assert redirect_problem(url, hosts) == ""


def test_a_redirect_without_allowed_domains_says_what_to_add() -> None:
    assert "add www.example.com to the allowed domains" in redirect_problem(
        "https://www.example.com/", []
    )


@pytest.mark.parametrize(
    ("maps_to", "stored", "problem"),
    [
        ("", "", ""),
        ("first_name", "first_name", ""),
        ("company", "company", ""),
        ("company_name", "company", ""),  # the name the data model's docs use
        ("employee_count", "employee_count", ""),
        ("attributes.team_size", "attributes.team_size", ""),
        ("attributes.", "", "names a custom attribute badly"),
        ("attributes.a b", "", "names a custom attribute badly"),
        ("favourite_colour", "", "'favourite_colour' is not a lead field"),
        ("lifecycle_stage", "", "is not a lead field"),  # forms cannot set stages
    ],
)
def test_maps_to(maps_to: str, stored: str, problem: str) -> None:
    result, found = maps_to_normalize(maps_to)
    assert result == stored
    assert problem in found and bool(found) == bool(problem)


def test_a_valid_field_list_passes_cleaned() -> None:
    specs, errors = fields_check(
        [
            EMAIL,
            FieldSpec(name="size", label="  Größe\tder Firma ", kind="choice",
                      choices=(" 1-10 ", "11-50"), maps_to="attributes.size"),
        ]
    )  # fmt: skip
    assert errors == {}
    assert specs[1].label == "Größe der Firma"
    assert specs[1].choices == ("1-10", "11-50")


@pytest.mark.parametrize(
    ("field", "key", "message"),
    [
        (FieldSpec(name="Bad Name", label="x"), "fields.1.name", "must start with a lower-case"),
        (FieldSpec(name="x", label=""), "fields.1.label", "is required"),
        (FieldSpec(name="x", label="x", kind="radio"), "fields.1.kind", "must be one of"),
        (FieldSpec(name="x", label="x", maps_to="nope"), "fields.1.maps_to", "not a lead field"),
        (FieldSpec(name="x", label="x", kind="choice"), "fields.1.choices", "at least one"),
        (FieldSpec(name="x", label="x", choices=("a",)), "fields.1.choices", "only fields of"),
        (
            FieldSpec(name="x", label="x", kind="choice", choices=("A", "a")),
            "fields.1.choices",
            "listed twice",
        ),
        (
            FieldSpec(name="x", label="x", kind="choice", choices=("a",), default="b"),
            "fields.1.default",
            "must be one of the choices",
        ),
        (FieldSpec(name="x", label="x", max_length=0), "fields.1.max_length", "between 1 and"),
        (FieldSpec(name="x", label="x", maps_to="email"), "fields.1.maps_to", "kind email"),
        (FieldSpec(name="csrfmiddlewaretoken", label="x"), "fields.1.name", "used by the form"),
        (FieldSpec(name="x", label="x" * 201), "fields.1.label", "the limit is 200"),
    ],
)
def test_each_bad_field_value_is_named(field: FieldSpec, key: str, message: str) -> None:
    _, errors = fields_check([EMAIL, field])
    assert message in errors[key], errors


def test_duplicate_names_and_targets_are_named_on_both_fields() -> None:
    _, errors = fields_check(
        [
            EMAIL,
            FieldSpec(name="name", label="First", maps_to="first_name"),
            FieldSpec(name="name", label="Also first", maps_to="first_name"),
        ]
    )
    assert "fields 2 and 3 both use the name 'name'" in errors["fields.1.name"]
    assert "fields 2 and 3 both use the name 'name'" in errors["fields.2.name"]
    assert "lead field 'first_name'" in errors["fields.2.maps_to"]


def test_a_form_needs_a_field_for_email_or_phone() -> None:
    _, errors = fields_check([FieldSpec(name="first_name", label="First name")])
    assert "no field fills the lead's email or phone" in errors["fields"]
    _, errors = fields_check([FieldSpec(name="tel", label="Tel", kind="phone", maps_to="phone")])
    assert errors == {}


def test_too_many_fields() -> None:
    many = [EMAIL] + [FieldSpec(name=f"f{i}", label=f"F {i}") for i in range(MAX_FIELDS)]
    _, errors = fields_check(many)
    assert errors == {"fields": f"has {MAX_FIELDS + 1} fields; a form may have at most 50 (and "
                      "short forms convert better)"}  # fmt: skip
    _, errors = fields_check(many[:MAX_FIELDS])
    assert errors == {}


@pytest.mark.django_db
@given(st.text(max_size=80))
def test_suggested_slugs_are_valid(name: str) -> None:
    slug = slug_suggest(name)
    assert SLUG_RE.match(slug) and len(slug) <= 80


@pytest.mark.django_db
def test_suggested_slugs_are_free() -> None:
    Form.objects.create(name="a", slug="spring-webinar", purpose="webinar")
    Form.objects.create(name="b", slug="spring-webinar-2", purpose="webinar")
    assert slug_suggest("Spring Webinar!") == "spring-webinar-3"
    assert slug_suggest("Café Lumière") == "cafe-lumiere"
    assert slug_suggest("Вебинар") == "form"
    assert slug_suggest("Confirm") == "confirm-form"  # /f/confirm/... belongs to opt-in
    assert re.fullmatch(r"[a-z0-9-]+", slug_suggest("<script>alert(1)</script>"))
