"""The Django admin as back office: every model opens; lead edits keep history."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.db import models
from django.test import Client
from django.urls import reverse

from leadbase.accounts.models import ApiKey, User
from leadbase.leads.admin import LeadAdmin
from leadbase.leads.models import (
    DuplicateSuggestion,
    Lead,
    LeadChange,
    LifecycleTransition,
)

from .conftest import LeadFactory

pytestmark = pytest.mark.django_db
Login = Callable[[User], Client]


def change_data(lead: Lead, **changes: Any) -> dict[str, Any]:
    """The POST data of the lead's admin change form, with `changes` applied."""
    model_admin = admin.site.get_model_admin(Lead)
    assert isinstance(model_admin, LeadAdmin)
    data: dict[str, Any] = {}
    for name in flatten_fieldsets(model_admin.fieldsets or ()):
        if name in model_admin.readonly_fields:
            continue
        field = Lead._meta.get_field(name)
        assert isinstance(field, models.Field)
        value = getattr(lead, field.attname)
        if name == "attributes":
            value = json.dumps(value)
        elif isinstance(value, bool):
            value = "on" if value else ""
        data[name] = "" if value is None else value
    for name, value in changes.items():
        data[name] = value
    if not data.get("archived"):
        data.pop("archived", None)
    return data


@pytest.mark.parametrize(
    "model",
    [
        "leads.lead",
        "leads.company",
        "leads.campaign",
        "leads.event",
        "leads.lifecycletransition",
        "leads.consent",
        "leads.leadchange",
        "leads.duplicatesuggestion",
        "accounts.user",
        "accounts.apikey",
    ],
)
def test_every_changelist_opens(
    login: Login, admin_user: User, make_lead: LeadFactory, model: str
) -> None:
    make_lead(first_name="Ada", company="Acme", campaign="Spring")
    app, name = model.split(".")
    response = login(admin_user).get(reverse(f"admin:{app}_{name}_changelist"))
    assert response.status_code == 200


def test_lead_search_and_change_page(
    login: Login, admin_user: User, make_lead: LeadFactory
) -> None:
    lead = make_lead(first_name="Grace", last_name="Hopper", company="Navy")
    make_lead(first_name="Alan")
    client = login(admin_user)
    response = client.get(reverse("admin:leads_lead_changelist"), {"q": "hopper"})
    assert response.status_code == 200
    assert "Grace Hopper" in response.text
    assert "Alan" not in response.text
    assert client.get(reverse("admin:leads_lead_change", args=[lead.pk])).status_code == 200
    assert client.get(reverse("admin:leads_lead_add")).status_code == 403


def test_lead_edit_goes_through_the_services(
    login: Login, admin_user: User, rep: User, make_lead: LeadFactory
) -> None:
    lead = make_lead(first_name="Grace", last_name="Hopper", email="grace@navy.example")
    response = login(admin_user).post(
        reverse("admin:leads_lead_change", args=[lead.pk]),
        change_data(
            lead,
            first_name="Rear Admiral Grace",
            email="Grace.Hopper@Navy.example",
            lifecycle_stage="sql",
            owner=rep.pk,
            sales_status="connected",
        ),
    )
    assert response.status_code == 302, response.text[:3000]
    lead.refresh_from_db()
    assert lead.first_name == "Rear Admiral Grace"
    assert lead.email == "grace.hopper@navy.example"  # normalised like any other input
    assert lead.lifecycle_stage == "sql"
    assert lead.became_sql_at is not None
    assert lead.owner == rep
    assert lead.sales_status == "connected"
    assert "rear admiral grace" in lead.search_text
    history = {(c.field, c.old_value, c.new_value) for c in LeadChange.objects.filter(lead=lead)}
    assert ("first_name", "Grace", "Rear Admiral Grace") in history
    assert ("owner_id", "", str(rep.pk)) in history
    transition = LifecycleTransition.objects.filter(lead=lead, to_value="sql").get()
    assert transition.from_value == "lead"
    assert transition.actor == admin_user


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"email": "not an email"}, "email"), ({"email": "taken@other.example"}, "email")],
)
def test_lead_edit_with_bad_values_is_a_form_error(
    login: Login,
    admin_user: User,
    make_lead: LeadFactory,
    changes: dict[str, str],
    field: str,
) -> None:
    make_lead(email="taken@other.example")
    lead = make_lead(email="mine@example.org")
    response = login(admin_user).post(
        reverse("admin:leads_lead_change", args=[lead.pk]), change_data(lead, **changes)
    )
    assert response.status_code == 200  # the form again, with the error
    assert response.context["adminform"].form.errors.get(field)
    lead.refresh_from_db()
    assert lead.email == "mine@example.org"


def test_records_are_read_only(login: Login, admin_user: User, make_lead: LeadFactory) -> None:
    lead = make_lead()
    transition = LifecycleTransition.objects.filter(lead=lead).get()
    client = login(admin_user)
    page = client.get(reverse("admin:leads_lifecycletransition_change", args=[transition.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.text
    assert client.get(reverse("admin:leads_event_add")).status_code == 403


def test_dismiss_duplicate_suggestions(
    login: Login, admin_user: User, make_lead: LeadFactory
) -> None:
    one = make_lead(first_name="Sam", last_name="Lee", email="sam@acme-corp.example")
    two = make_lead(first_name="Sam", last_name="Lee", phone="+14155550123", company="Acme")
    suggestion = DuplicateSuggestion.objects.create(lead=two, candidate=one, reason="same name")
    response = login(admin_user).post(
        reverse("admin:leads_duplicatesuggestion_changelist"),
        {"action": "dismiss", "_selected_action": [suggestion.pk]},
    )
    assert response.status_code == 302
    suggestion.refresh_from_db()
    assert suggestion.dismissed_at is not None


def test_api_keys_show_prefix_and_scopes_never_the_digest(
    login: Login, admin_user: User, api_key_for: Callable[..., str]
) -> None:
    plain = api_key_for(admin_user, "read,ingest")
    key = ApiKey.objects.get()
    client = login(admin_user)
    for page in (
        client.get(reverse("admin:accounts_apikey_changelist")),
        client.get(reverse("admin:accounts_apikey_change", args=[key.pk])),
    ):
        assert page.status_code == 200
        assert f"{key.prefix}…" in page.text
        assert "ingest, read" in page.text
        assert key.digest not in page.text
        assert plain not in page.text
    assert client.get(reverse("admin:accounts_apikey_add")).status_code == 403


def test_revoke_api_keys(login: Login, admin_user: User, api_key_for: Callable[..., str]) -> None:
    api_key_for(admin_user)
    key = ApiKey.objects.get()
    response = login(admin_user).post(
        reverse("admin:accounts_apikey_changelist"),
        {"action": "revoke", "_selected_action": [key.pk]},
    )
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_user_admin_shows_and_sets_the_role(login: Login, admin_user: User, rep: User) -> None:
    client = login(admin_user)
    page = client.get(reverse("admin:accounts_user_changelist"), {"role__exact": "sales_rep"})
    assert "rob@leadbase.test" in page.text
    assert "admin@leadbase.test" not in page.text
    change = client.get(reverse("admin:accounts_user_change", args=[rep.pk]))
    assert 'name="role"' in change.text
