"""Creating, reading, changing and deleting leads through /api/v1/leads."""

from __future__ import annotations

import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, get_args

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pytest_django import DjangoAssertNumQueries

from leadbase.accounts.models import User
from leadbase.leads.api import LEAD_KEYSETS
from leadbase.leads.edits import EDIT_ONLY_FIELDS
from leadbase.leads.forms import LeadFilterForm
from leadbase.leads.models import Consent, ConsentStatus, Lead, LeadChange, Qualification
from leadbase.leads.normalize import ACCEPTED_FIELDS
from leadbase.leads.schemas import LeadIn, LeadOut, LeadPatch, LeadSort, QualificationFilter
from leadbase.leads.selectors import NOT_QUALIFIED, SORTS

from .conftest import ApiClient

pytestmark = pytest.mark.django_db

ApiAs = Callable[..., ApiClient]
MakeLead = Callable[..., Lead]

LEAD_OUT_FIELDS = {
    "id", "email", "phone", "first_name", "last_name", "job_title", "seniority", "department",
    "company", "country", "region", "city", "source_channel", "campaign", "utm_source",
    "utm_medium", "utm_campaign", "utm_term", "utm_content", "owner", "lifecycle_stage",
    "sales_status", "temperature", "qualification", "fit_score", "engagement_score",
    "total_score", "predicted_probability", "last_activity_at", "archived", "attributes",
    "created_at", "updated_at",
}  # fmt: skip


@pytest.fixture
def api(api_as: ApiAs, marketer: User) -> ApiClient:
    return api_as(marketer)


# --- Create / update -----------------------------------------------------------------------


def test_new_lead_is_created_with_201_and_returned_with_its_id(api: ApiClient) -> None:
    reply = api.post(
        "/leads",
        {
            "email": " Ann@Example.COM ",
            "first_name": "Ann",
            "job_title": "Head of Growth",
            "company": "Example Ltd",
            "campaign": "Spring launch",
            "utm_source": "newsletter",
            "attributes": {"plan": "pro"},
        },
    )

    assert reply.status == HTTPStatus.CREATED
    lead = Lead.objects.get()
    assert reply.body["id"] == lead.pk
    assert reply.body["email"] == "ann@example.com"
    assert reply.body["seniority"] == "director"
    assert reply.body["company"]["domain"] == "example.com"
    assert reply.body["company"]["name"] == "Example Ltd"
    assert reply.body["campaign"] == "Spring launch"
    assert reply.body["utm_source"] == "newsletter"
    assert reply.body["attributes"] == {"plan": "pro"}
    assert reply.body["source_detail"] == "api"


def test_lead_body_has_every_documented_field(api: ApiClient) -> None:
    reply = api.post("/leads", {"email": "ann@example.com"})

    assert set(reply.body) >= LEAD_OUT_FIELDS
    assert reply.body["owner"] is None
    assert reply.body["campaign"] is None


def test_known_email_in_other_case_updates_the_same_lead_with_200(api: ApiClient) -> None:
    first = api.post("/leads", {"email": "ann@example.com"})

    second = api.post("/leads", {"email": "Ann@Example.COM", "city": "Leeds"})

    assert first.status == HTTPStatus.CREATED
    assert second.status == HTTPStatus.OK
    assert second.body["id"] == first.body["id"]
    assert second.body["city"] == "Leeds"
    assert Lead.objects.count() == 1


def test_upsert_fills_blanks_but_keeps_differing_values_in_history(api: ApiClient) -> None:
    api.post("/leads", {"email": "ann@example.com", "first_name": "Ann"})

    reply = api.post("/leads", {"email": "ann@example.com", "first_name": "Anna", "city": "York"})

    assert reply.status == HTTPStatus.OK
    assert reply.body["first_name"] == "Ann"
    assert reply.body["city"] == "York"
    assert LeadChange.objects.filter(field="first_name", new_value="Anna").exists()


def test_same_submission_twice_leaves_one_lead(api: ApiClient) -> None:
    payload = {"email": "ann@example.com", "first_name": "Ann", "phone": "+442079460958"}

    replies = [api.post("/leads", payload) for _ in range(2)]

    assert [r.status for r in replies] == [HTTPStatus.CREATED, HTTPStatus.OK]
    assert replies[0].body["id"] == replies[1].body["id"]
    assert Lead.objects.count() == 1


def test_lead_with_phone_only_is_accepted_and_matched_by_phone(api: ApiClient) -> None:
    first = api.post("/leads", {"phone": "+44 20 7946 0958"})
    second = api.post("/leads", {"phone": "020 7946 0958", "country": "GB", "city": "London"})

    assert first.status == HTTPStatus.CREATED
    assert first.body["phone"] == "+442079460958"
    assert second.status == HTTPStatus.OK
    assert second.body["id"] == first.body["id"]


def test_consents_are_recorded_with_the_request_ip_unless_one_is_given(api: ApiClient) -> None:
    reply = api.post(
        "/leads",
        {
            "email": "ann@example.com",
            "consents": [
                {"purpose": "newsletter", "text_shown": "Send me the newsletter"},
                {"purpose": "phone", "granted": False, "ip_address": "203.0.113.7"},
            ],
        },
    )

    assert reply.status == HTTPStatus.CREATED
    newsletter = Consent.objects.get(purpose="newsletter")
    assert newsletter.status == ConsentStatus.GRANTED
    assert newsletter.text_shown == "Send me the newsletter"
    assert newsletter.ip_address == "127.0.0.1"
    assert newsletter.source == "api"
    phone = Consent.objects.get(purpose="phone")
    assert phone.status == ConsentStatus.WITHDRAWN
    assert phone.ip_address == "203.0.113.7"


def test_unknown_consent_purpose_is_422_naming_it(api: ApiClient) -> None:
    reply = api.post("/leads", {"email": "a@example.com", "consents": [{"purpose": "spam"}]})

    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "newsletter" in reply.errors["consents.0.purpose"]
    assert not Lead.objects.exists()


def test_rep_who_creates_a_lead_owns_it_and_can_read_it(api_as: ApiAs, rep: User) -> None:
    api = api_as(rep)

    created = api.post("/leads", {"email": "ann@example.com"})

    assert created.status == HTTPStatus.CREATED
    assert created.body["owner"] == {"id": rep.pk, "username": "rob"}
    assert api.get(f"/leads/{created.body['id']}").status == HTTPStatus.OK


def test_lead_created_by_a_marketer_stays_unassigned(api: ApiClient) -> None:
    reply = api.post("/leads", {"email": "ann@example.com"})

    assert Lead.objects.get(pk=reply.body["id"]).owner is None


# --- Read ----------------------------------------------------------------------------------


def test_get_lead_returns_it_with_company_campaign_and_owner(
    api: ApiClient, make_lead: MakeLead, rep: User
) -> None:
    lead = make_lead(owner=rep, email="bo@acme.example", company="Acme", campaign="Fall")

    reply = api.get(f"/leads/{lead.pk}")

    assert reply.status == HTTPStatus.OK
    assert reply.body["id"] == lead.pk
    assert reply.body["company"]["name"] == "Acme"
    assert reply.body["campaign"] == "Fall"
    assert reply.body["owner"] == {"id": rep.pk, "username": rep.username}


def test_unknown_lead_is_404(api: ApiClient) -> None:
    reply = api.get("/leads/987654")

    assert reply.status == HTTPStatus.NOT_FOUND
    assert "987654" in reply.detail


def test_lead_id_beyond_any_database_id_is_404_not_a_crash(api: ApiClient) -> None:
    assert api.get("/leads/99999999999999999999999").status == HTTPStatus.NOT_FOUND


# --- Change --------------------------------------------------------------------------------


def test_patch_replaces_given_values_and_keeps_the_old_ones_in_history(
    api: ApiClient, make_lead: MakeLead
) -> None:
    lead = make_lead(first_name="Ann", city="York")

    reply = api.patch(f"/leads/{lead.pk}", {"first_name": "Anna", "lifecycle_stage": "mql"})

    assert reply.status == HTTPStatus.OK
    assert reply.body["first_name"] == "Anna"
    assert reply.body["city"] == "York"
    assert reply.body["lifecycle_stage"] == "mql"
    assert LeadChange.objects.filter(lead=lead, field="first_name", old_value="Ann").exists()


def test_patch_with_invalid_values_is_422_and_changes_nothing(
    api: ApiClient, make_lead: MakeLead
) -> None:
    lead = make_lead(first_name="Ann")

    reply = api.patch(f"/leads/{lead.pk}", {"first_name": "Anna", "country": "Narnia"})

    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert set(reply.errors) == {"country"}
    lead.refresh_from_db()
    assert lead.first_name == "Ann"


def test_patch_to_another_leads_email_is_422_naming_email(
    api: ApiClient, make_lead: MakeLead
) -> None:
    make_lead(email="taken@example.com")
    lead = make_lead(email="mine@example.com")

    reply = api.patch(f"/leads/{lead.pk}", {"email": "TAKEN@example.com"})

    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "email" in reply.errors


def test_patch_unknown_lead_is_404(api: ApiClient) -> None:
    assert api.patch("/leads/424242", {"city": "York"}).status == HTTPStatus.NOT_FOUND


# --- Delete --------------------------------------------------------------------------------


@pytest.mark.parametrize("role_fixture", ["admin_user", "marketer"])
def test_admin_and_marketer_delete_a_lead_with_204(
    api_as: ApiAs, make_lead: MakeLead, request: pytest.FixtureRequest, role_fixture: str
) -> None:
    user: User = request.getfixturevalue(role_fixture)
    api = api_as(user)
    lead = make_lead()

    reply = api.delete(f"/leads/{lead.pk}")

    assert reply.status == HTTPStatus.NO_CONTENT
    assert reply.content == b""
    assert not Lead.objects.filter(pk=lead.pk).exists()
    assert api.get(f"/leads/{lead.pk}").status == HTTPStatus.NOT_FOUND


def test_delete_unknown_lead_is_404(api: ApiClient) -> None:
    assert api.delete("/leads/424242").status == HTTPStatus.NOT_FOUND


# --- List and filters ----------------------------------------------------------------------


def _ids(reply: Any) -> list[int]:
    return [item["id"] for item in reply.body["items"]]


def test_list_is_newest_first_with_null_next_on_the_last_page(
    api: ApiClient, make_lead: MakeLead
) -> None:
    leads = [make_lead() for _ in range(3)]

    reply = api.get("/leads")

    assert reply.status == HTTPStatus.OK
    assert _ids(reply) == [lead.pk for lead in reversed(leads)]
    assert reply.body["next"] is None


def test_list_filters_match_the_ui_filters(api: ApiClient, make_lead: MakeLead, rep: User) -> None:
    hot = make_lead(first_name="Hettie", email="hettie@hot.example", source_channel="event")
    Lead.objects.filter(pk=hot.pk).update(
        temperature="hot", qualification="mql", total_score=80, lifecycle_stage="mql"
    )
    owned = make_lead(owner=rep, email="olly@owned.example")
    Lead.objects.filter(pk=owned.pk).update(total_score=40)
    archived = make_lead(email="archie@old.example")
    Lead.objects.filter(pk=archived.pk).update(archived=True)

    def ids(**params: Any) -> list[int]:
        reply = api.get("/leads", params)
        assert reply.status == HTTPStatus.OK, reply.body
        return _ids(reply)

    assert ids(q="hettie") == [hot.pk]
    assert ids(q="owned.example") == [owned.pk]
    assert ids(stage="mql") == [hot.pk]
    assert ids(temperature="hot") == [hot.pk]
    assert ids(qualification="mql") == [hot.pk]
    assert ids(qualification="none") == [owned.pk]
    assert ids(owner=rep.pk) == [owned.pk]
    assert ids(unassigned="true") == [hot.pk]
    assert ids(source="event") == [hot.pk]
    assert ids(min_score=50) == [hot.pk]
    assert ids(min_score=30, max_score=50) == [owned.pk]
    assert ids(archived="true") == [archived.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 501}, "limit"),
        ({"limit": 0}, "limit"),
        ({"sort": "email"}, "sort"),
        ({"stage": "hot"}, "stage"),
        ({"qualification": "pql"}, "qualification"),
        ({"qualification": "None"}, "qualification"),
        ({"owner": "me"}, "owner"),
        ({"min_score": "nan"}, "min_score"),
        ({"min_score": 50, "max_score": 10}, "max_score"),
    ],
)
def test_bad_list_parameters_are_422_naming_the_parameter(
    api: ApiClient, params: dict[str, Any], field: str
) -> None:
    reply = api.get("/leads", params)

    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert field in reply.errors
    assert field in reply.detail


def test_limit_over_500_names_the_limit(api: ApiClient) -> None:
    reply = api.get("/leads", {"limit": 1000})

    assert "500" in reply.errors["limit"]


def test_list_query_count_does_not_grow_with_rows(
    api: ApiClient,
    make_lead: MakeLead,
    rep: User,
    other_rep: User,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    def add_leads(count: int) -> None:
        for i in range(count):
            make_lead(
                owner=rep if i % 2 else other_rep,
                email=f"p{i}-{Lead.objects.count()}@firm{i}.example",
                campaign=f"Campaign {i}",
            )

    add_leads(2)
    api.get("/leads")  # the key's last_used_at is written once a minute: not counted below
    with CaptureQueriesContext(connection) as few:
        assert len(api.get("/leads").body["items"]) == 2
    add_leads(30)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get("/leads").body["items"]) == 32

    assert len(many.captured_queries) == len(few.captured_queries)
    with django_assert_max_num_queries(2):  # the key, the page (company/owner/campaign joined)
        assert api.get("/leads", {"limit": 500}).status == HTTPStatus.OK


# --- Schemas stay in step with the rest of Leadbase -----------------------------------------


def test_lead_input_schema_accepts_exactly_the_fields_lead_upsert_accepts() -> None:
    assert set(LeadIn.model_fields) == ACCEPTED_FIELDS | {"consents"}
    assert set(LeadPatch.model_fields) == ACCEPTED_FIELDS | EDIT_ONLY_FIELDS | {"reason"}


def test_qualification_filter_offers_every_qualification_and_none() -> None:
    assert set(get_args(QualificationFilter)) == {*Qualification.values, NOT_QUALIFIED}
    offered = re.findall(r'<option value="([^"]*)"', str(LeadFilterForm()["qualification"]))
    assert set(offered) == set(get_args(QualificationFilter))


def test_every_ui_sort_has_a_cursor_order() -> None:
    assert set(get_args(LeadSort)) == set(SORTS) == set(LEAD_KEYSETS)


def test_lead_output_schema_has_the_documented_fields() -> None:
    assert set(LeadOut.model_fields) >= LEAD_OUT_FIELDS
