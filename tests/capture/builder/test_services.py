"""The builder's writes (services_forms): whole-form and one-field edits, all or nothing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from leadbase.accounts.models import User
from leadbase.capture.form_rules import STARTER_CONSENT, FieldSpec
from leadbase.capture.models import Form, FormField
from leadbase.capture.services_forms import (
    FieldRejected,
    FormInUse,
    SlugTaken,
    form_create,
    form_delete,
    form_field_add,
    form_field_delete,
    form_field_move,
    form_field_update,
    form_update,
)
from leadbase.core.errors import ValidationFailed
from leadbase.leads.models import Campaign

from .conftest import FormFactory, SubmissionFactory

pytestmark = pytest.mark.django_db
EMAIL = FieldSpec(name="email", label="Email", kind="email", required=True, maps_to="email")


def names(form: Form) -> list[str]:
    return list(form.fields.order_by("position").values_list("name", flat=True))


def test_a_new_form_starts_short(marketer: User) -> None:
    form = form_create(values={"name": "Spring webinar"}, actor=marketer)
    assert form.slug == "spring-webinar"
    assert names(form) == ["email", "first_name"]
    email = form.fields.get(name="email")
    assert (email.kind, email.required, email.maps_to) == ("email", True, "email")
    assert form.consent_text == STARTER_CONSENT and form.consent_required
    assert form.created_by == marketer and form.is_active


def test_the_slug_made_from_the_name_is_free(make_form: FormFactory) -> None:
    make_form("Newsletter")
    assert make_form("Newsletter").slug == "newsletter-2"


def test_a_taken_slug_is_a_conflict_and_nothing_is_written(make_form: FormFactory) -> None:
    make_form("Newsletter")
    with pytest.raises(SlugTaken) as caught:
        make_form("Other", slug="newsletter")
    assert caught.value.status == 409
    assert "already used by the form 'Newsletter'" in caught.value.message
    assert "newsletter-2" in caught.value.message
    assert Form.objects.count() == 1 and FormField.objects.count() == 2


def test_every_bad_value_is_reported_at_once(make_form: FormFactory) -> None:
    with pytest.raises(ValidationFailed) as caught:
        make_form(
            "x",
            slug="Bad Slug",
            redirect_url="https://evil.example/",
            allowed_domains="example.com\n*.example.org",
            fields=[FieldSpec(name="email", label="Email", kind="text", maps_to="nope")],
        )
    assert set(caught.value.fields) == {
        "slug", "redirect_url", "allowed_domains", "fields.0.maps_to", "fields",
    }  # fmt: skip
    assert Form.objects.count() == 0


def test_campaign_is_chosen_or_created(make_form: FormFactory) -> None:
    existing = Campaign.objects.create(name="Spring 2026", channel="email")
    form = make_form(campaign="Spring 2026")
    assert form.campaign == existing
    form = make_form(campaign="  Brand new  ", channel="event")
    assert form.campaign is not None and form.campaign.name == "Brand new"
    assert form.campaign.channel == "event"
    assert Campaign.objects.count() == 2
    form = form_update(form=form, changes={"campaign": ""})
    assert form.campaign is None


def test_the_owner_must_be_able_to_own_leads(make_form: FormFactory, viewer: User) -> None:
    with pytest.raises(ValidationFailed) as caught:
        make_form(owner=viewer, notify_owner=True)
    assert "admin, marketer or sales rep" in caught.value.fields["owner"]
    with pytest.raises(ValidationFailed) as caught:
        make_form(notify_owner=True)
    assert caught.value.fields == {
        "notify_owner": "needs an owner to notify; choose the owner first"
    }


def test_update_changes_only_what_is_given(make_form: FormFactory) -> None:
    form = make_form("A", allowed_domains="example.com")
    form_update(form=form, changes={"redirect_url": "https://example.com/thanks"})
    form.refresh_from_db()
    assert (form.name, form.redirect_url) == ("A", "https://example.com/thanks")
    # removing the domain the redirect goes to is refused, naming the redirect
    with pytest.raises(ValidationFailed) as caught:
        form_update(form=form, changes={"allowed_domains": ""})
    assert "no allowed domains are listed" in caught.value.fields["redirect_url"]


def test_replacing_fields_keeps_ids_by_name(make_form: FormFactory) -> None:
    form = make_form()
    email_id = form.fields.get(name="email").pk
    form_update(
        form=form,
        changes={},
        fields=[
            FieldSpec(name="company", label="Company", maps_to="company_name"),
            FieldSpec(name="email", label="Work email", kind="email", maps_to="email"),
        ],
    )
    assert names(form) == ["company", "email"]
    email = form.fields.get(name="email")
    assert (email.pk, email.label, email.position) == (email_id, "Work email", 1)
    assert form.fields.get(name="company").maps_to == "company"


def test_one_field_edits(make_form: FormFactory) -> None:
    form = make_form()
    company = form_field_add(form=form, spec=FieldSpec(name="company", label="Company"))
    assert names(form) == ["email", "first_name", "company"]
    form_field_move(field=company, offset=-1)
    assert names(form) == ["email", "company", "first_name"]
    form_field_move(field=company, offset=-5)  # stops at the top
    assert names(form) == ["company", "email", "first_name"]
    form_field_update(field=company, spec=FieldSpec(name="org", label="Organisation"))
    assert names(form) == ["org", "email", "first_name"]
    form_field_delete(field=form.fields.get(name="first_name"))
    assert names(form) == ["org", "email"]
    assert list(form.fields.order_by("position").values_list("position", flat=True)) == [0, 1]


def test_a_one_field_edit_names_its_own_errors(make_form: FormFactory) -> None:
    form = make_form()
    with pytest.raises(FieldRejected) as caught:
        form_field_add(form=form, spec=FieldSpec(name="first_name", label="", kind="choice"))
    assert set(caught.value.field_errors) == {"name", "label", "choices"}
    assert names(form) == ["email", "first_name"]


def test_the_only_email_field_cannot_go(make_form: FormFactory) -> None:
    form = make_form()
    with pytest.raises(FieldRejected) as caught:
        form_field_delete(field=form.fields.get(name="email"))
    assert "email or phone" in caught.value.list_errors[0]
    assert names(form) == ["email", "first_name"]


def test_a_form_with_submissions_is_not_deleted(
    make_form: FormFactory, make_submission: SubmissionFactory
) -> None:
    kept, gone = make_form(), make_form()
    make_submission(kept)
    with pytest.raises(FormInUse) as caught:
        form_delete(form=kept)
    assert caught.value.status == 409 and "Deactivate it instead" in caught.value.message
    form_delete(form=gone)
    assert list(Form.objects.all()) == [kept]
    assert FormField.objects.filter(form_id=gone.pk).count() == 0


def test_content_file_only_for_content_downloads(make_form: FormFactory) -> None:
    pdf = SimpleUploadedFile("guide.pdf", b"%PDF-1.4 tiny", content_type="application/pdf")
    with pytest.raises(ValidationFailed) as caught:
        form_create(values={"name": "News"}, actor=None, content_file=pdf)
    assert "content-download" in caught.value.fields["content_file"]
    exe = SimpleUploadedFile("guide.exe", b"MZ", content_type="application/octet-stream")
    with pytest.raises(ValidationFailed) as caught:
        form_create(
            values={"name": "G", "purpose": "content_download"}, actor=None, content_file=exe
        )
    assert "must be one of" in caught.value.fields["content_file"]
    pdf.seek(0)
    form = form_create(
        values={"name": "Guide", "purpose": "content_download"}, actor=None, content_file=pdf
    )
    assert str(form.content_file.name).startswith("capture/content/guide")
    assert form.content_file.read() == b"%PDF-1.4 tiny"


def test_an_empty_slug_on_update_keeps_the_address(make_form: FormFactory) -> None:
    form = make_form("Newsletter")
    form_update(form=form, changes={"slug": "", "name": "Monthly letter"})
    form.refresh_from_db()
    assert (form.name, form.slug) == ("Monthly letter", "newsletter")
    form_update(form=form, changes={"slug": "monthly"})
    form.refresh_from_db()
    assert form.slug == "monthly"
