"""GET /f/<slug> and /f/<slug>/embed.js: what a visitor's browser receives."""

from __future__ import annotations

import json
import re
from http import HTTPStatus

import pytest
from django.test import Client

from leadbase.capture.models import FieldKind, Form, FormField
from leadbase.capture.spam import fill_token_check
from tests.capture.forms.conftest import CONSENT_TEXT, create_form

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script>'


def test_page_shows_every_field_kind_with_labels_and_required_markers(
    form: Form, client: Client
) -> None:
    response = client.get(f"/f/{form.slug}")

    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert '<form method="post" action="/f/demo"' in html
    assert (
        '<label for="f-email">Work email <span class="lb-required" aria-hidden="true">*</span>'
        in html
    )
    assert re.search(r'<input type="email" id="f-email" name="email"[^>]* required', html)
    assert '<input type="tel" id="f-phone" name="phone"' in html
    assert '<textarea id="f-message" name="message"' in html
    assert '<option value="DE">Germany</option>' in html
    assert '<option value="11-50">11-50</option>' in html
    assert '<input type="checkbox" id="f-updates" name="updates" value="on">' in html
    assert '<input type="hidden" name="ref" value="">' in html
    # not required: no marker, no attribute
    assert '<label for="f-first_name">First name</label>' in html
    assert "csrfmiddlewaretoken" not in html


def test_consent_box_shows_the_exact_text_and_is_required_when_the_form_says_so(
    form: Form, client: Client
) -> None:
    html = client.get(f"/f/{form.slug}").content.decode()
    assert "Yes, send me Acme&#x27;s newsletter. I can unsubscribe at any time." in html
    assert re.search(r'name="lb.consent" value="on" required', html)

    form.consent_required = False
    form.save()
    html = client.get(f"/f/{form.slug}").content.decode()
    assert re.search(r'name="lb.consent" value="on">', html)

    form.consent_text = ""
    form.save()
    assert "lb.consent" not in client.get(f"/f/{form.slug}").content.decode()


def test_hidden_fields_take_query_parameters_of_their_name_and_utm_values_are_carried(
    form: Form, client: Client
) -> None:
    html = client.get(
        f"/f/{form.slug}?ref=partner-7&utm_source=newsletter&utm_medium=email&email=x@y.z",
        headers={"Referer": "https://www.acme.example/pricing"},
    ).content.decode()

    assert '<input type="hidden" name="ref" value="partner-7">' in html
    assert '<input type="hidden" name="lb.utm_source" value="newsletter">' in html
    assert '<input type="hidden" name="lb.utm_medium" value="email">' in html
    assert (
        '<input type="hidden" name="lb.referrer" value="https://www.acme.example/pricing">' in html
    )
    assert 'name="lb.landing_page" value="http://testserver/f/demo?ref=partner-7' in html
    # only hidden fields are filled from the URL
    assert '<input type="email" id="f-email" name="email" value=""' in html


def test_page_carries_a_fill_token_for_this_form_and_a_honeypot_hidden_from_people(
    form: Form, client: Client, settings: object
) -> None:
    html = client.get(f"/f/{form.slug}").content.decode()
    token = re.search(r'name="lb.token" value="([^"]+)"', html)
    assert token is not None
    assert fill_token_check(token.group(1), form_id=form.pk).startswith("filled in")
    assert '<div class="lb-hp" aria-hidden="true">' in html
    assert 'name="lb.website" value="" tabindex="-1" autocomplete="off"' in html


def test_hostile_labels_help_texts_choices_and_consent_are_shown_escaped(client: Client) -> None:
    form = create_form(
        slug="hostile",
        name=HOSTILE,
        consent_text=HOSTILE,
        fields=[
            {"name": "email", "label": HOSTILE, "kind": FieldKind.EMAIL, "required": True,
             "maps_to": "email", "help_text": HOSTILE, "placeholder": '"><img src=x>'},
            {"name": "pick", "label": "Pick", "kind": FieldKind.CHOICE, "choices": [HOSTILE]},
        ],
    )  # fmt: skip
    html = client.get(f"/f/{form.slug}?utm_source={HOSTILE}").content.decode()

    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "<img" not in html


def test_unknown_and_inactive_forms_answer_404_with_a_clear_page(client: Client) -> None:
    inactive = create_form(slug="closed", is_active=False)

    for slug in ("no-such-form", inactive.slug):
        response = client.get(f"/f/{slug}")
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert "This form is not available" in response.content.decode()
        posted = client.post(f"/f/{slug}", {"email": "a@b.example"})
        assert posted.status_code == HTTPStatus.NOT_FOUND
        as_json = client.post(f"/f/{slug}", {}, content_type="application/json")
        assert as_json.status_code == HTTPStatus.NOT_FOUND
        assert "not available" in as_json.json()["detail"]
        assert client.get(f"/f/{slug}/embed.js").status_code == HTTPStatus.NOT_FOUND


def test_public_page_sets_no_cookie_and_never_touches_the_session(
    form: Form, client: Client
) -> None:
    response = client.get(f"/f/{form.slug}")

    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")
    assert "no-store" in response["Cache-Control"]  # every page has its own token


def test_only_the_allowed_domains_may_frame_the_page_or_be_redirected_to(
    form: Form, client: Client
) -> None:
    response = client.get(f"/f/{form.slug}")
    policy = response["Content-Security-Policy"]
    assert "form-action 'self' www.acme.example 127.0.0.1;" in policy
    assert "frame-ancestors 'self' www.acme.example 127.0.0.1;" in policy
    assert "script-src 'self'" in policy
    assert "X-Frame-Options" not in response  # the CSP names who may frame it

    closed = create_form(slug="no-domains", allowed_domains="")
    response = client.get(f"/f/{closed.slug}")
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_embed_script_holds_the_form_as_escaped_json_and_a_fresh_token(client: Client) -> None:
    form = create_form(slug="embedme", name="</script><script>alert(1)</script>")
    response = client.get(f"/f/{form.slug}/embed.js")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert "no-store" in response["Cache-Control"]
    assert "Content-Security-Policy" not in response
    script = response.content.decode()
    assert "</script><script>alert" not in script
    assert "/*LEADBASE_CONFIG*/null" not in script
    payload = script[script.rindex("})(") + 3 : script.rindex(");")]
    config = json.loads(payload)
    assert config["name"] == "</script><script>alert(1)</script>"
    assert config["path"] == "/f/embedme"
    assert [f["name"] for f in config["fields"]][:2] == ["email", "first_name"]
    assert config["consent"] == {"name": "lb.consent", "text": CONSENT_TEXT, "required": True}
    assert fill_token_check(config["token"]["value"], form_id=form.pk).startswith("filled in")


def test_field_changes_show_on_the_next_request(form: Form, client: Client) -> None:
    assert 'name="team_size"' in client.get(f"/f/{form.slug}").content.decode()

    FormField.objects.filter(form=form, name="team_size").delete()
    form.save()  # the builder saves the form with every field change

    assert 'name="team_size"' not in client.get(f"/f/{form.slug}").content.decode()
