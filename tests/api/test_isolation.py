"""Roles through the API: a key acts with its user's rights. Sales reps see and change only
their own leads (another rep's lead is a 404, never a 403); viewers only read; only admins
and marketers delete."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

import pytest

from leadbase.accounts.models import User
from leadbase.leads.models import Consent, Lead, LeadChange

from .conftest import ApiClient

pytestmark = pytest.mark.django_db

ApiAs = Callable[..., ApiClient]
MakeLead = Callable[..., Lead]


@pytest.fixture
def rivals_lead(make_lead: MakeLead, other_rep: User) -> Lead:
    return make_lead(owner=other_rep, email="rival@acme.example", first_name="Rae")


def test_rep_gets_404_for_another_reps_lead(api_as: ApiAs, rep: User, rivals_lead: Lead) -> None:
    reply = api_as(rep).get(f"/leads/{rivals_lead.pk}")

    assert reply.status == HTTPStatus.NOT_FOUND
    assert "Rae" not in str(reply.body)


def test_rep_gets_the_same_404_for_another_reps_lead_as_for_a_missing_one(
    api_as: ApiAs, rep: User, rivals_lead: Lead
) -> None:
    api = api_as(rep)
    missing = rivals_lead.pk + 1000

    theirs = api.get(f"/leads/{rivals_lead.pk}")
    nothing = api.get(f"/leads/{missing}")

    assert theirs.status == nothing.status == HTTPStatus.NOT_FOUND
    assert theirs.detail.replace(str(rivals_lead.pk), "N") == nothing.detail.replace(
        str(missing), "N"
    )


def test_rep_cannot_patch_another_reps_lead(api_as: ApiAs, rep: User, rivals_lead: Lead) -> None:
    reply = api_as(rep).patch(f"/leads/{rivals_lead.pk}", {"first_name": "Hijacked"})

    assert reply.status == HTTPStatus.NOT_FOUND
    rivals_lead.refresh_from_db()
    assert rivals_lead.first_name == "Rae"


def test_rep_cannot_delete_another_reps_lead(api_as: ApiAs, rep: User, rivals_lead: Lead) -> None:
    reply = api_as(rep).delete(f"/leads/{rivals_lead.pk}")

    assert reply.status == HTTPStatus.NOT_FOUND
    assert Lead.objects.filter(pk=rivals_lead.pk).exists()


def test_rep_list_shows_only_own_leads_even_when_filtering_by_another_owner(
    api_as: ApiAs, rep: User, other_rep: User, make_lead: MakeLead, rivals_lead: Lead
) -> None:
    own = make_lead(owner=rep)
    make_lead()  # unassigned
    api = api_as(rep)

    everything = api.get("/leads")
    theirs = api.get("/leads", {"owner": other_rep.pk})
    unassigned = api.get("/leads", {"unassigned": "true"})

    assert [item["id"] for item in everything.body["items"]] == [own.pk]
    assert theirs.body["items"] == []
    assert unassigned.body["items"] == []


def test_rep_can_patch_own_lead(api_as: ApiAs, rep: User, make_lead: MakeLead) -> None:
    lead = make_lead(owner=rep)

    reply = api_as(rep).patch(f"/leads/{lead.pk}", {"city": "Bristol"})

    assert reply.status == HTTPStatus.OK
    assert reply.body["city"] == "Bristol"


def test_rep_cannot_delete_own_lead(api_as: ApiAs, rep: User, make_lead: MakeLead) -> None:
    lead = make_lead(owner=rep)

    reply = api_as(rep).delete(f"/leads/{lead.pk}")

    assert reply.status == HTTPStatus.FORBIDDEN
    assert "admins and marketers" in reply.detail
    assert Lead.objects.filter(pk=lead.pk).exists()


def test_rep_submitting_another_reps_lead_gets_409_and_changes_nothing(
    api_as: ApiAs, rep: User, rivals_lead: Lead
) -> None:
    reply = api_as(rep).post(
        "/leads",
        {
            "email": "RIVAL@acme.example",
            "city": "Leeds",
            "consents": [{"purpose": "newsletter"}],
        },
    )

    assert reply.status == HTTPStatus.CONFLICT
    assert "email" in reply.errors
    assert "Rae" not in str(reply.body)
    rivals_lead.refresh_from_db()
    assert rivals_lead.city == ""
    assert not Consent.objects.exists()
    assert not LeadChange.objects.filter(lead=rivals_lead).exists()


def test_viewer_reads_but_cannot_create_change_or_delete(
    api_as: ApiAs, viewer: User, make_lead: MakeLead
) -> None:
    lead = make_lead(first_name="Ann")
    api = api_as(viewer)

    assert api.get(f"/leads/{lead.pk}").status == HTTPStatus.OK
    assert api.get("/leads").body["items"][0]["id"] == lead.pk
    created = api.post("/leads", {"email": "new@example.com"})
    patched = api.patch(f"/leads/{lead.pk}", {"first_name": "Changed"})
    deleted = api.delete(f"/leads/{lead.pk}")

    assert created.status == patched.status == deleted.status == HTTPStatus.FORBIDDEN
    assert "Viewer" in patched.detail
    lead.refresh_from_db()
    assert lead.first_name == "Ann"
    assert Lead.objects.count() == 1


def test_marketer_and_admin_see_every_reps_leads(
    api_as: ApiAs, marketer: User, admin_user: User, rivals_lead: Lead
) -> None:
    for user in (marketer, admin_user):
        assert api_as(user).get(f"/leads/{rivals_lead.pk}").status == HTTPStatus.OK
