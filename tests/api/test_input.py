"""What the API does with malformed, oversized, hostile and international input."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus

import pytest
from django.test import override_settings

from leadbase.accounts.models import User
from leadbase.leads.models import Lead

from .conftest import ApiClient

pytestmark = pytest.mark.django_db

ApiAs = Callable[..., ApiClient]


@pytest.fixture
def api(api_as: ApiAs, marketer: User) -> ApiClient:
    return api_as(marketer)


# --- Malformed -----------------------------------------------------------------------------


def test_malformed_lead_is_422_naming_every_bad_field(api: ApiClient) -> None:
    reply = api.post(
        "/leads",
        {
            "email": "ann@",
            "country": "Narnia",
            "seniority": "boss",
            "landing_page": "javascript:alert(1)",
            "employee_count": "lots",
            "first_name": "A" * 101,
        },
    )

    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert set(reply.errors) == {
        "email",
        "country",
        "seniority",
        "landing_page",
        "employee_count",
        "first_name",
    }
    assert "limit is 100" in reply.errors["first_name"]
    assert "entry" in reply.errors["seniority"]
    for field in reply.errors:
        assert field in reply.detail
    assert not Lead.objects.exists()


def test_lead_without_email_or_phone_is_422_saying_one_is_needed(api: ApiClient) -> None:
    reply = api.post("/leads", {"first_name": "Ann"})

    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "phone" in reply.errors["email"]


def test_wrong_types_and_unknown_fields_come_out_in_the_same_shape(api: ApiClient) -> None:
    reply = api.post(
        "/leads",
        {"email": ["ann@example.com"], "first_name": 7, "favourite_colour": "blue",
         "attributes": ["not", "an", "object"]},
    )  # fmt: skip

    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert set(reply.errors) == {"email", "first_name", "favourite_colour", "attributes"}
    assert "attributes" in reply.errors["favourite_colour"]


@pytest.mark.parametrize("body", ["[]", '"ann@example.com"', "42", "null"])
def test_body_that_is_not_an_object_is_422(api: ApiClient, body: str) -> None:
    reply = api.post_raw("/leads", body)

    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "JSON object" in reply.detail


def test_empty_body_is_422_asking_for_a_json_object(api: ApiClient) -> None:
    reply = api.post_raw("/leads", "")

    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "no body" in reply.detail


@pytest.mark.parametrize(
    "body",
    ['{"email": "ann@example.com"', "{'email': 'ann@example.com'}", "email=ann@example.com"],
)
def test_invalid_json_is_400_saying_where_it_broke(api: ApiClient, body: str) -> None:
    reply = api.post_raw("/leads", body)

    assert reply.status == HTTPStatus.BAD_REQUEST
    assert "not valid JSON" in reply.detail
    assert "line 1" in reply.detail


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_json_numbers_are_400(api: ApiClient, constant: str) -> None:
    reply = api.post_raw("/leads", f'{{"email": "a@example.com", "annual_revenue": {constant}}}')

    assert reply.status == HTTPStatus.BAD_REQUEST
    assert constant in reply.detail


def test_body_that_is_not_utf8_is_400(api: ApiClient) -> None:
    reply = api.post_raw("/leads", b'{"first_name": "\xff\xfe"}')

    assert reply.status == HTTPStatus.BAD_REQUEST


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1_000)
def test_body_over_the_configured_limit_is_413(api: ApiClient) -> None:
    reply = api.post("/leads", {"email": "ann@example.com", "attributes": {"x": "y" * 2_000}})

    assert reply.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert "1,000 bytes" in reply.detail
    assert not Lead.objects.exists()


def test_body_over_the_default_limit_is_413(api: ApiClient) -> None:
    reply = api.post("/leads", {"email": "ann@example.com", "city": "x" * 3_000_000})

    assert reply.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE


def test_attributes_over_8_kb_are_422(api: ApiClient) -> None:
    reply = api.post("/leads", {"email": "ann@example.com", "attributes": {"x": "y" * 9_000}})

    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "attributes" in reply.errors


# --- Hostile -------------------------------------------------------------------------------


def test_script_tags_are_stored_and_returned_as_plain_text(api: ApiClient) -> None:
    name = '<script>alert("x")</script>'

    created = api.post("/leads", {"email": "ann@example.com", "first_name": name})
    fetched = api.get(f"/leads/{created.body['id']}")

    assert created.status == HTTPStatus.CREATED
    assert Lead.objects.get().first_name == name
    assert fetched.body["first_name"] == name
    assert fetched.response["Content-Type"].startswith("application/json")
    assert fetched.response["X-Content-Type-Options"] == "nosniff"


def test_line_breaks_that_could_inject_headers_are_stripped_from_names(api: ApiClient) -> None:
    reply = api.post(
        "/leads",
        {"email": "ann@example.com", "first_name": "Ann\r\nBcc: victim@example.com\x00"},
    )

    assert reply.status == HTTPStatus.CREATED
    stored = Lead.objects.get().first_name
    assert not {"\r", "\n", "\x00"} & set(stored)
    assert stored == "Ann Bcc: victim@example.com"
    assert reply.body["first_name"] == stored


def test_email_with_an_injected_header_is_rejected(api: ApiClient) -> None:
    reply = api.post("/leads", {"email": "ann@example.com\r\nBcc: victim@example.com"})

    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "email" in reply.errors
    assert not Lead.objects.exists()


def test_spreadsheet_formulas_are_stored_as_text(api: ApiClient) -> None:
    formula = "=cmd|' /C calc'!A0"

    reply = api.post(
        "/leads", {"email": "ann@example.com", "last_name": formula, "city": "@SUM(1)"}
    )

    assert reply.status == HTTPStatus.CREATED
    assert reply.body["last_name"] == formula
    assert Lead.objects.get().last_name == formula


def test_sql_looking_search_is_just_a_search(api: ApiClient) -> None:
    api.post("/leads", {"email": "ann@example.com"})

    reply = api.get("/leads", {"q": "' OR 1=1 --"})

    assert reply.status == HTTPStatus.OK
    assert reply.body["items"] == []


# --- International -------------------------------------------------------------------------


def test_unicode_names_round_trip_unchanged(api: ApiClient) -> None:
    created = api.post(
        "/leads",
        {"email": "wei@example.com", "first_name": "王伟", "last_name": "Zoë", "city": "Zürich"},
    )
    fetched = api.get(f"/leads/{created.body['id']}")

    assert created.status == HTTPStatus.CREATED
    assert (fetched.body["first_name"], fetched.body["last_name"]) == ("王伟", "Zoë")
    assert fetched.body["city"] == "Zürich"
    assert [i["id"] for i in api.get("/leads", {"q": "zoë"}).body["items"]] == [created.body["id"]]


def test_decomposed_unicode_is_stored_composed(api: ApiClient) -> None:
    reply = api.post("/leads", {"email": "zoe@example.com", "first_name": "Zoe\u0308"})

    assert reply.body["first_name"] == "Zo\u00eb"


def test_unicode_domain_is_stored_in_unicode_form_and_punycode_matches_it(
    api: ApiClient,
) -> None:
    """email_validator keeps internationalised domains in their Unicode form (normalised,
    lower-cased by Leadbase); the ASCII (punycode) spelling is the same address."""
    created = api.post("/leads", {"email": "Ann@Bücher.Example"})
    punycode = api.post("/leads", {"email": "ann@xn--bcher-kva.example", "city": "Köln"})

    assert created.status == HTTPStatus.CREATED
    assert created.body["email"] == "ann@bücher.example"
    assert punycode.status == HTTPStatus.OK
    assert punycode.body["id"] == created.body["id"]
    assert Lead.objects.count() == 1


def test_unicode_local_part_is_accepted(api: ApiClient) -> None:
    reply = api.post("/leads", {"email": "王伟@example.com"})

    assert reply.status == HTTPStatus.CREATED
    assert reply.body["email"] == "王伟@example.com"


def test_reserved_test_domains_are_rejected_as_undeliverable(api: ApiClient) -> None:
    reply = api.post("/leads", {"email": "ann@shop.test"})

    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "special-use" in reply.errors["email"]


def test_response_is_utf8_json(api: ApiClient) -> None:
    reply = api.post("/leads", {"email": "zoe@example.com", "first_name": "Zoë"})

    assert "utf-8" in reply.response["Content-Type"]
    assert json.loads(reply.content.decode("utf-8"))["first_name"] == "Zoë"
