"""The lead page at /leads/<id>/: fields, company, scores, consents, timeline, isolation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from leadbase.accounts.models import User
from leadbase.leads.models import Event, Lead
from leadbase.leads.services import ConsentInput, lead_upsert, transition_record

from .conftest import LeadFactory

pytestmark = pytest.mark.django_db
Login = Callable[[User], Client]


def url(lead: Lead) -> str:
    return reverse("leads:detail", args=[lead.pk])


@pytest.fixture
def full_lead(rep: User) -> Lead:
    at = timezone.now() - dt.timedelta(days=3)
    lead = lead_upsert(
        data={
            "email": "ines@northwind.example",
            "phone": "+49 30 1234567",
            "first_name": "Inès",
            "last_name": "Dubois",
            "job_title": "Head of Marketing",
            "department": "Marketing",
            "company": "Northwind Traders",
            "industry": "Logistics",
            "employee_count": 1250,
            "country": "DE",
            "city": "Berlin",
            "source_channel": "paid_search",
            "utm_source": "google",
            "utm_medium": "cpc",
            "utm_campaign": "spring-launch",
            "campaign": "Spring launch",
            "landing_page": "https://leadbase.example/pricing",
            "attributes": {"plan_interest": "enterprise", "seats": 40},
        },
        source="web form",
        consents=[ConsentInput(purpose="marketing_email", text_shown="Yes, send news.")],
        at=at,
    ).lead
    Lead.objects.filter(pk=lead.pk).update(
        owner=rep,
        fit_score=55,
        engagement_score=30.4,
        total_score=85.4,
        predicted_probability=0.42,
        temperature="hot",
        qualification="mql",
    )
    Event.objects.create(
        lead=lead,
        type="webinar_attended",
        occurred_at=at + dt.timedelta(days=1),
        properties={"webinar": "Scoring 101"},
    )
    Event.objects.create(lead=lead, type="pricing_page_view", occurred_at=at + dt.timedelta(days=2))
    lead.refresh_from_db()
    transition_record(
        lead=lead, to_stage="mql", reason="score above 80", at=at + dt.timedelta(days=1, hours=1)
    )
    return lead


def test_login_required(client: Client, full_lead: Lead) -> None:
    response = client.get(url(full_lead))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_shows_the_lead(login: Login, admin_user: User, full_lead: Lead, rep: User) -> None:
    response = login(admin_user).get(url(full_lead))
    assert response.status_code == 200
    html = response.text
    assert "<h1>Inès Dubois</h1>" in html
    for text in [
        "ines@northwind.example",
        "+49301234567",
        "Head of Marketing",
        "Marketing",
        "Berlin, DE",
        "Paid search",
        "Spring launch",
        "spring-launch",
        "https://leadbase.example/pricing",
        "plan_interest",
        "enterprise",
        "Northwind Traders",
        "Logistics",
        "1,250",
        str(rep),
        "Predicted to convert: <strong>42%</strong>",
        "Marketing email",
        "Granted",
    ]:
        assert text in html, text
    assert '<span class="score-value">85</span><span class="score-label">Total</span>' in html
    assert '<span class="score-value">30</span><span class="score-label">Engagement</span>' in html
    assert '<span class="badge stage stage-mql">MQL</span>' in html
    assert '<span class="badge temp temp-hot">Hot</span>' in html


def test_timeline_newest_first(login: Login, admin_user: User, full_lead: Lead) -> None:
    html = login(admin_user).get(url(full_lead)).text
    titles = [
        "Pricing page view",
        "Lifecycle stage: Lead → MQL",
        "Webinar attended",
        "Lead created",
    ]
    # (the titles are shown as given by lead_timeline; CSS capitalises the first letter)
    positions = [html.lower().index(title.lower()) for title in titles]
    assert positions == sorted(positions)
    assert "webinar: Scoring 101" in html
    assert "score above 80" in html


def test_rep_sees_own_lead_but_404_for_others(
    login: Login, rep: User, other_rep: User, full_lead: Lead, make_lead: LeadFactory
) -> None:
    assert login(rep).get(url(full_lead)).status_code == 200
    assert login(other_rep).get(url(full_lead)).status_code == 404
    unassigned = make_lead(email="nobody@nowhere.example")
    assert login(rep).get(url(unassigned)).status_code == 404


def test_unknown_lead_is_404(login: Login, admin_user: User) -> None:
    assert login(admin_user).get("/leads/987654/").status_code == 404


def test_xss_is_escaped(login: Login, admin_user: User, make_lead: LeadFactory) -> None:
    lead = make_lead(
        first_name="<script>alert(1)</script>",
        job_title="<img src=x onerror=alert(2)>",
        company="</title><script>alert(3)</script>",
        attributes={"<b>key</b>": "<i>value</i>"},
    )
    Event.objects.create(
        lead=lead, type="<svg onload=alert(4)>", occurred_at=timezone.now(), properties={}
    )
    html = login(admin_user).get(url(lead)).text
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "<svg onload" not in html
    assert "<b>key</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt; · Leadbase</title>" in html


def test_unicode_lead(login: Login, admin_user: User, make_lead: LeadFactory) -> None:
    lead = make_lead(first_name="Σωκράτης", last_name="Παπαδόπουλος", city="Θεσσαλονίκη")
    html = login(admin_user).get(url(lead)).text
    assert "<h1>Σωκράτης Παπαδόπουλος</h1>" in html
    assert "Θεσσαλονίκη" in html


def test_lead_without_company_or_scores(
    login: Login, admin_user: User, make_lead: LeadFactory
) -> None:
    lead = make_lead(email="solo@gmail.com")
    html = login(admin_user).get(url(lead)).text
    assert "No company known." in html
    assert "Predicted to convert" not in html
    assert "No consent recorded." in html


def test_query_count(
    login: Login,
    admin_user: User,
    full_lead: Lead,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    client = login(admin_user)
    client.get(url(full_lead))
    # session + user + lead with company, owner, campaign + consents + events + transitions
    # + open duplicate suggestions (both leads with company and owner)
    with django_assert_max_num_queries(7):
        assert client.get(url(full_lead)).status_code == 200
