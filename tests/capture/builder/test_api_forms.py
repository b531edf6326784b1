"""The forms API: /api/v1/forms and the submissions under it."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client

from leadbase.accounts.models import User
from leadbase.capture.models import Form, FormField, Submission
from leadbase.leads.models import Campaign, Lead
from tests.api.conftest import ApiClient

from .conftest import ApiAs, FormFactory, SubmissionFactory

pytestmark = pytest.mark.django_db
HOSTILE = '<script>alert("x")</script>'


def field(name: str, **values: Any) -> dict[str, Any]:
    return {"name": name, "label": values.pop("label", name.title()), **values}


EMAIL = field("email", kind="email", required=True, maps_to="email")


@pytest.fixture
def api(api_as: ApiAs, marketer: User) -> ApiClient:
    return api_as(marketer)


def test_create_with_defaults(api: ApiClient, marketer: User) -> None:
    reply = api.post("/forms", {"name": "Spring webinar", "purpose": "webinar"})
    assert reply.status == HTTPStatus.CREATED, reply.body
    body = reply.body
    assert body["slug"] == "spring-webinar" and body["purpose"] == "webinar"
    assert [f["name"] for f in body["fields"]] == ["email", "first_name"]
    assert body["fields"][0] | {"id": 0} == {
        "id": 0, "position": 0, "name": "email", "label": "Email", "kind": "email",
        "required": True, "maps_to": "email", "choices": [], "default": "", "placeholder": "",
        "help_text": "", "max_length": 200,
    }  # fmt: skip
    assert body["url"] == "http://testserver/f/spring-webinar"
    assert body["embed_snippet"] == (
        '<script src="http://testserver/f/spring-webinar/embed.js" async></script>'
    )
    assert (body["fields_count"], body["submissions_count"], body["spam_count"]) == (2, 0, 0)
    assert Form.objects.get().created_by == marketer


def test_create_with_everything(api: ApiClient, rep: User) -> None:
    reply = api.post(
        "/forms",
        {
            "name": "Demo ☕ Zoë",
            "slug": "demo",
            "purpose": "demo_request",
            "campaign": "Q3 push",
            "channel": "paid_social",
            "consent_text": "",
            "redirect_url": "https://www.bücher.example/danke",
            "allowed_domains": ["www.bücher.example", "https://example.com/page"],
            "owner": rep.pk,
            "notify_owner": True,
            "fields": [
                EMAIL,
                field("size", label="Größe", kind="choice", choices=["1-10", "11+"],
                      maps_to="attributes.size"),
                field("src", kind="hidden", default="linkedin", maps_to="utm_source"),
            ],
        },
    )  # fmt: skip
    assert reply.status == HTTPStatus.CREATED, reply.body
    body = reply.body
    assert body["name"] == "Demo ☕ Zoë" and body["campaign"] == "Q3 push"
    assert body["allowed_domains"] == ["www.xn--bcher-kva.example", "example.com"]
    assert body["owner"] == {"id": rep.pk, "username": "rob"}
    assert [f["label"] for f in body["fields"]] == ["Email", "Größe", "Src"]
    assert body["fields"][1]["choices"] == ["1-10", "11+"]
    assert (body["fields_count"], body["visible_fields_count"]) == (3, 2)
    assert Campaign.objects.get().name == "Q3 push"


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        # one bad value of each kind, each named
        ({"slug": "Bad Slug!"}, {"slug"}),
        ({"redirect_url": "https://evil.example/"}, {"redirect_url"}),
        ({"allowed_domains": ["*.example.com"]}, {"allowed_domains"}),
        ({"fields": [EMAIL, field("x", maps_to="shoe_size")]}, {"fields.1.maps_to"}),
        ({"fields": [EMAIL, field("x", kind="choice")]}, {"fields.1.choices"}),
        ({"fields": [EMAIL, field("email", kind="email")]}, {"fields.0.name", "fields.1.name"}),
        ({"fields": [EMAIL] + [field(f"f{i}") for i in range(50)]}, {"fields"}),
        ({"fields": [field("first_name", maps_to="first_name")]}, {"fields"}),
        ({"fields": [EMAIL, field("x", kind="radio")]}, {"fields.1.kind"}),
        ({"fields": [EMAIL, {"name": "x"}]}, {"fields.1.label"}),
        ({"purpose": "gossip"}, {"purpose"}),
        ({"owner": 999_999}, {"owner"}),
        ({"colour": "red"}, {"colour"}),
        ({"is_active": "yes"}, {"is_active"}),
        # several at once: all named
        (
            {"slug": "-x-", "redirect_url": "ftp://x", "fields": [field("A b", label="")]},
            {"slug", "redirect_url", "fields.0.name", "fields.0.label", "fields"},
        ),
    ],
)
def test_bad_values_are_422_naming_each(
    api: ApiClient, body: dict[str, Any], errors: set[str]
) -> None:
    reply = api.post("/forms", {"name": "Bad", **body})
    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY, reply.body
    assert set(reply.errors) == errors, reply.body
    for key in errors:
        assert key in reply.detail
    assert Form.objects.count() == 0


def test_a_duplicate_slug_is_409(api: ApiClient, make_form: FormFactory) -> None:
    make_form("Newsletter")
    reply = api.post("/forms", {"name": "Other", "slug": "newsletter"})
    assert reply.status == HTTPStatus.CONFLICT
    assert reply.errors == {"slug": "is already used by the form 'Newsletter'"}
    assert "newsletter-2" in reply.detail


def test_hostile_and_unicode_text_is_kept_verbatim(api: ApiClient) -> None:
    reply = api.post(
        "/forms",
        {"name": HOSTILE, "thank_you_message": "Danke!\n\n<b>Bis bald</b> 👋",
         "fields": [EMAIL | {"label": HOSTILE}, field("note", label="备注 =1+1", kind="textarea")]},
    )  # fmt: skip
    assert reply.status == HTTPStatus.CREATED, reply.body
    assert reply.body["name"] == HOSTILE
    assert reply.body["fields"][0]["label"] == HOSTILE
    assert reply.body["fields"][1]["label"] == "备注 =1+1"
    assert reply.body["thank_you_message"] == "Danke!\n\n<b>Bis bald</b> 👋"
    # JSON, never sniffed as HTML: clients escape where they render
    assert reply.response["Content-Type"] == "application/json; charset=utf-8"
    assert reply.response["X-Content-Type-Options"] == "nosniff"


def test_list_and_get(api_as: ApiAs, viewer: User, make_form: FormFactory) -> None:
    first, second, third = make_form("A"), make_form("B", is_active=False), make_form("C")
    api = api_as(viewer, "read")
    pages = list(api.walk("/forms", {"limit": 2}))
    assert [[f["id"] for f in p.body["items"]] for p in pages] == [
        [first.pk, second.pk], [third.pk],
    ]  # fmt: skip
    active = api.get("/forms", {"active": "true"}).body["items"]
    assert [f["name"] for f in active] == ["A", "C"]
    reply = api.get(f"/forms/{second.pk}")
    assert reply.status == 200 and reply.body["is_active"] is False
    assert api.get("/forms/999999").status == HTTPStatus.NOT_FOUND


def test_patch_changes_only_what_is_sent(api: ApiClient, make_form: FormFactory) -> None:
    form = make_form("Old", allowed_domains="example.com", campaign="Camp")
    email_id = form.fields.get(name="email").pk
    reply = api.patch(f"/forms/{form.pk}", {"name": "New", "campaign": None})
    assert reply.status == 200, reply.body
    assert (reply.body["name"], reply.body["campaign"], reply.body["slug"]) == (
        "New", None, form.slug,
    )  # fmt: skip
    assert reply.body["allowed_domains"] == ["example.com"]
    # fields: the list is replaced; a kept name keeps its id
    reply = api.patch(
        f"/forms/{form.pk}",
        {"fields": [field("company", maps_to="company_name"), EMAIL | {"label": "Work email"}]},
    )
    assert reply.status == 200, reply.body
    assert [(f["name"], f["position"]) for f in reply.body["fields"]] == [
        ("company", 0), ("email", 1),
    ]  # fmt: skip
    assert reply.body["fields"][1]["id"] == email_id
    assert reply.body["fields"][0]["maps_to"] == "company"
    # a bad patch changes nothing
    reply = api.patch(f"/forms/{form.pk}", {"name": "Newer", "redirect_url": "https://x.example"})
    assert reply.status == 422 and set(reply.errors) == {"redirect_url"}
    form.refresh_from_db()
    assert form.name == "New"


def test_delete_only_without_submissions(
    api: ApiClient, make_form: FormFactory, make_submission: SubmissionFactory
) -> None:
    kept, gone = make_form(), make_form()
    make_submission(kept)
    reply = api.delete(f"/forms/{kept.pk}")
    assert reply.status == HTTPStatus.CONFLICT
    assert "deactivate" in reply.detail.lower() and "is_active" in reply.detail
    assert api.delete(f"/forms/{gone.pk}").status == HTTPStatus.NO_CONTENT
    assert list(Form.objects.all()) == [kept]
    assert api.delete(f"/forms/{gone.pk}").status == HTTPStatus.NOT_FOUND


def test_keys_and_roles(
    client: Client,
    api_as: ApiAs,
    admin_user: User,
    viewer: User,
    rep: User,
    make_form: FormFactory,
    make_submission: SubmissionFactory,
) -> None:
    form = make_form()
    held = make_submission(form, status="spam")
    no_key = ApiClient(client, None)
    assert no_key.get("/forms").status == HTTPStatus.UNAUTHORIZED
    assert no_key.post("/forms", {"name": "x"}).status == HTTPStatus.UNAUTHORIZED
    bad_key = ApiClient(client, "Bearer lb_nope")
    assert bad_key.get(f"/forms/{form.pk}").status == HTTPStatus.UNAUTHORIZED
    # scopes
    read_only = api_as(admin_user, "read")
    assert read_only.get("/forms").status == 200
    reply = read_only.post("/forms", {"name": "x"})
    assert reply.status == HTTPStatus.FORBIDDEN and "'write'" in reply.detail
    assert read_only.post(f"/submissions/{held.pk}/release", {}).status == HTTPStatus.FORBIDDEN
    write_only = api_as(admin_user, "write")
    assert write_only.get("/forms").status == HTTPStatus.FORBIDDEN
    ingest = api_as(admin_user, "ingest")
    assert ingest.post("/forms", {"name": "x"}).status == HTTPStatus.FORBIDDEN
    # roles: viewers and reps read, but do not change
    for user in (viewer, rep):
        api = api_as(user)
        assert api.get(f"/forms/{form.pk}").status == 200
        for reply in (
            api.post("/forms", {"name": "x"}),
            api.patch(f"/forms/{form.pk}", {"name": "y"}),
            api.delete(f"/forms/{form.pk}"),
            api.post(f"/submissions/{held.pk}/release", {}),
        ):
            assert reply.status == HTTPStatus.FORBIDDEN, reply.body
            assert "admins and marketers" in reply.detail
    assert Form.objects.get().name == form.name
    held.refresh_from_db()
    assert held.status == "spam"


def test_submissions_listing(
    api_as: ApiAs,
    marketer: User,
    rep: User,
    make_form: FormFactory,
    make_lead: Callable[..., Lead],
    make_submission: SubmissionFactory,
) -> None:
    form = make_form()
    lead = make_lead(owner=rep, email="own@acme.example")
    own = make_submission(form, lead=lead, email=lead.email)
    spam = make_submission(form, status="spam", spam_reason=HOSTILE, data={"x": HOSTILE})
    newest = make_submission(form, status="duplicate")
    api = api_as(marketer, "read")
    pages = list(api.walk(f"/forms/{form.pk}/submissions", {"limit": 2}))
    assert [[s["id"] for s in p.body["items"]] for p in pages] == [
        [newest.pk, spam.pk], [own.pk],
    ]  # fmt: skip
    reply = api.get(f"/forms/{form.pk}/submissions", {"status": "spam"})
    assert [s["id"] for s in reply.body["items"]] == [spam.pk]
    assert reply.body["items"][0]["spam_reason"] == HOSTILE
    assert reply.body["items"][0]["data"] == {"x": HOSTILE}
    bad = api.get(f"/forms/{form.pk}/submissions", {"status": "gone"})
    assert bad.status == 422 and set(bad.errors) == {"status"}
    assert api.get("/forms/999999/submissions").status == HTTPStatus.NOT_FOUND
    # a sales rep sees only the submissions of own leads
    rep_view = api_as(rep, "read").get(f"/forms/{form.pk}/submissions").body["items"]
    assert [(s["id"], s["lead"]) for s in rep_view] == [(own.pk, lead.pk)]


def test_release(
    api: ApiClient, marketer: User, make_form: FormFactory, make_submission: SubmissionFactory
) -> None:
    form = make_form()
    held = make_submission(
        form,
        status="spam",
        spam_reason="honeypot field filled in",
        email="ann@acme.example",
        data={"email": "ann@acme.example", "first_name": "Ann"},
    )
    reply = api.post(f"/submissions/{held.pk}/release", {})
    assert reply.status == 200, reply.body
    assert reply.body["status"] == "processed" and reply.body["released_by"] == "mia"
    lead = Lead.objects.get(email="ann@acme.example")
    assert reply.body["lead"] == lead.pk and lead.first_name == "Ann"
    again = api.post(f"/submissions/{held.pk}/release", {})
    assert again.status == HTTPStatus.CONFLICT and again.errors == {
        "status": "is processed; only spam or failed can be released"
    }
    assert api.post("/submissions/999999/release", {}).status == HTTPStatus.NOT_FOUND
    assert Submission.objects.get().lead_id == lead.pk


def test_fields_are_read_in_one_query(
    api: ApiClient, make_form: FormFactory, django_assert_max_num_queries: Any
) -> None:
    for _ in range(5):
        make_form()
    with django_assert_max_num_queries(6):  # key, user, forms, fields (+ last_used write)
        reply = api.get("/forms")
    assert len(reply.body["items"]) == 5
    assert FormField.objects.count() == 10
