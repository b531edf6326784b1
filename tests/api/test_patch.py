"""PATCH /api/v1/leads/{id} as a JSON merge patch: left out = unchanged, null or "" = cleared,
and owner, sales status, qualification, stage and temperature with their history."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest

from leadbase.accounts.models import Role, User
from leadbase.leads.models import Lead, LeadChange, LifecycleTransition
from tests.conftest import make_user

from .conftest import ApiClient

pytestmark = pytest.mark.django_db

ApiAs = Callable[..., ApiClient]
MakeLead = Callable[..., Lead]


@pytest.fixture
def api(api_as: ApiAs, marketer: User) -> ApiClient:
    return api_as(marketer)


@pytest.fixture
def write_only(api_as: ApiAs, marketer: User) -> ApiClient:
    """A key of the same user without `read`: writes answer with a receipt."""
    return api_as(marketer, "write")


@pytest.fixture
def lead(make_lead: MakeLead) -> Lead:
    return make_lead(
        email="ann@example.com",
        phone="+442079460958",
        first_name="Ann",
        last_name="Lee",
        job_title="Head of Growth",
        city="York",
        country="GB",
        company="Example Ltd",
        campaign="Spring launch",
        utm_source="newsletter",
        landing_page="https://example.com/pricing",
        attributes={"plan": "pro", "seats": 5},
    )


def history(lead: Lead, field: str) -> list[tuple[str, str, str]]:
    return [
        (c.old_value, c.new_value, c.kind)
        for c in LeadChange.objects.filter(lead=lead, field=field).order_by("id")
    ]


def stored(lead: Lead) -> Lead:
    return Lead.objects.select_related("company", "campaign", "owner").get(pk=lead.pk)


# --- Left out, replaced, cleared ------------------------------------------------------------


def test_fields_left_out_are_not_changed(api: ApiClient, lead: Lead) -> None:
    reply = api.patch(f"/leads/{lead.pk}", {"city": "Leeds"})

    assert reply.status == HTTPStatus.OK
    body = reply.body
    assert body["city"] == "Leeds"
    assert (body["first_name"], body["job_title"], body["utm_source"]) == (
        "Ann",
        "Head of Growth",
        "newsletter",
    )
    assert body["company"]["name"] == "Example Ltd"
    assert body["campaign"] == "Spring launch"
    assert body["attributes"] == {"plan": "pro", "seats": 5}
    assert history(lead, "city") == [("York", "Leeds", "updated")]


@pytest.mark.parametrize("empty", [None, "", "   "])
def test_null_or_empty_clears_a_text_field_and_keeps_the_old_value(
    api: ApiClient, lead: Lead, empty: str | None
) -> None:
    reply = api.patch(
        f"/leads/{lead.pk}",
        {"job_title": empty, "city": empty, "utm_source": empty, "landing_page": empty},
    )

    assert reply.status == HTTPStatus.OK, reply.body
    for field in ("job_title", "city", "utm_source", "landing_page"):
        assert reply.body[field] == ""
    assert reply.body["first_name"] == "Ann"
    assert history(lead, "job_title") == [("Head of Growth", "", "updated")]
    assert history(lead, "landing_page") == [("https://example.com/pricing", "", "updated")]
    assert stored(lead).city == ""


def test_clearing_an_empty_field_is_unchanged_and_writes_no_history(
    write_only: ApiClient, lead: Lead
) -> None:
    reply = write_only.patch(f"/leads/{lead.pk}", {"department": None, "region": ""})

    assert reply.body == {"id": lead.pk, "action": "unchanged"}
    assert not LeadChange.objects.filter(lead=lead).exists()


def test_write_only_key_gets_a_receipt_saying_updated(write_only: ApiClient, lead: Lead) -> None:
    reply = write_only.patch(f"/leads/{lead.pk}", {"city": None})

    assert reply.body == {"id": lead.pk, "action": "updated"}


def test_seniority_can_be_cleared_and_is_not_inferred_again(api: ApiClient, lead: Lead) -> None:
    assert stored(lead).seniority == "director"

    reply = api.patch(f"/leads/{lead.pk}", {"seniority": None, "job_title": "VP Sales"})

    assert reply.body["seniority"] == ""
    assert reply.body["job_title"] == "VP Sales"


def test_company_and_campaign_are_unlinked_when_cleared(api: ApiClient, lead: Lead) -> None:
    company_id, campaign_id = lead.company_id, lead.campaign_id

    reply = api.patch(f"/leads/{lead.pk}", {"company": None, "campaign": ""})

    assert reply.status == HTTPStatus.OK
    assert reply.body["company"] is None
    assert reply.body["campaign"] is None
    assert history(lead, "company_id") == [(str(company_id), "", "updated")]
    assert history(lead, "campaign_id") == [(str(campaign_id), "", "updated")]


def test_campaign_can_be_changed(api: ApiClient, lead: Lead) -> None:
    reply = api.patch(f"/leads/{lead.pk}", {"campaign": "Autumn webinar"})

    assert reply.body["campaign"] == "Autumn webinar"
    assert len(history(lead, "campaign_id")) == 1


def test_attributes_merge_key_by_key_and_null_removes(api: ApiClient, lead: Lead) -> None:
    reply = api.patch(f"/leads/{lead.pk}", {"attributes": {"seats": None, "region": "EMEA"}})
    assert reply.body["attributes"] == {"plan": "pro", "region": "EMEA"}
    assert history(lead, "attributes.seats") == [("5", "", "updated")]

    assert api.patch(f"/leads/{lead.pk}", {"attributes": {}}).body["attributes"] == {
        "plan": "pro",
        "region": "EMEA",
    }

    reply = api.patch(f"/leads/{lead.pk}", {"attributes": None})
    assert reply.body["attributes"] == {}
    assert history(lead, "attributes") == [('{"plan": "pro", "region": "EMEA"}', "", "updated")]


# --- Email and phone ------------------------------------------------------------------------


def test_email_can_be_cleared_while_the_phone_remains(api: ApiClient, lead: Lead) -> None:
    reply = api.patch(f"/leads/{lead.pk}", {"email": None})

    assert reply.status == HTTPStatus.OK
    assert reply.body["email"] == ""
    assert reply.body["phone"] == "+442079460958"
    assert history(lead, "email") == [("ann@example.com", "", "updated")]


def test_email_cannot_be_cleared_without_a_phone(api: ApiClient, make_lead: MakeLead) -> None:
    lead = make_lead(email="solo@example.com", first_name="Solo")

    reply = api.patch(f"/leads/{lead.pk}", {"email": "", "first_name": "Changed"})

    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert set(reply.errors) == {"email"}
    assert "phone" in reply.errors["email"]
    assert "email" in reply.detail
    assert stored(lead).email == "solo@example.com"
    assert stored(lead).first_name == "Solo"  # all or nothing


def test_clearing_both_email_and_phone_names_both(api: ApiClient, lead: Lead) -> None:
    reply = api.patch(f"/leads/{lead.pk}", {"email": None, "phone": None})

    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert set(reply.errors) == {"email", "phone"}


def test_phone_can_be_cleared_when_an_email_is_given_instead(
    api: ApiClient, make_lead: MakeLead
) -> None:
    lead = make_lead(email=None, phone="+442079460958")

    reply = api.patch(f"/leads/{lead.pk}", {"phone": None, "email": "New@Example.com"})

    assert reply.status == HTTPStatus.OK, reply.body
    assert (reply.body["email"], reply.body["phone"]) == ("new@example.com", "")


def test_a_phone_without_prefix_is_read_with_the_leads_country(api: ApiClient, lead: Lead) -> None:
    reply = api.patch(f"/leads/{lead.pk}", {"phone": "020 7946 0959"})

    assert reply.status == HTTPStatus.OK, reply.body
    assert reply.body["phone"] == "+442079460959"


# --- Fields that always hold a value ----------------------------------------------------------


@pytest.mark.parametrize(
    "field", ["lifecycle_stage", "sales_status", "temperature", "industry", "employee_count"]
)
@pytest.mark.parametrize("empty", [None, ""])
def test_fields_that_cannot_be_cleared_are_422_naming_them(
    api: ApiClient, lead: Lead, field: str, empty: str | None
) -> None:
    reply = api.patch(f"/leads/{lead.pk}", {field: empty, "city": "Leeds"})

    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert set(reply.errors) == {field}
    assert field in reply.detail
    assert stored(lead).city == "York"


# --- Stage, sales status, qualification, temperature ----------------------------------------


def test_stage_change_records_a_transition_with_actor_and_reason(
    api: ApiClient, lead: Lead, marketer: User
) -> None:
    reply = api.patch(
        f"/leads/{lead.pk}", {"lifecycle_stage": "sql", "reason": "Demo booked <b>today</b>"}
    )

    assert reply.status == HTTPStatus.OK
    assert reply.body["lifecycle_stage"] == "sql"
    transition = LifecycleTransition.objects.filter(lead=lead, kind="stage").latest("id")
    assert (transition.from_value, transition.to_value) == ("lead", "sql")
    assert transition.actor == marketer
    assert transition.reason == "Demo booked <b>today</b>"
    assert stored(lead).became_sql_at is not None
    assert history(lead, "lifecycle_stage") == [("lead", "sql", "updated")]


def test_without_a_reason_the_transition_says_who_and_how(
    api: ApiClient, lead: Lead, marketer: User
) -> None:
    api.patch(f"/leads/{lead.pk}", {"lifecycle_stage": "mql"})

    transition = LifecycleTransition.objects.filter(lead=lead, kind="stage").latest("id")
    assert transition.reason == "changed by mia (api)"


def test_status_qualification_and_temperature_change_with_history_and_transitions(
    api: ApiClient, lead: Lead, marketer: User
) -> None:
    reply = api.patch(
        f"/leads/{lead.pk}",
        {"sales_status": "Attempting", "qualification": "MQL", "temperature": "hot"},
    )

    assert reply.status == HTTPStatus.OK, reply.body
    body = reply.body
    assert (body["sales_status"], body["qualification"], body["temperature"]) == (
        "attempting",
        "mql",
        "hot",
    )
    assert history(lead, "sales_status") == [("new", "attempting", "updated")]
    assert history(lead, "qualification") == [("", "mql", "updated")]
    assert history(lead, "temperature") == [("cold", "hot", "updated")]
    rows = {
        t.kind: (t.from_value, t.to_value, t.actor_id)
        for t in LifecycleTransition.objects.filter(lead=lead).exclude(kind="stage")
    }
    assert rows == {
        "sales_status": ("new", "attempting", marketer.pk),
        "qualification": ("", "mql", marketer.pk),
        "temperature": ("cold", "hot", marketer.pk),
    }


@pytest.mark.parametrize("clear", [None, "", "none"])
def test_qualification_can_be_cleared(api: ApiClient, lead: Lead, clear: str | None) -> None:
    Lead.objects.filter(pk=lead.pk).update(qualification="sql")

    reply = api.patch(f"/leads/{lead.pk}", {"qualification": clear})

    assert reply.status == HTTPStatus.OK
    assert reply.body["qualification"] == ""
    assert history(lead, "qualification") == [("sql", "", "updated")]


def test_same_values_again_change_nothing(write_only: ApiClient, lead: Lead) -> None:
    body = {"city": "York", "sales_status": "new", "temperature": "cold", "lifecycle_stage": "lead"}
    reply = write_only.patch(f"/leads/{lead.pk}", body)
    assert reply.body == {"id": lead.pk, "action": "unchanged"}
    assert not LeadChange.objects.filter(lead=lead).exists()
    assert LifecycleTransition.objects.filter(lead=lead).count() == 1  # the creation


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sales_status": "winning"}, "sales_status"),
        ({"temperature": "lukewarm"}, "temperature"),
        ({"qualification": "pql"}, "qualification"),
        ({"lifecycle_stage": "prospect"}, "lifecycle_stage"),
        ({"sales_status": 5}, "sales_status"),
        ({"temperature": ["hot"]}, "temperature"),
        ({"qualification": {"level": "mql"}}, "qualification"),
        ({"reason": "x" * 501}, "reason"),
        ({"reason": 7}, "reason"),
    ],
)
def test_bad_status_values_are_422_naming_the_field(
    api: ApiClient, lead: Lead, body: dict[str, Any], field: str
) -> None:
    reply = api.patch(f"/leads/{lead.pk}", body)

    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert set(reply.errors) == {field}


def test_unknown_status_lists_the_choices(api: ApiClient, lead: Lead) -> None:
    reply = api.patch(f"/leads/{lead.pk}", {"sales_status": "winning"})

    assert "attempting" in reply.errors["sales_status"]


# --- Owner ----------------------------------------------------------------------------------


def test_marketer_assigns_by_id_and_by_username_and_unassigns(
    api: ApiClient, lead: Lead, rep: User, other_rep: User
) -> None:
    reply = api.patch(f"/leads/{lead.pk}", {"owner": rep.pk})
    assert reply.status == HTTPStatus.OK
    assert reply.body["owner"] == {"id": rep.pk, "username": "rob"}

    reply = api.patch(f"/leads/{lead.pk}", {"owner": "rita"})
    assert reply.body["owner"] == {"id": other_rep.pk, "username": "rita"}

    reply = api.patch(f"/leads/{lead.pk}", {"owner": None})
    assert reply.body["owner"] is None

    assert history(lead, "owner_id") == [
        ("", str(rep.pk), "updated"),
        (str(rep.pk), str(other_rep.pk), "updated"),
        (str(other_rep.pk), "", "updated"),
    ]


def test_admin_may_assign_to_a_marketer(
    api_as: ApiAs, admin_user: User, marketer: User, lead: Lead
) -> None:
    reply = api_as(admin_user).patch(f"/leads/{lead.pk}", {"owner": "mia"})

    assert reply.body["owner"]["username"] == "mia"


@pytest.mark.parametrize(
    ("owner", "message"),
    [
        (987654, "no user with id 987654"),
        ("nobody", "no user named 'nobody'"),
        ("<script>alert(1)</script>", "no user named"),
        ("Ρόμπερτ", "no user named 'Ρόμπερτ'"),
        ("ROB", "no user named 'ROB'"),  # usernames are exact
        ("vic", "Viewer, who cannot own leads"),
        ("gone", "deactivated"),
    ],
)
def test_owner_must_be_an_active_user_who_can_own_leads(
    api: ApiClient, lead: Lead, rep: User, viewer: User, owner: Any, message: str
) -> None:
    gone = make_user("gone", Role.SALES_REP)
    gone.is_active = False
    gone.save()

    reply = api.patch(f"/leads/{lead.pk}", {"owner": owner, "city": "Leeds"})

    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert set(reply.errors) == {"owner"}
    assert message in reply.errors["owner"]
    assert stored(lead).owner_id is None
    assert stored(lead).city == "York"


@pytest.mark.parametrize("owner", [True, 1.5, "1.5", [1], {"id": 1}, 0, -3, 2**64, "x" * 151])
def test_owner_of_the_wrong_type_is_422(api: ApiClient, lead: Lead, owner: Any) -> None:
    reply = api.patch(f"/leads/{lead.pk}", {"owner": owner})

    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert set(reply.errors) == {"owner"}


def test_rep_cannot_give_a_lead_away(
    api_as: ApiAs, rep: User, other_rep: User, make_lead: MakeLead
) -> None:
    lead = make_lead(owner=rep, city="York")
    api = api_as(rep)

    for owner in (other_rep.pk, "rita", None, "", "nobody"):
        reply = api.patch(f"/leads/{lead.pk}", {"owner": owner, "city": "Leeds"})
        assert reply.status == HTTPStatus.FORBIDDEN, owner
        assert "admins and marketers" in reply.detail
        assert "owner" in reply.errors

    assert stored(lead).owner == rep
    assert stored(lead).city == "York"
    assert not LeadChange.objects.filter(lead=lead).exists()


def test_rep_may_name_themselves_and_change_their_leads_status(
    api_as: ApiAs, rep: User, make_lead: MakeLead
) -> None:
    lead = make_lead(owner=rep)

    reply = api_as(rep).patch(
        f"/leads/{lead.pk}", {"owner": "rob", "sales_status": "connected", "temperature": "warm"}
    )

    assert reply.status == HTTPStatus.OK, reply.body
    assert reply.body["owner"]["username"] == "rob"
    assert reply.body["sales_status"] == "connected"
    assert not history(lead, "owner_id")


def test_rep_gets_404_for_a_lead_of_someone_else_even_to_take_it(
    api_as: ApiAs, rep: User, other_rep: User, make_lead: MakeLead
) -> None:
    lead = make_lead(owner=other_rep)

    reply = api_as(rep).patch(f"/leads/{lead.pk}", {"owner": "rob"})

    assert reply.status == HTTPStatus.NOT_FOUND
    assert stored(lead).owner == other_rep


def test_viewer_cannot_patch(api_as: ApiAs, viewer: User, lead: Lead) -> None:
    reply = api_as(viewer).patch(f"/leads/{lead.pk}", {"owner": None})

    assert reply.status == HTTPStatus.FORBIDDEN


# --- Unknown fields, hostile and international values ----------------------------------------


def test_unknown_fields_are_422_naming_each_even_when_null(api: ApiClient, lead: Lead) -> None:
    reply = api.patch(
        f"/leads/{lead.pk}", {"favourite_colour": "blue", "search_text": None, "city": "Leeds"}
    )

    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert set(reply.errors) == {"favourite_colour", "search_text"}
    assert "favourite_colour" in reply.detail
    assert stored(lead).city == "York"


def test_every_bad_field_is_reported_at_once(api: ApiClient, lead: Lead) -> None:
    reply = api.patch(
        f"/leads/{lead.pk}",
        {"country": "Narnia", "owner": "nobody", "sales_status": "winning", "temperature": None},
    )

    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert set(reply.errors) == {"country", "owner", "sales_status", "temperature"}


def test_hostile_and_unicode_values_are_stored_as_text(api: ApiClient, lead: Lead) -> None:
    reply = api.patch(
        f"/leads/{lead.pk}",
        {
            "first_name": "<img src=x onerror=alert(1)>",
            "last_name": '=HYPERLINK("http://evil")',
            "city": "Θεσσαλονίκη",
            "job_title": "Ingénieur\u0000\r\nen chef",
            "attributes": {"note": "'; DROP TABLE leads; --", "名前": "東京"},
        },
    )

    assert reply.status == HTTPStatus.OK, reply.body
    body = reply.body
    assert body["first_name"] == "<img src=x onerror=alert(1)>"
    assert body["last_name"] == '=HYPERLINK("http://evil")'
    assert body["city"] == "Θεσσαλονίκη"
    assert body["job_title"] == "Ingénieur en chef"
    assert body["attributes"]["名前"] == "東京"
    assert b"<img src=x" in reply.content  # JSON is not HTML: escaping is the renderer's job
    assert Lead.objects.count() == 1


def test_text_over_the_column_limit_is_422(api: ApiClient, lead: Lead) -> None:
    reply = api.patch(f"/leads/{lead.pk}", {"first_name": "É" * 101})

    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "limit is 100" in reply.errors["first_name"]
