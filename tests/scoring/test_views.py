"""The scoring pages: rule sets, the draft editor, preview and publish with progress, roll
back, and a lead's score card; who may do what."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from leadbase.accounts.models import User
from leadbase.leads.events import EventIn, events_record
from leadbase.leads.models import Lead, LifecycleTransition
from leadbase.scoring.jobs import job_run
from leadbase.scoring.models import JobKind, JobStatus, RuleSet, RuleSetStatus, ScoringJob
from leadbase.scoring.rule_sets import active_forget, rule_set_active, rule_set_draft_create
from leadbase.scoring.services import leads_rescore
from tests.scoring.conftest import easier, scored_leads, snapshot

pytestmark = pytest.mark.django_db
MakeLead = Callable[..., Lead]
Login = Callable[[User], Client]


@pytest.fixture
def engaged(make_lead: MakeLead) -> list[Lead]:
    """Six scored leads; the first three viewed the pricing page twice (engagement 20)."""
    return scored_leads(make_lead, 6, engaged=3)


def post_definition(client: Client, version: int, definition: Any, **headers: str) -> Any:
    text = definition if isinstance(definition, str) else json.dumps(definition)
    return client.post(
        reverse("scoring:rule-set", args=[version]),
        {"definition": text, "note": "testing"},
        headers=headers,
    )


def last_job() -> ScoringJob:
    job = ScoringJob.objects.order_by("-id").first()
    assert job is not None, "no scoring job was started"
    return job


# --- Reading ---------------------------------------------------------------------------------


def test_the_nav_links_to_scoring_and_the_page_lists_every_version(
    login: Login, viewer: User
) -> None:
    active = rule_set_active()
    html = login(viewer).get(reverse("leads:list")).text
    assert f'<a href="{reverse("scoring:rule-sets")}" class="nav-item">Scoring</a>' in html

    response = login(viewer).get(reverse("scoring:rule-sets"))

    assert response.status_code == HTTPStatus.OK
    html = response.text
    assert f"v{active.version}" in html and "In force" in html
    # Viewers read; they get no buttons.
    assert reverse("scoring:rule-set-new") not in html
    assert "admins and marketers change them" in html


def test_login_is_required(client: Client) -> None:
    response = client.get(reverse("scoring:rule-sets"))
    assert response.status_code == HTTPStatus.FOUND
    assert "/accounts/login/" in response["Location"]


def test_the_summary_reads_the_rules(login: Login, viewer: User) -> None:
    active = rule_set_active()
    html = login(viewer).get(reverse("scoring:rule-set", args=[active.version])).text
    assert "decision maker (C-level, owner, VP)" in html
    assert "seniority is one of “c_level”, “owner”, “vp”" in html
    assert "demo request" in html and "+25" in html
    assert "Temperature: hot" in html and "engagement ≥ 50" in html
    assert "30 days" in html  # the default half-life
    assert "<textarea" not in html  # published: read only, no editor


def test_hostile_labels_and_notes_are_escaped(login: Login, marketer: User) -> None:
    hostile = "<script>alert(1)</script>"
    definition = copy.deepcopy(rule_set_active().definition)
    definition["name"] = hostile
    definition["fit_rules"][0]["label"] = hostile
    draft = rule_set_draft_create(actor=marketer, definition=definition, note=hostile)
    client = login(marketer)

    for url in (reverse("scoring:rule-sets"), reverse("scoring:rule-set", args=[draft.version])):
        html = client.get(url).text
        assert hostile not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url


# --- Who may act ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action",
    ["scoring:rule-set-preview", "scoring:rule-set-publish", "scoring:rule-set-delete"],
)
def test_reps_and_viewers_cannot_act(
    login: Login, marketer: User, rep: User, viewer: User, action: str
) -> None:
    draft = rule_set_draft_create(actor=marketer)
    for user in (rep, viewer):
        client = login(user)
        assert client.post(reverse(action, args=[draft.version])).status_code == 403
        assert client.post(reverse("scoring:rule-set-new")).status_code == 403
        response = post_definition(client, draft.version, draft.definition)
        assert response.status_code == 403
    assert RuleSet.objects.filter(pk=draft.pk, status=RuleSetStatus.DRAFT).exists()
    assert not ScoringJob.objects.exists()


def test_a_marketer_makes_a_draft_copy_of_the_rules_in_force(login: Login, marketer: User) -> None:
    active = rule_set_active()
    response = login(marketer).post(reverse("scoring:rule-set-new"))

    draft = RuleSet.objects.get(status=RuleSetStatus.DRAFT)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("scoring:rule-set", args=[draft.version])
    assert draft.created_by == marketer
    assert draft.definition["fit_rules"] == active.definition["fit_rules"]
    html = login(marketer).get(response["Location"]).text
    assert "<textarea" in html and 'class="code"' in html


# --- The editor ----------------------------------------------------------------------------


def test_saving_a_draft_changes_it(login: Login, marketer: User) -> None:
    draft = rule_set_draft_create(actor=marketer)
    changed = easier(draft.definition, "Warmer")

    response = post_definition(login(marketer), draft.version, changed)

    assert response.status_code == HTTPStatus.FOUND
    draft.refresh_from_db()
    assert draft.name == "Warmer" and draft.note == "testing"
    assert draft.definition["thresholds"]["temperature"]["warm"] == {"engagement": 1}


def test_bad_json_keeps_the_text_and_saves_nothing(login: Login, marketer: User) -> None:
    draft = rule_set_draft_create(actor=marketer)
    before = draft.definition
    typed = '{"name": "Broken", "fit_rules": [ <oops> ]}'

    response = post_definition(login(marketer), draft.version, typed)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    html = response.text
    assert "not valid JSON at line 1" in html
    assert "Nothing was saved." in html
    assert "{&quot;name&quot;: &quot;Broken&quot;, &quot;fit_rules&quot;: [ &lt;oops&gt; ]}" in html
    draft.refresh_from_db()
    assert draft.definition == before


def test_every_rule_problem_is_shown_with_its_path(login: Login, marketer: User) -> None:
    draft = rule_set_draft_create(actor=marketer)
    bad = copy.deepcopy(draft.definition)
    bad["fit_rules"][0]["when"]["field"] = "job_titel"
    bad["engagement_rules"][0]["points"] = "lots"
    bad["name"] = "Should not be saved"

    response = post_definition(login(marketer), draft.version, bad)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    html = response.text
    assert "2 problems to correct" in html
    assert '<code class="problem-path">fit_rules[0]' in html
    assert '<code class="problem-path">engagement_rules[0]' in html
    assert "job_titel" in html
    assert "Should not be saved" in html  # what was typed is still in the textarea
    assert 'aria-invalid="true"' in html
    draft.refresh_from_db()
    assert draft.name != "Should not be saved"


def test_with_htmx_the_editor_is_swapped_in_place(login: Login, marketer: User) -> None:
    draft = rule_set_draft_create(actor=marketer)
    client = login(marketer)

    bad = post_definition(client, draft.version, "[1, 2]", HX_Request="true")
    good = post_definition(client, draft.version, easier(draft.definition), HX_Request="true")

    assert bad.status_code == HTTPStatus.BAD_REQUEST
    assert bad.text.lstrip().startswith('<div id="editor"')
    assert "must be one JSON object" in bad.text
    assert good.status_code == HTTPStatus.OK
    assert good.text.lstrip().startswith('<div id="editor"')
    assert "Draft v" in good.text and "saved." in good.text
    assert "<html" not in good.text


def test_published_versions_are_not_edited(login: Login, marketer: User) -> None:
    active = rule_set_active()
    response = post_definition(login(marketer), active.version, easier(active.definition))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "only drafts are edited" in response.text
    active.refresh_from_db()
    assert active.name != "Easier warm"


def test_a_draft_is_deleted_and_a_published_version_is_not(login: Login, marketer: User) -> None:
    draft = rule_set_draft_create(actor=marketer)
    active = rule_set_active()
    client = login(marketer)

    assert client.post(reverse("scoring:rule-set-delete", args=[draft.version])).status_code == 302
    client.post(reverse("scoring:rule-set-delete", args=[active.version]))

    assert not RuleSet.objects.filter(pk=draft.pk).exists()
    assert RuleSet.objects.filter(pk=active.pk).exists()


# --- Preview, publish, roll back -----------------------------------------------------------


def test_preview_shows_progress_then_the_moves_and_changes_nothing(
    login: Login, marketer: User, engaged: list[Lead]
) -> None:
    draft = rule_set_draft_create(actor=marketer, definition=easier(rule_set_active().definition))
    before, transitions = snapshot(), LifecycleTransition.objects.count()
    client = login(marketer)

    response = client.post(reverse("scoring:rule-set-preview", args=[draft.version]))

    job = last_job()
    assert job.kind == JobKind.PREVIEW and job.created_by == marketer
    assert response["Location"] == reverse("scoring:job", args=[job.pk])
    queued = client.get(response["Location"]).text
    assert 'id="job-progress-bar"' in queued and "waiting for a worker" in queued
    assert f'hx-get="{reverse("scoring:job-progress", args=[job.pk])}"' in queued
    assert '<meta http-equiv="refresh"' in queued  # without JavaScript: the page reloads

    assert job_run(job.pk).status == JobStatus.DONE
    partial = client.get(reverse("scoring:job-progress", args=[job.pk])).text
    assert partial.lstrip().startswith('<div id="job"')
    assert "hx-get" not in partial  # finished: polling stops
    assert 'id="preview-leads">6<' in partial
    assert '<td>cold</td><td>warm</td><td class="num">3</td>' in partial
    for lead in engaged[:3]:
        assert f'href="{reverse("leads:detail", args=[lead.pk])}"' in partial
    assert snapshot() == before
    assert LifecycleTransition.objects.count() == transitions
    assert rule_set_active().pk != draft.pk


def test_publish_recomputes_and_roll_back_restores(
    login: Login, marketer: User, engaged: list[Lead]
) -> None:
    original = rule_set_active()
    draft = rule_set_draft_create(actor=marketer, definition=easier(original.definition))
    client = login(marketer)

    response = client.post(reverse("scoring:rule-set-publish", args=[draft.version]))
    job = last_job()
    assert response["Location"] == reverse("scoring:job", args=[job.pk])
    assert job.kind == JobKind.PUBLISH
    assert job_run(job.pk).status == JobStatus.DONE
    active_forget()

    assert rule_set_active().pk == draft.pk
    warm = Lead.objects.filter(temperature="warm").count()
    assert warm == 3
    html = client.get(reverse("scoring:job", args=[job.pk])).text
    assert "6 leads rescored under v" in html

    # The list offers the roll back on the retired version.
    listing = client.get(reverse("scoring:rule-sets")).text
    assert f"Roll back to v{original.version}" in listing

    client.post(reverse("scoring:rule-set-publish", args=[original.version]))
    assert job_run(last_job().pk).status == JobStatus.DONE
    active_forget()

    assert rule_set_active().pk == original.pk
    assert RuleSet.objects.get(pk=draft.pk).status == RuleSetStatus.RETIRED
    assert Lead.objects.filter(temperature="warm").count() == 0


def test_a_second_publish_while_one_runs_is_refused(
    login: Login, marketer: User, engaged: list[Lead]
) -> None:
    first = rule_set_draft_create(actor=marketer)
    second = rule_set_draft_create(actor=marketer)
    client = login(marketer)
    client.post(reverse("scoring:rule-set-publish", args=[first.version]))

    response = client.post(reverse("scoring:rule-set-publish", args=[second.version]), follow=True)

    assert "A publish is already running" in response.text
    assert ScoringJob.objects.filter(kind=JobKind.PUBLISH).count() == 1


def test_unknown_versions_and_jobs_are_404(login: Login, marketer: User) -> None:
    client = login(marketer)
    assert client.get(reverse("scoring:rule-set", args=[999])).status_code == 404
    assert client.post(reverse("scoring:rule-set-preview", args=[999])).status_code == 404
    assert client.get(reverse("scoring:job", args=[999])).status_code == 404


# --- The lead's score card -----------------------------------------------------------------


def test_the_lead_page_loads_the_card_and_links_the_explanation(
    login: Login, admin_user: User, engaged: list[Lead]
) -> None:
    lead = engaged[0]
    html = login(admin_user).get(reverse("leads:detail", args=[lead.pk])).text
    assert f'hx-get="{reverse("scoring:lead-card", args=[lead.pk])}"' in html
    assert 'hx-trigger="load"' in html
    assert f'href="{reverse("scoring:lead-score", args=[lead.pk])}"' in html


def test_the_card_explains_the_scores(login: Login, admin_user: User, make_lead: MakeLead) -> None:
    lead = make_lead(email="cto@bigsoft.example", seniority="c_level", job_title="<b>CTO</b>")
    events_record(
        [
            EventIn(
                type="demo_request",
                occurred_at=timezone.now() - dt.timedelta(days=3),
                lead_id=lead.pk,
            )
        ]
    )
    leads_rescore([lead.pk])
    lead.refresh_from_db()
    client = login(admin_user)

    card = client.get(reverse("scoring:lead-card", args=[lead.pk])).text
    page = client.get(reverse("scoring:lead-score", args=[lead.pk])).text

    assert card.lstrip().startswith('<section class="card score-card" id="score-card"')
    assert "+25 decision maker (C-level, owner, VP)" in card
    assert "+25 demo request, 3 days ago, decayed to" in card
    assert f'id="score-total">{round(lead.total_score)}<' in card
    assert f'id="score-grade">{lead.fit_grade}<' in card
    assert "Temperature" in card and "Qualification" in card and "Prospect" in card
    assert "<b>CTO</b>" not in page
    # The full page adds the rules and the lead's changes.
    assert "demo request: 1 event" in page
    for transition in LifecycleTransition.objects.filter(lead=lead):
        assert transition.reason.split(":")[0] in page


def test_a_rep_cannot_see_another_reps_lead_card(
    login: Login, rep: User, other_rep: User, make_lead: MakeLead
) -> None:
    own = make_lead(owner=rep)
    other = make_lead(owner=other_rep)
    client = login(rep)

    assert client.get(reverse("scoring:lead-card", args=[own.pk])).status_code == 200
    assert client.get(reverse("scoring:lead-card", args=[other.pk])).status_code == 404
    assert client.get(reverse("scoring:lead-score", args=[other.pk])).status_code == 404
