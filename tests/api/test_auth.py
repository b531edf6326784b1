"""Who may call the API: bearer keys (401 without a usable one) and scopes (403)."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

import pytest
from django.test import override_settings

from leadbase.accounts.models import ApiKey, User
from leadbase.accounts.services import apikey_create, apikey_revoke
from leadbase.leads.models import Lead

from .conftest import ApiClient

pytestmark = pytest.mark.django_db

ApiAs = Callable[..., ApiClient]
ApiWithKey = Callable[[str | None], ApiClient]


def test_request_without_key_is_401_and_says_how_to_send_one(
    api_with_key: ApiWithKey, admin_user: User
) -> None:
    reply = api_with_key(None).get("/leads")

    assert reply.status == HTTPStatus.UNAUTHORIZED
    assert "Authorization: Bearer <key>" in reply.detail
    assert reply.response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "key",
    ["lb_000000000000_notarealsecret", "not-even-our-format", "", "lb_"],
    ids=["unknown", "foreign", "empty", "prefix-only"],
)
def test_unknown_key_is_401(api_with_key: ApiWithKey, admin_user: User, key: str) -> None:
    reply = api_with_key(key).get("/leads")

    assert reply.status == HTTPStatus.UNAUTHORIZED
    assert "key" in reply.detail


def test_non_bearer_authorization_header_is_401_naming_the_expected_form(
    api_with_header: Callable[[str], ApiClient],
    api_key_for: Callable[..., str],
    admin_user: User,
) -> None:
    reply = api_with_header(f"Basic {api_key_for(admin_user)}").get("/leads")

    assert reply.status == HTTPStatus.UNAUTHORIZED
    assert "Bearer <key>" in reply.detail


def test_genuine_key_with_a_wrong_secret_is_401(
    api_with_key: ApiWithKey, api_key_for: Callable[..., str], admin_user: User
) -> None:
    key = api_key_for(admin_user)

    reply = api_with_key(key[:-4] + "AAAA").get("/leads")

    assert reply.status == HTTPStatus.UNAUTHORIZED


def test_revoked_key_is_401(api_with_key: ApiWithKey, admin_user: User) -> None:
    new = apikey_create(user=admin_user, scopes="read")
    assert api_with_key(new.plain).get("/leads").status == HTTPStatus.OK

    apikey_revoke(api_key=new.api_key)
    reply = api_with_key(new.plain).get("/leads")

    assert reply.status == HTTPStatus.UNAUTHORIZED
    assert "revoked" in reply.detail


def test_key_of_a_deactivated_user_is_401(api_as: ApiAs, marketer: User) -> None:
    api = api_as(marketer)
    marketer.is_active = False
    marketer.save(update_fields=["is_active"])

    assert api.get("/leads").status == HTTPStatus.UNAUTHORIZED


def test_successful_request_records_when_the_key_was_last_used(
    api_as: ApiAs, marketer: User
) -> None:
    api = api_as(marketer, "read")

    api.get("/leads")

    assert ApiKey.objects.get(user=marketer).last_used_at is not None


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
def test_key_is_checked_before_the_body_is_read(api_with_key: ApiWithKey, admin_user: User) -> None:
    reply = api_with_key(None).post("/leads", {"email": "ann@example.com", "city": "x" * 500})

    assert reply.status == HTTPStatus.UNAUTHORIZED


def test_read_key_cannot_create_a_lead_and_is_told_which_scope_is_missing(
    api_as: ApiAs, admin_user: User
) -> None:
    reply = api_as(admin_user, "read").post("/leads", {"email": "ann@example.com"})

    assert reply.status == HTTPStatus.FORBIDDEN
    assert "'write' or 'ingest' scope" in reply.detail
    assert not Lead.objects.exists()


def test_write_key_without_read_cannot_list_leads(api_as: ApiAs, admin_user: User) -> None:
    reply = api_as(admin_user, "write").get("/leads")

    assert reply.status == HTTPStatus.FORBIDDEN
    assert "'read' scope" in reply.detail


def test_ingest_key_creates_leads_but_cannot_read_change_or_delete_them(
    api_as: ApiAs, admin_user: User
) -> None:
    api = api_as(admin_user, "ingest")

    created = api.post("/leads", {"email": "ann@example.com"})
    lead_id = created.body["id"]

    assert created.status == HTTPStatus.CREATED
    assert api.get(f"/leads/{lead_id}").status == HTTPStatus.FORBIDDEN
    patched = api.patch(f"/leads/{lead_id}", {"first_name": "Ann"})
    assert patched.status == HTTPStatus.FORBIDDEN
    assert "'write' scope" in patched.detail
    assert api.delete(f"/leads/{lead_id}").status == HTTPStatus.FORBIDDEN
    assert Lead.objects.get(pk=lead_id).first_name == ""


def test_key_without_read_gets_a_receipt_not_the_leads_data(
    api_as: ApiAs, admin_user: User, make_lead: Callable[..., Lead]
) -> None:
    existing = make_lead(email="known@example.com", first_name="Known", phone="+442079460958")

    reply = api_as(admin_user, "ingest").post("/leads", {"email": "KNOWN@example.com"})

    assert reply.status == HTTPStatus.OK
    assert reply.body == {"id": existing.pk, "action": "unchanged"}


def test_write_only_key_patch_answers_with_a_receipt(
    api_as: ApiAs, admin_user: User, make_lead: Callable[..., Lead]
) -> None:
    lead = make_lead()

    reply = api_as(admin_user, "write").patch(f"/leads/{lead.pk}", {"city": "Leeds"})

    assert reply.status == HTTPStatus.OK
    assert reply.body == {"id": lead.pk, "action": "updated"}


def test_scopes_do_not_widen_the_users_role(api_as: ApiAs, viewer: User) -> None:
    reply = api_as(viewer, "read,write,ingest").post("/leads", {"email": "ann@example.com"})

    assert reply.status == HTTPStatus.FORBIDDEN
    assert "Viewer" in reply.detail
    assert not Lead.objects.exists()
