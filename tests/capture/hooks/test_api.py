"""/api/v1/webhook-sources: admins' keys only."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client

from leadbase.accounts.models import User
from leadbase.capture.models import WebhookDelivery, WebhookSource
from tests.api.conftest import ApiClient

from .conftest import Hit, fb_body, fb_change

ApiAs = Callable[..., ApiClient]


@pytest.fixture
def api_as(client: Client, api_key_for: Callable[..., str]) -> ApiAs:
    def factory(user: User, scopes: str = "read,write") -> ApiClient:
        return ApiClient(client, f"Bearer {api_key_for(user, scopes)}")

    return factory


def test_admin_creates_reads_changes_and_deletes_a_source(api_as: ApiAs, admin_user: User) -> None:
    api = api_as(admin_user)
    created = api.post(
        "/webhook-sources",
        {
            "kind": "generic",
            "name": "Zapier",
            "campaign": "Autumn",
            "field_mapping": {"mail": "email"},
        },
    )
    assert created.status == HTTPStatus.CREATED, created.body
    body = created.body
    assert body["url"] == f"http://testserver/hooks/generic/{body['public_id']}"
    assert len(body["secret"]) >= 40 and body["campaign"] == "Autumn"
    assert api.get(f"/webhook-sources/{body['id']}").body["name"] == "Zapier"
    assert [s["id"] for s in api.get("/webhook-sources").body["items"]] == [body["id"]]

    patched = api.patch(
        f"/webhook-sources/{body['id']}",
        {"name": "Zapier 2", "campaign": "", "rotate_secret": True},
    )
    assert patched.status == HTTPStatus.OK, patched.body
    assert patched.body["name"] == "Zapier 2" and patched.body["campaign"] == ""
    assert patched.body["secret"] != body["secret"]

    assert api.delete(f"/webhook-sources/{body['id']}").status == HTTPStatus.NO_CONTENT
    assert api.get(f"/webhook-sources/{body['id']}").status == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize("role", ["marketer", "rep", "viewer"])
def test_other_roles_get_403(
    request: pytest.FixtureRequest, api_as: ApiAs, generic_src: WebhookSource, role: str
) -> None:
    api = api_as(request.getfixturevalue(role))
    assert api.get("/webhook-sources").status == HTTPStatus.FORBIDDEN
    assert api.get(f"/webhook-sources/{generic_src.pk}").status == HTTPStatus.FORBIDDEN
    assert api.get(f"/webhook-sources/{generic_src.pk}/deliveries").status == 403
    assert api.post("/webhook-sources", {"kind": "generic", "name": "x"}).status == 403
    assert api.patch(f"/webhook-sources/{generic_src.pk}", {"name": "x"}).status == 403
    assert api.delete(f"/webhook-sources/{generic_src.pk}").status == 403
    assert WebhookSource.objects.get().name == "Zap"


def test_scopes_apply(api_as: ApiAs, admin_user: User, generic_src: Any) -> None:
    reader = api_as(admin_user, "read")
    assert reader.get("/webhook-sources").status == HTTPStatus.OK
    assert reader.post("/webhook-sources", {"kind": "generic", "name": "x"}).status == 403
    ingest = api_as(admin_user, "ingest")
    assert ingest.get("/webhook-sources").status == HTTPStatus.FORBIDDEN


def test_invalid_input_names_each_field(api_as: ApiAs, admin_user: User) -> None:
    api = api_as(admin_user)
    reply = api.post(
        "/webhook-sources",
        {"kind": "facebook", "name": " ", "field_mapping": {"a": "nope"}, "channel": "tv"},
    )
    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert {"name", "secret", "field_mapping.a", "channel"} <= set(reply.errors)
    assert api.post("/webhook-sources", {"kind": "sms", "name": "x"}).status == 422
    assert api.post("/webhook-sources", {"kind": "generic", "name": "x", "extra": 1}).status == 422
    assert not WebhookSource.objects.exists()


def test_a_platform_secret_cannot_be_rotated(
    api_as: ApiAs, admin_user: User, fb_source: Any
) -> None:
    reply = api_as(admin_user).patch(f"/webhook-sources/{fb_source.pk}", {"rotate_secret": True})
    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "platform" in reply.detail


def test_deliveries_are_listed_newest_first_with_paging(
    api_as: ApiAs, admin_user: User, fb_source: WebhookSource, post_facebook: Callable[..., Hit]
) -> None:
    for n in range(3):
        post_facebook(fb_body(fb_change(f"p{n}", email=f"p{n}@example.com")))
    post_facebook(fb_body(fb_change("p0", email="p0@example.com")))
    api = api_as(admin_user)
    url = f"/webhook-sources/{fb_source.pk}/deliveries"
    first = api.get(url, {"limit": 2})
    assert [d["external_id"] for d in first.body["items"]] == ["p0", "p2"]
    assert first.body["items"][0]["status"] == "duplicate"
    second = api.get(url, {"limit": 2, "before": first.body["next"]})
    assert [d["external_id"] for d in second.body["items"]] == ["p1", "p0"]
    assert second.body["next"] is None
    only = api.get(url, {"status": "duplicate"}).body["items"]
    assert len(only) == 1 and only[0]["lead"] is not None
    assert api.get(url, {"limit": 0}).status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert api.get(url, {"status": "weird"}).status == HTTPStatus.UNPROCESSABLE_ENTITY


def test_deleting_a_source_keeps_its_deliveries(
    api_as: ApiAs, admin_user: User, fb_source: WebhookSource, post_facebook: Callable[..., Hit]
) -> None:
    post_facebook(fb_body(fb_change("k", email="k@example.com")))
    assert api_as(admin_user).delete(f"/webhook-sources/{fb_source.pk}").status == 204
    delivery = WebhookDelivery.objects.get()
    assert delivery.source is None and delivery.external_id == "k"
