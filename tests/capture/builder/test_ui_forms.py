"""The form builder pages: list, create, edit settings, the fields editor (plain POST and
HTMX), the share snippets, and who may change what."""

from __future__ import annotations

import html
import re
from http import HTTPStatus

import pytest
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from leadbase.accounts.models import User
from leadbase.capture.form_rules import FieldSpec
from leadbase.capture.models import Form

from .conftest import HTMX, FormFactory, Login, SubmissionFactory

pytestmark = pytest.mark.django_db
HOSTILE = '<script>alert("x")</script>'


def edit_url(form: Form) -> str:
    return reverse("capture:form_edit", args=[form.pk])


def field_names(form: Form) -> list[str]:
    return list(form.fields.order_by("position").values_list("name", flat=True))


def settings_post(form: Form | None = None, **changes: str | None) -> dict[str, str]:
    """The settings form as a browser posts it (unticked boxes are left out)."""
    data: dict[str, str | None] = {
        "name": form.name if form else "Spring webinar",
        "slug": form.slug if form else "",
        "purpose": "webinar",
        "campaign": "",
        "channel": "",
        "submit_label": "Register",
        "consent_text": "Send me the recording.",
        "consent_purpose": "marketing_email",
        "consent_required": "on",
        "thank_you_message": "Thanks!",
        "redirect_url": "",
        "allowed_domains": "",
        "owner": "",
        "is_active": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_the_list_shows_counts(
    login: Login,
    viewer: User,
    make_form: FormFactory,
    make_submission: SubmissionFactory,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    long_form = make_form(
        "Long",
        fields=[
            FieldSpec(name="email", label="Email", kind="email", maps_to="email"),
            *(FieldSpec(name=f"f{i}", label=f"F{i}") for i in range(5)),
            FieldSpec(name="src", label="Source", kind="hidden", default="ads"),
        ],
    )
    short = make_form("Short", is_active=False)
    make_submission(long_form)
    make_submission(long_form, status="spam", spam_reason="honeypot field filled in")
    make_submission(short, status="spam")
    client = login(viewer)
    # session, user, forms with their field counts, submission counts of all forms
    with django_assert_num_queries(4):
        page = client.get(reverse("capture:forms")).text
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)[1:]
    cells = [re.sub(r"<[^>]+>|\s+", " ", row).split() for row in rows]
    assert cells[0][:1] == ["Long"] and cells[0][-5:] == ["7", "long", "2", "1", "Active"]
    assert cells[1][:1] == ["Short"] and cells[1][-4:] == ["2", "1", "1", "Inactive"]
    assert "New form" not in page  # a viewer creates nothing


def test_names_are_escaped_everywhere(login: Login, marketer: User, make_form: FormFactory) -> None:
    form = make_form(
        HOSTILE,
        consent_text=HOSTILE,
        submit_label="<b>Go</b>",
        fields=[FieldSpec(name="email", label=HOSTILE, kind="email", maps_to="email",
                          placeholder='"><img src=x>')],
    )  # fmt: skip
    client = login(marketer)
    for url in (reverse("capture:forms"), edit_url(form)):
        page = client.get(url).text
        assert HOSTILE not in page and "<b>Go</b>" not in page and "<img src=x>" not in page
        assert html.escape(HOSTILE) in page
    # The plain-HTML snippet is shown as code: the label is escaped in the snippet, and the
    # snippet again on the page.
    assert "&lt;label for=&quot;lb-email&quot;&gt;&amp;lt;script&amp;gt;" in page


def test_the_share_snippets(login: Login, viewer: User, make_form: FormFactory) -> None:
    form = make_form("Demo request", slug="demo")
    page = login(viewer).get(edit_url(form)).text
    snippet = '<script src="http://testserver/f/demo/embed.js" async></script>'
    assert f'<code id="embed-snippet">{html.escape(snippet)}</code>' in page
    assert '<a href="http://testserver/f/demo" id="hosted-url"' in page
    assert html.escape('<form method="post" action="http://testserver/f/demo"') in page
    assert html.escape('<input type="checkbox" name="lb.consent" value="yes" required>') in page
    assert 'data-copy="embed-snippet"' in page


def test_create_with_plain_post(login: Login, marketer: User) -> None:
    client = login(marketer)
    new = client.get(reverse("capture:form_create"))
    assert new.status_code == 200 and "data-suggest" in new.text
    response = client.post(
        reverse("capture:form_create"),
        settings_post(campaign="Spring 2026", allowed_domains="Bücher.example\nexample.com"),
    )
    form = Form.objects.get()
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response["Location"] == edit_url(form)
    assert (form.slug, form.purpose, form.submit_label) == ("spring-webinar", "webinar", "Register")
    assert form.allowed_domains == "xn--bcher-kva.example\nexample.com"
    assert form.campaign is not None and form.campaign.name == "Spring 2026"
    assert field_names(form) == ["email", "first_name"]
    assert form.created_by == marketer
    page = client.get(response["Location"]).text
    assert "was created" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"slug": "Not a slug"}, "slug", "Must be lower-case letters"),
        ({"redirect_url": "https://evil.example/x"}, "redirect_url", "add evil.example to the"),
        ({"allowed_domains": "*.example.com"}, "allowed_domains", "is a wildcard"),
        ({"purpose": "nonsense"}, "purpose", "Select a valid choice."),
    ],
)
def test_create_with_bad_values_explains(
    login: Login, admin_user: User, changes: dict[str, str], field: str, message: str
) -> None:
    response = login(admin_user).post(
        reverse("capture:form_create"), settings_post(None, **changes)
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    error = re.search(rf'<p class="field-error" id="id_{field}_error">(.*?)</p>', response.text)
    assert error and message in html.unescape(error.group(1)), response.text[:3000]
    assert 'aria-invalid="true"' in response.text
    assert Form.objects.count() == 0


def test_a_taken_slug_is_explained(login: Login, marketer: User, make_form: FormFactory) -> None:
    make_form("Newsletter")
    response = login(marketer).post(
        reverse("capture:form_create"), settings_post(slug="newsletter")
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Is already used by the form &#x27;Newsletter&#x27;." in response.text


def test_edit_settings(login: Login, marketer: User, make_form: FormFactory) -> None:
    form = make_form("Old name", slug="keep-me")
    response = login(marketer).post(
        edit_url(form),
        settings_post(form, name="New name", consent_required=None, is_active=None,
                      allowed_domains="www.example.com",
                      redirect_url="https://www.example.com/thanks"),
    )  # fmt: skip
    assert response.status_code == HTTPStatus.SEE_OTHER
    form.refresh_from_db()
    assert (form.name, form.slug, form.is_active, form.consent_required) == (
        "New name", "keep-me", False, False,
    )  # fmt: skip
    assert form.redirect_url == "https://www.example.com/thanks"


def test_readers_see_but_cannot_change(
    login: Login, viewer: User, rep: User, make_form: FormFactory
) -> None:
    form = make_form("Read me")
    field = form.fields.get(name="first_name")
    for user in (viewer, rep):
        client = login(user)
        page = client.get(edit_url(form)).text
        assert "only admins and marketers can change it" in page
        assert 'name="name"' in page and "disabled" in page
        assert "Save settings" not in page and "Add a field" not in page
        posts = [
            reverse("capture:form_create"),
            edit_url(form),
            reverse("capture:form_delete", args=[form.pk]),
            reverse("capture:field_add", args=[form.pk]),
            reverse("capture:field_update", args=[form.pk, field.pk]),
            reverse("capture:field_delete", args=[form.pk, field.pk]),
            reverse("capture:field_move", args=[form.pk, field.pk]),
        ]
        for url in posts:
            assert client.post(url, {"direction": "up"}).status_code == HTTPStatus.FORBIDDEN, url
        assert client.get(reverse("capture:form_create")).status_code == HTTPStatus.FORBIDDEN
    assert field_names(form) == ["email", "first_name"] and Form.objects.count() == 1


def test_pages_need_login(client: object, make_form: FormFactory) -> None:
    from django.test import Client

    assert isinstance(client, Client)
    form = make_form()
    for url in (reverse("capture:forms"), edit_url(form), reverse("capture:submissions")):
        response = client.get(url)
        assert (
            response.status_code == HTTPStatus.FOUND and "/accounts/login/" in response["Location"]
        )


def test_fields_editor_without_javascript(
    login: Login, marketer: User, make_form: FormFactory
) -> None:
    form = make_form()
    client = login(marketer)
    # add: the name is made from the label when left empty
    response = client.post(
        reverse("capture:field_add", args=[form.pk]),
        {"new-label": "Company size", "new-kind": "choice", "new-choices": "1-10\n\n11-50\n",
         "new-maps_to": "attributes.", "new-attribute_key": "company_size",
         "new-max_length": "200"},
    )  # fmt: skip
    size = form.fields.get(name="company_size")
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response["Location"] == f"{edit_url(form)}#field-{size.pk}"
    assert (size.kind, size.choices, size.maps_to) == (
        "choice",
        ["1-10", "11-50"],
        "attributes.company_size",
    )
    # move up, then rename
    client.post(reverse("capture:field_move", args=[form.pk, size.pk]), {"direction": "up"})
    assert field_names(form) == ["email", "company_size", "first_name"]
    client.post(
        reverse("capture:field_update", args=[form.pk, size.pk]),
        {f"f{size.pk}-label": "Team", f"f{size.pk}-name": "team", f"f{size.pk}-kind": "text",
         f"f{size.pk}-choices": "ignored for text", f"f{size.pk}-maps_to": "",
         f"f{size.pk}-max_length": "50"},
    )  # fmt: skip
    size.refresh_from_db()
    assert (size.name, size.label, size.kind, size.choices, size.max_length) == (
        "team", "Team", "text", [], 50,
    )  # fmt: skip
    client.post(reverse("capture:field_delete", args=[form.pk, size.pk]))
    assert field_names(form) == ["email", "first_name"]


def test_a_bad_field_shows_its_errors_in_place(
    login: Login, marketer: User, make_form: FormFactory
) -> None:
    form = make_form()
    response = login(marketer).post(
        reverse("capture:field_add", args=[form.pk]),
        {"new-label": "Again", "new-name": "first_name", "new-kind": "choice",
         "new-maps_to": "first_name", "new-max_length": "200"},
    )  # fmt: skip
    assert response.status_code == HTTPStatus.BAD_REQUEST
    page = response.text
    assert '<details class="add-field" open>' in page
    assert page.count("Fields 2 and 3 both use the name &#x27;first_name&#x27;") == 1
    assert 'id="id_new-name" aria' not in page and 'aria-invalid="true"' in page
    assert "A choice field needs at least one choice." in page
    assert field_names(form) == ["email", "first_name"]


def test_fields_editor_with_htmx_swaps_the_builder(
    login: Login, marketer: User, make_form: FormFactory
) -> None:
    form = make_form()
    client = login(marketer)
    email = form.fields.get(name="email")
    # removing the only field that gives the lead an email or phone is refused, in place
    refused = client.post(reverse("capture:field_delete", args=[form.pk, email.pk]), headers=HTMX)
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert "That change was not made: no field fills the lead&#x27;s email or phone" in refused.text
    assert refused.text.lstrip().startswith('<section class="card" id="fields"')
    response = client.post(
        reverse("capture:field_add", args=[form.pk]),
        {"new-label": "Téléphone ☎", "new-kind": "phone", "new-maps_to": "phone",
         "new-max_length": "40"},
        headers=HTMX,
    )  # fmt: skip
    assert response.status_code == HTTPStatus.OK
    page = response.text
    assert page.lstrip().startswith('<section class="card" id="fields"') and "<html" not in page
    assert "Added “Téléphone ☎”." in page
    assert 'for="pv-telephone">Téléphone ☎ *</label>' not in page  # not required
    assert 'for="pv-telephone">Téléphone ☎</label>' in page  # the preview follows
    assert "asks for <strong>3</strong> fields" in page
    # with a phone field the lead can be reached, so the email field may go
    ok = client.post(reverse("capture:field_delete", args=[form.pk, email.pk]), headers=HTMX)
    assert ok.status_code == HTTPStatus.OK
    assert "Removed “Email”." in ok.text
    assert field_names(form) == ["first_name", "telephone"]


def test_a_long_form_gets_a_nudge(login: Login, marketer: User, make_form: FormFactory) -> None:
    form = make_form()
    client = login(marketer)
    for i in range(3):
        client.post(
            reverse("capture:field_add", args=[form.pk]),
            {"new-label": f"Q{i}", "new-kind": "text", "new-max_length": "200"},
        )
    assert "Consider a shorter form" not in client.get(edit_url(form)).text
    client.post(
        reverse("capture:field_add", args=[form.pk]),
        {"new-label": "Q3", "new-kind": "text", "new-max_length": "200"},
    )
    page = client.get(edit_url(form)).text
    assert "asks for <strong>6</strong> fields" in page and "Consider a shorter form" in page


def test_a_move_needs_a_direction(login: Login, marketer: User, make_form: FormFactory) -> None:
    form = make_form()
    field = form.fields.get(name="email")
    url = reverse("capture:field_move", args=[form.pk, field.pk])
    assert login(marketer).post(url, {"direction": "sideways"}).status_code == 400
    assert login(marketer).get(url).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_unknown_ids_are_404(login: Login, marketer: User, make_form: FormFactory) -> None:
    form, other = make_form(), make_form()
    foreign = other.fields.get(name="email")
    client = login(marketer)
    assert client.get(reverse("capture:form_edit", args=[999999])).status_code == 404
    url = reverse("capture:field_delete", args=[form.pk, foreign.pk])
    assert client.post(url).status_code == 404
    assert field_names(other) == ["email", "first_name"]


def test_delete_only_without_submissions(
    login: Login, admin_user: User, make_form: FormFactory, make_submission: SubmissionFactory
) -> None:
    kept, gone = make_form("Kept"), make_form("Gone")
    make_submission(kept)
    client = login(admin_user)
    assert "cannot be deleted" in client.get(edit_url(kept)).text
    response = client.post(reverse("capture:form_delete", args=[kept.pk]), follow=True)
    assert "has 1 submission" in response.text
    response = client.post(reverse("capture:form_delete", args=[gone.pk]))
    assert response["Location"] == reverse("capture:forms")
    assert list(Form.objects.values_list("name", flat=True)) == ["Kept"]


def test_upload_content_file(login: Login, marketer: User, make_form: FormFactory) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    form = make_form("Guide", purpose="content_download")
    client = login(marketer)
    assert "without a file" in client.get(edit_url(form)).text
    upload = SimpleUploadedFile("Guide 2026.pdf", b"%PDF-1.7", content_type="application/pdf")
    data = settings_post(form, purpose="content_download")
    response = client.post(edit_url(form), {**data, "content_file": upload})
    assert response.status_code == HTTPStatus.SEE_OTHER
    form.refresh_from_db()
    assert str(form.content_file.name).endswith(".pdf")
    response = client.post(edit_url(form), {**data, "remove_content_file": "on"})
    form.refresh_from_db()
    assert not form.content_file
