"""POST /f/<slug>: every encoding, and every way a post can be wrong."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from pytest_django import Settings

from leadbase.capture.models import Form, Submission, SubmissionStatus
from leadbase.leads.models import Lead
from tests.capture.forms.conftest import PostJSON, process_all, valid_data

pytestmark = pytest.mark.django_db

URLENCODED = "application/x-www-form-urlencoded"
HOSTILE = '<script>alert("x")</script>'


def post_urlencoded(client: Client, form: Form, body: str | bytes, **headers: Any) -> Any:
    return client.post(f"/f/{form.slug}", data=body, content_type=URLENCODED, headers=headers)


# --- What is accepted -----------------------------------------------------------------------


def test_form_encoded_post_stores_a_received_submission_and_shows_the_thank_you_page(
    form: Form, client: Client
) -> None:
    response = post_urlencoded(client, form, urlencode(valid_data(form, phone="+44 20 7946 0958")))

    assert response.status_code == HTTPStatus.OK
    assert "Thank you! We have received your submission." in response.content.decode()
    submission = Submission.objects.get()
    assert submission.status == SubmissionStatus.RECEIVED
    assert submission.email == "ann.lee@acme.example"
    assert submission.data["phone"] == "+442079460958"
    assert submission.ip_address == "127.0.0.1"
    assert submission.context["consent_text"] == form.consent_text
    assert not Lead.objects.exists()  # the worker makes the lead, not the request


def test_multipart_post_is_accepted_and_files_are_ignored(form: Form, client: Client) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = valid_data(form, attachment=SimpleUploadedFile("x.exe", b"MZ"))
    response = client.post(f"/f/{form.slug}", data)  # the test client sends multipart

    assert response.status_code == HTTPStatus.OK
    assert "attachment" not in Submission.objects.get().data


def test_json_post_answers_json(form: Form, post_json: PostJSON) -> None:
    data = valid_data(form, **{"lb.consent": True, "updates": True})
    response = post_json(form, data)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "ok": True,
        "message": "Thank you! We have received your submission.",
        "redirect": None,
    }
    assert Submission.objects.get().data["updates"] is True


def test_thank_you_message_is_the_forms_own_and_shown_escaped(form: Form, client: Client) -> None:
    form.thank_you_message = f"Thanks!\n{HOSTILE}"
    form.save()
    response = client.post(f"/f/{form.slug}", valid_data(form))

    html = response.content.decode()
    assert "Thanks!<br>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "<script>" not in html


def test_redirect_goes_only_to_an_allowed_domain(
    form: Form, client: Client, post_json: PostJSON
) -> None:
    form.redirect_url = "https://www.acme.example/thanks?from=form"
    form.save()
    response = client.post(f"/f/{form.slug}", valid_data(form))
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response["Location"] == "https://www.acme.example/thanks?from=form"
    as_json = post_json(form, valid_data(form, email="other@acme.example"))
    assert as_json.json()["redirect"] == "https://www.acme.example/thanks?from=form"

    form.redirect_url = "https://evil.example/phish"
    form.save()
    response = client.post(f"/f/{form.slug}", valid_data(form, email="third@acme.example"))
    assert response.status_code == HTTPStatus.OK  # the thank-you page instead


def test_unicode_and_idn_email_addresses_are_accepted_and_normalised(
    form: Form, post_json: PostJSON
) -> None:
    for address, stored in [
        ("Zoë.Müller@Café-Lumière.example", "zoë.müller@café-lumière.example"),
        ("user@xn--bcher-kva.example", "user@bücher.example"),
        ("李雷@例子.测试", "李雷@例子.测试"),
    ]:
        response = post_json(form, valid_data(form, email=address, first_name="Zoë"))
        assert response.status_code == HTTPStatus.OK, response.json()
        assert Submission.objects.filter(email=stored).exists(), address


def test_unknown_fields_are_ignored(form: Form, post_json: PostJSON) -> None:
    response = post_json(form, valid_data(form, is_admin="yes", owner_id=1, nested={"a": [1]}))

    assert response.status_code == HTTPStatus.OK
    assert set(Submission.objects.get().data) == {"email", "first_name", "last_name", "company"}


def test_header_injection_in_a_name_stays_harmless_data(form: Form, post_json: PostJSON) -> None:
    name = "Ann\r\nBcc: victim@example.com\r\nSubject: hi"
    response = post_json(form, valid_data(form, first_name=name))

    assert response.status_code == HTTPStatus.OK
    submission = Submission.objects.get()
    assert submission.data["first_name"] == "Ann Bcc: victim@example.com Subject: hi"
    process_all()
    lead = Lead.objects.get()
    assert "\n" not in lead.first_name and "\r" not in lead.first_name


def test_textarea_keeps_its_lines_but_not_control_characters(
    form: Form, post_json: PostJSON
) -> None:
    post_json(form, valid_data(form, message="Line one\r\nLine two\x00\x07\n\n  "))
    assert Submission.objects.get().data["message"] == "Line one\nLine two"


# --- What is refused, and how ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        # required field missing
        ({"email": None}, "email", "This field is required."),
        # not an address
        ({"email": "ann@"}, "email", "Enter a valid email address"),
        # a phone without prefix and no country to read it in
        ({"phone": "2079460958"}, "phone", "add the international prefix"),
        # a number that is not one
        ({"phone": "+44 123"}, "phone", "Enter a valid phone number"),
        # not a country code
        ({"country": "XX"}, "country", "Choose a country from the list."),
        # not one of the choices
        ({"team_size": "1000+"}, "team_size", "Choose one of the options given."),
        # a checkbox that is neither on nor off
        ({"updates": "maybe"}, "updates", "Tick the box or leave it empty."),
        # consent required but not given
        ({"lb.consent": None}, "lb.consent", "Tick this box to agree"),
        # longer than the field allows
        ({"first_name": "x" * 101}, "first_name", "at most 100 characters (it has 101)"),
    ],
)
def test_invalid_values_are_refused_with_400_naming_the_field_and_nothing_is_stored(
    form: Form, post_json: PostJSON, overrides: dict[str, Any], field: str, message: str
) -> None:
    response = post_json(form, valid_data(form, **overrides))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    body = response.json()
    assert message in body["errors"][field]
    assert body["detail"].startswith("Please correct the form.")
    assert not Submission.objects.exists()


def test_phone_without_prefix_is_read_in_the_country_given(form: Form, post_json: PostJSON) -> None:
    response = post_json(form, valid_data(form, phone="020 7946 0958", country="gb"))

    assert response.status_code == HTTPStatus.OK, response.json()
    data = Submission.objects.get().data
    assert (data["phone"], data["country"]) == ("+442079460958", "GB")


def test_html_post_with_errors_shows_the_form_again_with_messages_and_the_values_escaped(
    form: Form, client: Client
) -> None:
    data = valid_data(form, email="not-an-address", first_name=HOSTILE, ref="p-1")
    data["lb.utm_source"] = "google"
    response = client.post(f"/f/{form.slug}", data)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    html = response.content.decode()
    assert "Please correct the fields marked below." in html
    assert 'id="f-email-error"' in html and 'aria-invalid="true"' in html
    assert 'value="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"' in html
    assert "<script>" not in html
    assert '<input type="hidden" name="ref" value="p-1">' in html
    assert '<input type="hidden" name="lb.utm_source" value="google">' in html
    assert f'name="lb.token" value="{data["lb.token"]}"' in html  # the time keeps running
    assert not Submission.objects.exists()


def test_field_longer_than_a_text_fields_limit_names_the_field(form: Form, client: Client) -> None:
    response = client.post(f"/f/{form.slug}", valid_data(form, message="y" * 2001))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.context["errors"] == {
        "message": "Shorten this to at most 2000 characters (it has 2001)."
    }


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        # not JSON at all
        (b'{"email": ', "The body is not valid JSON: Expecting value at line 1, column 11."),
        # NaN is not JSON, though Python reads it
        (b'{"email": NaN}', "The body is not valid JSON: NaN is not a JSON value."),
        # a list instead of an object
        (b'["ann@acme.example"]', "Send a JSON object of field values"),
        # not UTF-8
        (b'{"email": "\xff"}', "The body is not valid JSON"),
        # a value that is an object where text is expected
        (None, "Please correct the form."),
    ],
)
def test_malformed_json_is_refused_with_400_and_nothing_is_stored(
    form: Form, client: Client, body: bytes | None, detail: str
) -> None:
    if body is None:
        body = json.dumps(valid_data(form, first_name={"$ne": ""})).encode()
    response = client.post(f"/f/{form.slug}", body, content_type="application/json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["detail"].startswith(detail)
    assert not Submission.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b"email=ann%40acme.example&first_name=%E2%28",  # percent-encoded bytes not UTF-8
        b"email=ann\xff@acme.example",  # raw bytes not UTF-8
        "&".join(f"f{i}=x" for i in range(300)).encode(),  # too many fields
    ],
)
def test_malformed_form_encoding_is_refused_with_400(
    form: Form, client: Client, body: bytes
) -> None:
    response = post_urlencoded(client, form, body)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "cannot be read" in response.content.decode() or "UTF-8" in response.content.decode()
    assert not Submission.objects.exists()


def test_broken_multipart_is_refused_with_400(form: Form, client: Client) -> None:
    response = client.post(
        f"/f/{form.slug}",
        b"--nope\r\nContent-Disposition: form-data\r\n\r\nx",
        content_type="multipart/form-data",  # and no boundary
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not Submission.objects.exists()


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/xml", "", "application/x-www-form-urlencoded; charset=latin-1"],
)
def test_other_content_types_are_refused_with_415(
    form: Form, client: Client, content_type: str
) -> None:
    response = client.post(
        f"/f/{form.slug}",
        b"email=ann@acme.example",
        content_type=content_type,
        headers={"Accept": "application/json"},
    )

    assert response.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    assert "A form takes" in response.json()["detail"] or "UTF-8" in response.json()["detail"]


def test_oversized_body_is_refused_with_413_before_it_is_read(
    form: Form, client: Client, settings: Settings
) -> None:
    settings.LEADBASE_FORMS_MAX_BODY_BYTES = 1_000
    data = valid_data(form, message="x" * 1_500)

    as_json = client.post(f"/f/{form.slug}", data, content_type="application/json")
    assert as_json.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert "a form takes at most 1,000" in as_json.json()["detail"]
    as_html = client.post(f"/f/{form.slug}", data)
    assert as_html.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert "Submission too large" in as_html.content.decode()
    assert not Submission.objects.exists()


@pytest.mark.parametrize("key", ["k" * 201, "caf\u00e9", "a\x07b"])
def test_unusable_idempotency_keys_are_refused_with_400(
    form: Form, post_json: PostJSON, key: str
) -> None:
    response = post_json(form, valid_data(form), **{"Idempotency-Key": key})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Idempotency-Key" in response.json()["errors"]


def test_get_put_and_delete_are_not_posts(form: Form, client: Client) -> None:
    assert client.put(f"/f/{form.slug}").status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert client.delete(f"/f/{form.slug}").status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert client.post(f"/f/{form.slug}/embed.js").status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_posting_needs_no_csrf_token_and_ignores_a_logged_in_session(
    form: Form, marketer: Any
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(marketer)
    response = client.post(f"/f/{form.slug}", valid_data(form))

    assert response.status_code == HTTPStatus.OK
    assert "Set-Cookie" not in str(response.cookies)
