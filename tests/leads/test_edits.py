"""`lead_update` (services, rules in leads.edits): an explicit edit as a merge patch, used by
the API's PATCH and the admin."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from leadbase.accounts.models import User
from leadbase.core.errors import PermissionDenied, ValidationFailed
from leadbase.leads.models import Lead, LeadChange, LifecycleTransition
from leadbase.leads.services import lead_update

pytestmark = pytest.mark.django_db
MakeLead = Callable[..., Lead]


def test_system_edit_may_assign_by_user_and_clear(make_lead: MakeLead, rep: User) -> None:
    lead = make_lead(email="ann@example.com", city="York", first_name="Ann")

    result = lead_update(lead=lead, data={"owner": rep, "city": None}, actor=None)

    assert result.action == "updated"
    assert result.overwritten == ("city",)
    lead.refresh_from_db()
    assert (lead.owner, lead.city, lead.first_name) == (rep, "", "Ann")
    assert LeadChange.objects.filter(lead=lead, field="owner_id", new_value=str(rep.pk)).exists()


def test_rep_actor_cannot_give_a_lead_away(make_lead: MakeLead, rep: User, other_rep: User) -> None:
    lead = make_lead(owner=rep)

    with pytest.raises(PermissionDenied):
        lead_update(lead=lead, data={"owner": other_rep}, actor=rep)
    with pytest.raises(PermissionDenied):
        lead_update(lead=lead, data={"owner": None}, actor=rep)
    assert lead_update(lead=lead, data={"owner": rep}, actor=rep).action == "unchanged"


def test_every_problem_is_named_together_and_nothing_changes(make_lead: MakeLead) -> None:
    lead = make_lead(email="ann@example.com", city="York")

    with pytest.raises(ValidationFailed) as caught:
        lead_update(
            lead=lead,
            data={
                "bogus": None,
                "email": "",
                "temperature": "tepid",
                "lifecycle_stage": None,
                "owner": 3.5,
                "city": "Leeds",
            },
            actor=None,
        )

    assert set(caught.value.fields) == {"bogus", "email", "temperature", "lifecycle_stage", "owner"}
    assert caught.value.message.startswith("The lead was not changed:")
    lead.refresh_from_db()
    assert lead.city == "York"


def test_status_changes_are_transitions_with_the_reason(
    make_lead: MakeLead, marketer: User
) -> None:
    lead = make_lead()

    lead_update(
        lead=lead,
        data={"qualification": "none", "temperature": "Hot", "lifecycle_stage": "mql"},
        actor=marketer,
        source="admin",
        reason="  called back\r\nand booked  ",
    )

    rows = LifecycleTransition.objects.filter(lead=lead, actor=marketer)
    assert {(t.kind, t.to_value, t.reason) for t in rows} == {
        ("temperature", "hot", "called back and booked"),
        ("stage", "mql", "called back and booked"),
    }  # qualification "none" was already none: no change


def test_attributes_merge_and_remove(make_lead: MakeLead) -> None:
    lead = make_lead(attributes={"a": 1, "b": 2})

    lead_update(lead=lead, data={"attributes": {"a": None, "c": "x"}}, actor=None)

    lead.refresh_from_db()
    assert lead.attributes == {"b": 2, "c": "x"}


def test_clearing_the_email_is_judged_apart_from_other_bad_fields(make_lead: MakeLead) -> None:
    lead = make_lead(email="ann@example.com", phone="+442079460958")

    with pytest.raises(ValidationFailed) as caught:
        lead_update(lead=lead, data={"email": None, "country": "Narnia"}, actor=None)

    assert set(caught.value.fields) == {"country"}  # the phone remains: clearing is fine
