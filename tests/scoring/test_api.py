"""The scoring API: a lead's score explained, rule sets (drafts, preview, publish, roll back)
and their jobs, through /api/v1 with real keys: scopes, roles, rep isolation, bad bodies."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client

from leadbase.accounts.models import User
from leadbase.leads.models import Lead, LifecycleTransition
from leadbase.scoring.jobs import job_run
from leadbase.scoring.models import JobStatus, RuleSet, RuleSetStatus, ScoringJob
from leadbase.scoring.rule_sets import active_forget, parse_rules, rule_set_active
from leadbase.scoring.schemas import EXAMPLE_DEFINITION
from tests.api.conftest import BASE, ApiClient, Reply
from tests.scoring.conftest import easier, scored_leads, snapshot

pytestmark = pytest.mark.django_db
MakeLead = Callable[..., Lead]
ApiAs = Callable[..., "ScoringApi"]
HOSTILE = "<script>alert('x')</script> \"quoted\" & ünïcödé 李 🚀 {{ label }}"


@pytest.fixture(autouse=True)
def _fresh_active() -> None:
    active_forget()  # the rule set in force is cached per process; each test has its own


class ScoringApi(ApiClient):
    def put(self, path: str, body: Any) -> Reply:
        response = self.client.put(
            BASE + path, json.dumps(body), content_type="application/json", headers=self.headers()
        )
        return self._reply(response)


@pytest.fixture
def api_as(client: Client, api_key_for: Callable[..., str]) -> ApiAs:
    def factory(user: User, scopes: str = "read,write") -> ScoringApi:
        return ScoringApi(client, f"Bearer {api_key_for(user, scopes)}")

    return factory


@pytest.fixture
def engaged(make_lead: MakeLead, rep: User, other_rep: User) -> list[Lead]:
    """Six leads, the first three with two pricing page views each; rep owns the first,
    other_rep the second."""
    leads = scored_leads(make_lead, 6, engaged=3)
    Lead.objects.filter(pk=leads[0].pk).update(owner=rep)
    Lead.objects.filter(pk=leads[1].pk).update(owner=other_rep)
    return leads


def draft_id(api: ApiClient, **body: Any) -> int:
    reply = api.post("/rule-sets", body)
    assert reply.status == HTTPStatus.CREATED, reply.body
    return int(reply.body["id"])


def run(job: dict[str, Any]) -> ScoringJob:
    """Run a job the API started, as the task worker would."""
    assert job["status"] == JobStatus.QUEUED
    return job_run(job["id"])


# --- A lead's score --------------------------------------------------------------------------


def test_score_explains_each_contribution(
    api_as: ApiAs, marketer: User, engaged: list[Lead]
) -> None:
    reply = api_as(marketer, "read").get(f"/leads/{engaged[0].pk}/score")

    assert reply.status == HTTPStatus.OK, reply.body
    body = reply.body
    lead = Lead.objects.get(pk=engaged[0].pk)
    assert body["lead_id"] == lead.pk
    assert body["total"] == pytest.approx(lead.total_score, abs=0.01)
    assert body["engagement"] == pytest.approx(lead.engagement_score, abs=0.01)
    assert body["rule_set"]["version"] == rule_set_active().version
    assert [line["event_type"] for line in body["event_lines"]] == ["pricing_page_view"] * 2
    assert body["event_lines"][0]["text"].startswith("+10 pricing page view")
    assert body["event_lines"][0]["at"].endswith("Z") or "+00:00" in body["event_lines"][0]["at"]
    assert body["rule_lines"][0]["events"] == 2
    assert body["temperature"] == lead.temperature


def test_score_of_a_lead_the_user_cannot_see_is_a_404(
    api_as: ApiAs, rep: User, engaged: list[Lead]
) -> None:
    api = api_as(rep, "read")
    assert api.get(f"/leads/{engaged[0].pk}/score").status == HTTPStatus.OK  # rep's own
    for lead_id in (engaged[1].pk, engaged[2].pk, 999_999, 2**70):  # another's, nobody's, none
        reply = api.get(f"/leads/{lead_id}/score")
        assert reply.status == HTTPStatus.NOT_FOUND, (lead_id, reply.body)


def test_reads_need_the_read_scope(api_as: ApiAs, marketer: User, engaged: list[Lead]) -> None:
    api = api_as(marketer, "write")
    for path in ("/rule-sets", f"/leads/{engaged[0].pk}/score", "/rule-sets/1"):
        reply = api.get(path)
        assert reply.status == HTTPStatus.FORBIDDEN, path
        assert "read" in reply.detail


# --- Rule sets -----------------------------------------------------------------------------


def test_list_and_get_rule_sets_start_with_the_shipped_default(api_as: ApiAs, viewer: User) -> None:
    api = api_as(viewer, "read")
    listed = api.get("/rule-sets")
    assert listed.status == HTTPStatus.OK
    [default] = listed.body["items"]
    assert default["status"] == "published" and default["version"] == 1
    assert "definition" not in default

    reply = api.get(default["url"].removeprefix("/api/v1"))
    assert reply.status == HTTPStatus.OK
    assert reply.body["definition"]["fit_rules"]
    assert api.get("/rule-sets/424242").status == HTTPStatus.NOT_FOUND


def test_a_draft_is_a_copy_of_the_rules_in_force_or_the_definition_given(
    api_as: ApiAs, marketer: User
) -> None:
    api = api_as(marketer)
    active = rule_set_active()

    copied = api.post("/rule-sets", {"note": "start here"})

    assert copied.status == HTTPStatus.CREATED, copied.body
    assert copied.body["status"] == "draft" and copied.body["note"] == "start here"
    assert copied.body["version"] == active.version + 1
    assert copied.body["created_by"] == {"id": marketer.pk, "username": marketer.username}
    assert copied.body["definition"]["fit_rules"] == active.definition["fit_rules"]

    # the version is the server's: whatever the client sends is ignored
    given = api.post("/rule-sets", {"definition": {**EXAMPLE_DEFINITION, "version": 99}})

    assert given.status == HTTPStatus.CREATED, given.body
    assert given.body["version"] == active.version + 2
    assert given.body["definition"]["version"] == given.body["version"]
    assert given.body["name"] == EXAMPLE_DEFINITION["name"]


def test_the_documented_example_is_a_valid_definition() -> None:
    rules = parse_rules({**EXAMPLE_DEFINITION, "version": 1})
    assert rules.name == EXAMPLE_DEFINITION["name"]
    assert len(rules.fit_rules) == len(EXAMPLE_DEFINITION["fit_rules"])
    assert len(rules.engagement_rules) == len(EXAMPLE_DEFINITION["engagement_rules"])


def test_every_problem_of_the_rules_is_a_422_by_rule_path_and_nothing_is_saved(
    api_as: ApiAs, marketer: User
) -> None:
    bad = copy.deepcopy(rule_set_active().definition)
    bad["fit_rules"][0]["when"]["field"] = "job_titel"
    bad["engagement_rules"][0]["points"] = "lots"
    bad["thresholds"]["prospect_fit"] = "high"
    before = RuleSet.objects.count()

    reply = api_as(marketer).post("/rule-sets", {"definition": bad})

    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    paths = list(reply.errors)
    assert any(p.startswith("fit_rules[0]") and p.endswith(".when.field") for p in paths), paths
    assert any(p.startswith("engagement_rules[0]") and p.endswith(".points") for p in paths)
    assert any(p.startswith("thresholds.prospect_fit") for p in paths), paths
    assert "job_title" in reply.errors[next(p for p in paths if p.endswith(".when.field"))]
    assert RuleSet.objects.count() == before


def test_a_name_longer_than_stored_is_a_422_with_the_other_problems(
    api_as: ApiAs, marketer: User
) -> None:
    definition = copy.deepcopy(rule_set_active().definition)
    definition["name"] = "ü" * 201
    definition["weights"] = "half"
    before = RuleSet.objects.count()

    reply = api_as(marketer).post("/rule-sets", {"definition": definition})

    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY, reply.body
    assert "200" in reply.errors["name"]
    assert any(path.startswith("weights") for path in reply.errors), reply.errors
    assert RuleSet.objects.count() == before


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        # not JSON at all
        ("{definition: ", HTTPStatus.BAD_REQUEST, None),
        # JSON, but not an object
        ("[1, 2]", HTTPStatus.UNPROCESSABLE_ENTITY, None),
        # the definition is not an object
        ('{"definition": [1]}', HTTPStatus.UNPROCESSABLE_ENTITY, "definition"),
        ('{"definition": "rules"}', HTTPStatus.UNPROCESSABLE_ENTITY, "definition"),
        # an unknown field (a typo of "note")
        ('{"notes": "x"}', HTTPStatus.UNPROCESSABLE_ENTITY, "notes"),
        # a note that is not text, or far too long
        ('{"note": 5}', HTTPStatus.UNPROCESSABLE_ENTITY, "note"),
        (json.dumps({"note": "x" * 5001}), HTTPStatus.UNPROCESSABLE_ENTITY, "note"),
        # an empty definition: every missing part named
        ('{"definition": {}}', HTTPStatus.UNPROCESSABLE_ENTITY, "thresholds"),
        # NaN is not JSON
        ('{"definition": {"weights": NaN}}', HTTPStatus.BAD_REQUEST, None),
    ],
)
def test_malformed_bodies_say_what_is_wrong(
    api_as: ApiAs, marketer: User, body: str, status: int, field: str | None
) -> None:
    before = RuleSet.objects.count()

    reply = api_as(marketer).post_raw("/rule-sets", body)

    assert reply.status == status, reply.body
    if field is not None:
        assert field in reply.errors, reply.errors
    assert RuleSet.objects.count() == before


def test_hostile_and_unicode_labels_are_stored_and_returned_as_given(
    api_as: ApiAs, marketer: User, make_lead: MakeLead
) -> None:
    definition = copy.deepcopy(rule_set_active().definition)
    definition["name"] = HOSTILE
    definition["fit_rules"].append(
        {
            "id": "hostile_rule",
            "label": HOSTILE,
            "when": {"field": "job_title", "op": "contains", "value": "Geschäftsführer"},
            "points": 7,
        }
    )
    api = api_as(marketer)

    created = api.post("/rule-sets", {"definition": definition, "note": HOSTILE})

    assert created.status == HTTPStatus.CREATED, created.body
    assert created.response["Content-Type"].startswith("application/json")
    assert created.body["name"] == HOSTILE and created.body["note"] == HOSTILE
    stored = RuleSet.objects.get(pk=created.body["id"])
    assert stored.definition["fit_rules"][-1]["label"] == HOSTILE
    got = api.get(f"/rule-sets/{stored.pk}").body
    assert got["definition"]["fit_rules"][-1]["label"] == HOSTILE

    # in force, the label explains a lead's score exactly as written
    job = api.post(f"/rule-sets/{stored.pk}/publish", {})
    assert run(job.body).status == JobStatus.DONE
    active_forget()
    lead = make_lead(job_title="Geschäftsführer")
    explained = api.get(f"/leads/{lead.pk}/score").body
    labels = [line["label"] for line in explained["fit_lines"]]
    assert HOSTILE in labels
    assert explained["rule_set"]["name"] == HOSTILE


@pytest.mark.parametrize("role", ["rep", "viewer"])
def test_only_admins_and_marketers_change_rule_sets(
    api_as: ApiAs, request: pytest.FixtureRequest, role: str, marketer: User
) -> None:
    user: User = request.getfixturevalue(role)
    draft = draft_id(api_as(marketer))
    active = rule_set_active()
    api = api_as(user)
    before = (RuleSet.objects.count(), ScoringJob.objects.count())

    attempts = [
        api.post("/rule-sets", {}),
        api.put(f"/rule-sets/{draft}", {"definition": active.definition}),
        api.patch(f"/rule-sets/{draft}", {"note": "mine now"}),
        api.delete(f"/rule-sets/{draft}"),
        api.post(f"/rule-sets/{draft}/preview", {}),
        api.post(f"/rule-sets/{draft}/publish", {}),
    ]

    assert [a.status for a in attempts] == [HTTPStatus.FORBIDDEN] * len(attempts)
    assert "admins and marketers" in attempts[0].detail
    assert (RuleSet.objects.count(), ScoringJob.objects.count()) == before
    assert RuleSet.objects.get(pk=draft).note == ""
    assert api.get(f"/rule-sets/{draft}").status == HTTPStatus.OK  # reading is fine


def test_admins_change_rule_sets_and_changes_need_the_write_scope(
    api_as: ApiAs, admin_user: User
) -> None:
    assert api_as(admin_user).post("/rule-sets", {}).status == HTTPStatus.CREATED
    reply = api_as(admin_user, "read").post("/rule-sets", {})
    assert reply.status == HTTPStatus.FORBIDDEN and "write" in reply.detail


def test_put_patch_and_delete_a_draft(api_as: ApiAs, marketer: User) -> None:
    api = api_as(marketer)
    draft = draft_id(api, note="first")
    changed = easier(rule_set_active().definition)

    put = api.put(f"/rule-sets/{draft}", {"definition": changed})

    assert put.status == HTTPStatus.OK, put.body
    assert put.body["name"] == "Easier warm" and put.body["note"] == "first"  # note kept
    assert put.body["definition"]["thresholds"]["temperature"]["warm"] == {"engagement": 1}

    patched = api.patch(f"/rule-sets/{draft}", {"note": "second"})

    assert patched.status == HTTPStatus.OK, patched.body
    assert patched.body["note"] == "second" and patched.body["name"] == "Easier warm"

    broken = api.patch(f"/rule-sets/{draft}", {"definition": {**changed, "weights": "half"}})

    assert broken.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert any(path.startswith("weights") for path in broken.errors), broken.errors
    assert RuleSet.objects.get(pk=draft).name == "Easier warm"  # nothing saved

    assert api.delete(f"/rule-sets/{draft}").status == HTTPStatus.NO_CONTENT
    assert not RuleSet.objects.filter(pk=draft).exists()
    assert api.delete(f"/rule-sets/{draft}").status == HTTPStatus.NOT_FOUND


def test_published_and_retired_versions_are_not_changed(
    api_as: ApiAs, marketer: User, engaged: list[Lead]
) -> None:
    api = api_as(marketer)
    original = rule_set_active()
    draft = draft_id(api, definition=easier(original.definition))
    assert run(api.post(f"/rule-sets/{draft}/publish", {}).body).status == JobStatus.DONE
    original.refresh_from_db()
    assert original.status == RuleSetStatus.RETIRED

    for rule_set_id in (draft, original.pk):  # now published, now retired
        attempts = [
            api.put(f"/rule-sets/{rule_set_id}", {"definition": original.definition}),
            api.patch(f"/rule-sets/{rule_set_id}", {"note": "x"}),
            api.delete(f"/rule-sets/{rule_set_id}"),
        ]
        assert [a.status for a in attempts] == [HTTPStatus.CONFLICT] * 3, rule_set_id
    assert RuleSet.objects.filter(pk__in=[draft, original.pk]).count() == 2


def test_preview_counts_the_moves_and_changes_nothing(
    api_as: ApiAs, marketer: User, rep: User, engaged: list[Lead]
) -> None:
    api = api_as(marketer)
    draft = draft_id(api, definition=easier(rule_set_active().definition))
    before = snapshot()
    transitions = LifecycleTransition.objects.count()

    started = api.post(f"/rule-sets/{draft}/preview", {})

    assert started.status == HTTPStatus.ACCEPTED, started.body
    assert started.body["kind"] == "preview" and started.body["status"] == "queued"
    run(started.body)
    job = api.get(started.body["url"].removeprefix("/api/v1"))
    assert job.status == HTTPStatus.OK
    assert job.body["status"] == "done" and job.body["done"] == job.body["total"]
    [warmer] = [m for m in job.body["result"]["moves"]["temperature"] if m["to"] == "warm"]
    assert warmer["leads"] == 3
    assert sorted(warmer["examples"]) == sorted(lead.pk for lead in engaged[:3])
    assert snapshot() == before
    assert LifecycleTransition.objects.count() == transitions
    assert rule_set_active().pk != draft
    assert RuleSet.objects.get(pk=draft).status == RuleSetStatus.DRAFT

    # a sales rep reads the counts, but only their own leads among the examples
    seen_by_rep = api_as(rep, "read").get(f"/scoring-jobs/{job.body['id']}").body
    [warmer] = [m for m in seen_by_rep["result"]["moves"]["temperature"] if m["to"] == "warm"]
    assert warmer["leads"] == 3 and warmer["examples"] == [engaged[0].pk]


def test_publish_and_roll_back_through_the_api(
    api_as: ApiAs, marketer: User, engaged: list[Lead]
) -> None:
    api = api_as(marketer)
    original = rule_set_active()
    draft = draft_id(api, definition=easier(original.definition))

    published = api.post(f"/rule-sets/{draft}/publish", {})

    assert published.status == HTTPStatus.ACCEPTED, published.body
    assert published.body["kind"] == "publish"
    assert run(published.body).status == JobStatus.DONE
    active_forget()
    assert rule_set_active().pk == draft
    assert Lead.objects.filter(temperature="warm").count() == 3
    listed = {item["id"]: item["status"] for item in api.get("/rule-sets").body["items"]}
    assert listed == {draft: "published", original.pk: "retired"}
    assert api.get(f"/rule-sets/{draft}").body["published_by"]["id"] == marketer.pk

    back = api.post(f"/rule-sets/{original.pk}/publish", {})

    assert back.status == HTTPStatus.ACCEPTED, back.body
    assert run(back.body).status == JobStatus.DONE
    active_forget()
    assert rule_set_active().pk == original.pk
    assert not Lead.objects.filter(temperature="warm").exists()
    finished = api.get(f"/scoring-jobs/{back.body['id']}").body
    assert finished["status"] == "done" and finished["result"] == {"leads": len(engaged)}


def test_a_second_publish_while_one_runs_is_a_409(
    api_as: ApiAs, marketer: User, engaged: list[Lead]
) -> None:
    api = api_as(marketer)
    first = draft_id(api)
    second = draft_id(api)
    assert api.post(f"/rule-sets/{first}/publish", {}).status == HTTPStatus.ACCEPTED

    reply = api.post(f"/rule-sets/{second}/publish", {})

    assert reply.status == HTTPStatus.CONFLICT, reply.body
    assert "already running" in reply.detail


def test_unknown_jobs_and_rule_sets_are_404s(api_as: ApiAs, marketer: User) -> None:
    api = api_as(marketer)
    for path in ("/scoring-jobs/5", "/scoring-jobs/0", f"/scoring-jobs/{2**70}"):
        assert api.get(path).status == HTTPStatus.NOT_FOUND, path
    assert api.post("/rule-sets/4242/preview", {}).status == HTTPStatus.NOT_FOUND
    assert api.post("/rule-sets/4242/publish", {}).status == HTTPStatus.NOT_FOUND


def test_openapi_documents_the_endpoints_with_examples(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/leads/{lead_id}/score",
        "/api/v1/rule-sets",
        "/api/v1/rule-sets/{rule_set_id}",
        "/api/v1/rule-sets/{rule_set_id}/preview",
        "/api/v1/rule-sets/{rule_set_id}/publish",
        "/api/v1/scoring-jobs/{job_id}",
    ):
        assert path in paths, path
    assert set(paths["/api/v1/rule-sets/{rule_set_id}"]) == {"get", "put", "patch", "delete"}
    assert "202" in paths["/api/v1/rule-sets/{rule_set_id}/publish"]["post"]["responses"]
    create = schema["components"]["schemas"]["RuleSetCreate"]
    assert create["examples"][1]["definition"]["fit_rules"]
