"""Other sites may post to a form only when their host is one of its allowed domains."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client

from leadbase.capture.models import Form, Submission
from leadbase.capture.origins import origin_allowed, origin_host, redirect_target
from tests.capture.forms.conftest import PostJSON, create_form, valid_data

pytestmark = pytest.mark.django_db

ALLOWED = "https://www.acme.example"


def test_preflight_from_an_allowed_origin_allows_json_posts_with_a_key(
    form: Form, client: Client
) -> None:
    response = client.options(
        f"/f/{form.slug}",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,idempotency-key",
        },
    )

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert response["Access-Control-Allow-Methods"] == "POST"
    assert response["Access-Control-Allow-Headers"] == "Content-Type, Accept, Idempotency-Key"
    assert response["Vary"] == "Origin"
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "https://acme.example", "null", "", "https://www.acme.example.evil"],
)
def test_preflight_from_any_other_origin_gets_no_cors_headers(
    form: Form, client: Client, origin: str
) -> None:
    response = client.options(f"/f/{form.slug}", headers={"Origin": origin} if origin else {})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not [h for h in response.headers if h.lower().startswith("access-control")]


def test_preflight_of_an_unknown_form_is_refused(client: Client) -> None:
    response = client.options("/f/nope", headers={"Origin": ALLOWED})
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_post_from_an_allowed_origin_is_readable_by_that_origin_only(
    form: Form, post_json: PostJSON
) -> None:
    response = post_json(form, valid_data(form), Origin="http://127.0.0.1:8123")

    assert response.status_code == HTTPStatus.OK
    assert response["Access-Control-Allow-Origin"] == "http://127.0.0.1:8123"
    assert response["Vary"] == "Origin"
    # errors too, so the embed can show them
    bad = post_json(form, valid_data(form, email="x"), Origin=ALLOWED)
    assert bad.status_code == HTTPStatus.BAD_REQUEST
    assert bad["Access-Control-Allow-Origin"] == ALLOWED


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "https://ACME.example"])
def test_post_from_another_origin_is_refused_with_403_and_stores_nothing(
    form: Form, client: Client, origin: str
) -> None:
    # a plain HTML form on another site needs no preflight: the server must refuse it
    response = client.post(f"/f/{form.slug}", valid_data(form), headers={"Origin": origin})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "does not accept submissions from" in response.content.decode()
    assert "Access-Control-Allow-Origin" not in response
    assert not Submission.objects.exists()


def test_the_hosted_page_posts_from_leadbase_itself_and_servers_send_no_origin(
    form: Form, client: Client
) -> None:
    same = client.post(f"/f/{form.slug}", valid_data(form), headers={"Origin": "http://testserver"})
    assert same.status_code == HTTPStatus.OK
    server = client.post(f"/f/{form.slug}", valid_data(form, email="b@acme.example"))
    assert server.status_code == HTTPStatus.OK


def test_a_form_without_allowed_domains_takes_no_cross_site_posts(client: Client) -> None:
    form = create_form(slug="closed-shop", allowed_domains="")
    response = client.post(f"/f/{form.slug}", valid_data(form), headers={"Origin": ALLOWED})
    assert response.status_code == HTTPStatus.FORBIDDEN


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("https://www.acme.example", "www.acme.example"),
        ("https://WWW.Acme.Example:8443", "www.acme.example"),
        ("http://[::1]:8000", "::1"),
        ("https://bücher.example", "xn--bcher-kva.example"),
        ("null", ""),
        ("https://a.example/path", ""),
        ("javascript:alert(1)", ""),
        ("https://a.example:99999", ""),
    ],
)
def test_origin_host(origin: str, host: str) -> None:
    assert origin_host(origin) == host


def test_allowed_domains_in_idn_and_ip_form() -> None:
    form = Form(allowed_domains="xn--bcher-kva.example\n::1\n\nhttps://pasted.example/page\n")
    assert origin_allowed(form, "https://bücher.example")
    assert origin_allowed(form, "http://[::1]:3000")
    assert origin_allowed(form, "https://pasted.example")
    assert not origin_allowed(form, "https://example")


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("https://www.acme.example/thanks", "https://www.acme.example/thanks"),
        ("https://evil.example/", ""),
        ("javascript:alert(1)//www.acme.example", ""),
        ("https://user:pw@www.acme.example/", ""),
        ("", ""),
    ],
)
def test_redirect_target(url: str, target: str) -> None:
    assert redirect_target(Form(redirect_url=url, allowed_domains="www.acme.example")) == target
