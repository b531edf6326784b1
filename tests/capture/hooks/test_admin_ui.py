"""The webhook pages at /capture/webhooks/ (admins only)."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client

from leadbase.accounts.models import User
from leadbase.capture.models import WebhookDelivery, WebhookSource
from leadbase.capture.services_hooks import webhook_source_create

from .conftest import Hit, fb_body, fb_change

Login = Callable[[User], Client]
XSS = '<script>alert("pwned")</script>'


@pytest.fixture
def login() -> Login:
    def factory(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return factory


@pytest.fixture
def as_admin(login: Login, admin_user: User) -> Client:
    return login(admin_user)


def test_pages_need_login(client: Client, generic_src: WebhookSource) -> None:
    for url in [
        "/capture/webhooks/",
        "/capture/webhooks/new",
        f"/capture/webhooks/{generic_src.pk}/",
        f"/capture/webhooks/{generic_src.pk}/edit",
    ]:
        response = client.get(url)
        assert response.status_code == HTTPStatus.FOUND, url
        assert "/accounts/login" in response["Location"]


@pytest.mark.parametrize("role", ["marketer", "rep", "viewer"])
def test_only_admins_may_see_or_change_sources(
    request: pytest.FixtureRequest, login: Login, generic_src: WebhookSource, role: str
) -> None:
    client = login(request.getfixturevalue(role))
    pk = generic_src.pk
    for url in ["/capture/webhooks/", "/capture/webhooks/new", f"/capture/webhooks/{pk}/"]:
        assert client.get(url).status_code == HTTPStatus.FORBIDDEN, url
    assert client.post(f"/capture/webhooks/{pk}/rotate-secret").status_code == 403
    old = generic_src.secret
    generic_src.refresh_from_db()
    assert generic_src.secret == old
    assert client.post("/capture/webhooks/new", {"kind": "generic", "name": "x"}).status_code == 403
    assert WebhookSource.objects.count() == 1


def test_the_list_shows_the_url_to_paste(
    as_admin: Client, fb_source: Any, generic_src: Any
) -> None:
    page = as_admin.get("/capture/webhooks/")
    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    assert "http://testserver/hooks/facebook" in html
    assert f"http://testserver/hooks/generic/{generic_src.public_id}" in html
    assert 'href="/capture/webhooks/"' in html  # the section's subnav link


def test_the_subnav_link_is_for_admins_only(login: Login, marketer: User, db: None) -> None:
    html = login(marketer).get("/capture/").content.decode()
    assert "/capture/webhooks/" not in html


def test_creating_a_generic_source_generates_its_secret(as_admin: Client) -> None:
    response = as_admin.post(
        "/capture/webhooks/new",
        {"kind": "generic", "name": "Typeform", "channel": "referral", "is_active": "on"},
    )
    source = WebhookSource.objects.get()
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/capture/webhooks/{source.pk}/"
    assert len(source.secret) >= 40 and source.channel == "referral"
    page = as_admin.get(response["Location"]).content.decode()
    assert source.secret in page  # shown (behind a disclosure) to the admin
    assert f"/hooks/generic/{source.public_id}" in page


def test_a_facebook_source_needs_the_app_secret(as_admin: Client) -> None:
    response = as_admin.post(
        "/capture/webhooks/new", {"kind": "facebook", "name": "FB", "channel": "paid_social"}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "app secret" in response.content.decode()
    assert not WebhookSource.objects.exists()
    ok = as_admin.post(
        "/capture/webhooks/new",
        {"kind": "facebook", "name": "FB", "channel": "paid_social", "secret": "abc123"},
    )
    assert ok.status_code == HTTPStatus.FOUND
    assert len(WebhookSource.objects.get().verify_token) >= 20  # generated


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ("{not json", "not valid JSON"),
        ('["email"]', "JSON object"),
        ('{"Budget": "budget_field"}', "is not a lead field"),
        ('{"x": "attributes.<b>"}', "attribute key"),
    ],
)
def test_the_field_mapping_is_validated(as_admin: Client, mapping: str, message: str) -> None:
    response = as_admin.post(
        "/capture/webhooks/new",
        {"kind": "generic", "name": "G", "channel": "api", "field_mapping": mapping},
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert message in response.content.decode()
    assert not WebhookSource.objects.exists()


def test_editing_keeps_the_secret_when_left_empty(
    as_admin: Client, fb_source: WebhookSource
) -> None:
    response = as_admin.post(
        f"/capture/webhooks/{fb_source.pk}/edit",
        {
            "kind": "generic",  # ignored: the platform of a source does not change
            "name": "Renamed",
            "secret": "",
            "verify_token": "tok-123",
            "channel": "paid_social",
            "field_mapping": json.dumps({"Budget": "attributes.budget"}),
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    fb_source.refresh_from_db()
    assert (fb_source.name, fb_source.kind) == ("Renamed", "facebook")
    assert fb_source.secret == "fb-app-secret-0123456789abcdef"
    assert fb_source.field_mapping == {"Budget": "attributes.budget"}
    assert fb_source.is_active is False  # the checkbox was not sent


def test_rotating_the_secret_of_a_generic_source(
    as_admin: Client, generic_src: WebhookSource, post_generic: Callable[..., Hit]
) -> None:
    old = generic_src.secret
    response = as_admin.post(f"/capture/webhooks/{generic_src.pk}/rotate-secret")
    assert response.status_code == HTTPStatus.FOUND
    generic_src.refresh_from_db()
    assert generic_src.secret != old
    assert post_generic(generic_src, {"email": "a@example.com"}, secret=old).status == 403
    assert post_generic(generic_src, {"email": "a@example.com"}).status == 200


def test_a_platform_secret_is_not_rotated_here(as_admin: Client, fb_source: WebhookSource) -> None:
    as_admin.post(f"/capture/webhooks/{fb_source.pk}/rotate-secret")
    fb_source.refresh_from_db()
    assert fb_source.secret == "fb-app-secret-0123456789abcdef"


def test_deliveries_show_hostile_content_escaped(
    as_admin: Client, post_facebook: Callable[..., Hit], db: None
) -> None:
    source = webhook_source_create(
        kind="facebook", name=XSS, secret="fb-app-secret-0123456789abcdef", verify_token="t"
    )
    post_facebook(fb_body(fb_change("x1", email="x@example.com", first_name=XSS)))
    post_facebook(fb_body(fb_change("x2", email="bad", first_name=XSS)))
    page = as_admin.get(f"/capture/webhooks/{source.pk}/")
    html = page.content.decode()
    assert page.status_code == HTTPStatus.OK
    assert XSS not in html
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in html
    assert "Payload" in html and "leadgen" in html
    listing = as_admin.get("/capture/webhooks/").content.decode()
    assert XSS not in listing


def test_unsigned_requests_appear_as_unmatched(
    as_admin: Client, post_facebook: Callable[..., Hit], fb_source: Any
) -> None:
    post_facebook({"object": "page", "note": XSS}, signature="sha256=" + "0" * 64)
    html = as_admin.get("/capture/webhooks/").content.decode()
    assert "matches the app secret of no active Facebook source" in html
    assert XSS not in html and "&lt;script&gt;" in html


def test_the_status_filter_answers_htmx_with_the_partial(
    as_admin: Client, post_facebook: Callable[..., Hit], fb_source: WebhookSource
) -> None:
    post_facebook(fb_body(fb_change("ok", email="ok@example.com")))
    post_facebook(fb_body(fb_change("ok", email="ok@example.com")))  # duplicate
    url = f"/capture/webhooks/{fb_source.pk}/"
    partial = as_admin.get(url, {"status": "duplicate"}, headers={"HX-Request": "true"})
    html = partial.content.decode()
    assert partial.status_code == HTTPStatus.OK
    assert "<html" not in html and 'id="deliveries"' in html
    assert html.count('id="delivery-') == 1
    assert WebhookDelivery.objects.count() == 2
    full = as_admin.get(url, {"status": "bogus"}).content.decode()
    assert full.count('id="delivery-') == 2  # an unknown status shows every delivery


def test_an_unknown_source_is_404(as_admin: Client) -> None:
    assert as_admin.get("/capture/webhooks/999/").status_code == HTTPStatus.NOT_FOUND
