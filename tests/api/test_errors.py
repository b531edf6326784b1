"""The API's own surface: the OpenAPI document and docs, and JSON errors everywhere."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from http import HTTPStatus

import pytest
from django.test import Client

from leadbase.accounts.models import User
from leadbase.leads import api as leads_api

from .conftest import ApiClient

pytestmark = pytest.mark.django_db

ApiAs = Callable[..., ApiClient]


def test_openapi_document_lists_the_endpoints_and_bearer_auth(client: Client) -> None:
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == HTTPStatus.OK
    schema = json.loads(response.content)
    assert {"/api/v1/leads", "/api/v1/leads/{lead_id}", "/api/v1/companies"} <= set(schema["paths"])
    assert set(schema["paths"]["/api/v1/leads/{lead_id}"]) == {"get", "patch", "delete"}
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


def test_docs_page_is_served(client: Client) -> None:
    response = client.get("/api/v1/docs")

    assert response.status_code == HTTPStatus.OK
    assert b"openapi.json" in response.content


def test_unknown_endpoint_is_a_json_404_pointing_to_the_docs(api_as: ApiAs, marketer: User) -> None:
    reply = api_as(marketer).get("/contacts")

    assert reply.status == HTTPStatus.NOT_FOUND
    assert "/api/v1/docs" in reply.detail


def test_trailing_slash_404_suggests_the_right_url(api_as: ApiAs, marketer: User) -> None:
    reply = api_as(marketer).get("/leads/")

    assert reply.status == HTTPStatus.NOT_FOUND
    assert "Did you mean /api/v1/leads?" in reply.detail


def test_post_to_an_unknown_endpoint_is_a_json_404_not_a_csrf_page(
    api_as: ApiAs, marketer: User
) -> None:
    api = api_as(marketer)
    api.client = Client(enforce_csrf_checks=True)

    assert api.post("/contacts", {"email": "a@example.com"}).status == HTTPStatus.NOT_FOUND


def test_wrong_method_is_a_json_405_listing_the_allowed_ones(api_as: ApiAs, marketer: User) -> None:
    api = api_as(marketer)

    reply = api._reply(api.client.put("/api/v1/leads", headers=api.headers()))

    assert reply.status == HTTPStatus.METHOD_NOT_ALLOWED
    assert set(reply.response["Allow"].split(", ")) == {"GET", "POST"}
    assert "GET" in reply.detail


def test_unexpected_error_is_a_json_500_that_reveals_nothing_and_is_logged_once(
    api_as: ApiAs, marketer: User, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(**kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(leads_api, "lead_get_values", broken)

    reply = api_as(marketer).get("/leads/1")

    assert reply.status == HTTPStatus.INTERNAL_SERVER_ERROR
    assert "secret" not in reply.detail
    assert "logged" in reply.detail
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].exc_info is not None
    assert "secret internals" in str(errors[0].exc_info[1])


def test_api_is_not_subject_to_csrf_for_bearer_requests(api_as: ApiAs, marketer: User) -> None:
    api = api_as(marketer)
    api.client = Client(enforce_csrf_checks=True)

    assert api.post("/leads", {"email": "ann@example.com"}).status == HTTPStatus.CREATED


def test_docs_page_loads_no_scripts_from_other_sites(client: Client) -> None:
    page = client.get("/api/v1/docs").content.decode()

    assert "https://" not in page
    assert "<script>" not in page  # inline scripts need the CSP nonce


def test_ping_answers_without_a_key(client: Client) -> None:
    response = client.get("/api/v1/ping")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"ok": True}
