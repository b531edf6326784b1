"""Rule sets as versioned data: drafts validated whole, preview on the real data without
changing it, publish with a full recompute, roll back, and who may do what."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from leadbase.accounts.models import User
from leadbase.core.errors import PermissionDenied, ValidationFailed
from leadbase.leads.models import Lead, LifecycleTransition
from leadbase.scoring.jobs import job_run, preview_start, publish_start
from leadbase.scoring.models import JobStatus, RuleSet, RuleSetStatus
from leadbase.scoring.rule_sets import (
    NotADraft,
    active_forget,
    rule_set_active,
    rule_set_draft_create,
    rule_set_draft_update,
)
from tests.scoring.conftest import easier, scored_leads, snapshot

pytestmark = pytest.mark.django_db
MakeLead = Callable[..., Lead]


@pytest.fixture
def engaged_leads(make_lead: MakeLead) -> list[Lead]:
    return scored_leads(make_lead, 6, engaged=3)


def test_a_draft_with_mistakes_reports_every_one_and_is_not_saved(marketer: User) -> None:
    bad = copy.deepcopy(rule_set_active().definition)
    bad["fit_rules"][0]["when"]["field"] = "job_titel"
    bad["engagement_rules"][0]["points"] = "lots"
    before = RuleSet.objects.count()

    with pytest.raises(ValidationFailed) as caught:
        rule_set_draft_create(actor=marketer, definition=bad)

    assert len(caught.value.fields) >= 2
    assert "job_titel" in caught.value.message
    assert RuleSet.objects.count() == before


def test_only_admins_and_marketers_change_rules(rep: User, viewer: User) -> None:
    for user in (rep, viewer):
        with pytest.raises(PermissionDenied):
            rule_set_draft_create(actor=user)


def test_published_versions_are_not_edited(marketer: User) -> None:
    active = rule_set_active()
    with pytest.raises(NotADraft):
        rule_set_draft_update(rule_set=active, actor=marketer, definition=active.definition)


def test_preview_counts_the_moves_and_changes_nothing(
    marketer: User, engaged_leads: list[Lead]
) -> None:
    draft = rule_set_draft_create(actor=marketer, definition=easier(rule_set_active().definition))
    before = snapshot()
    transitions = LifecycleTransition.objects.count()

    job = job_run(preview_start(rule_set=draft, actor=marketer, enqueue=False).pk)

    assert job.status == JobStatus.DONE, job.error
    assert job.result["leads"] == 6
    [warmer] = [m for m in job.result["moves"]["temperature"] if m["to"] == "warm"]
    assert warmer["leads"] == 3 and len(warmer["examples"]) == 3
    assert snapshot() == before
    assert LifecycleTransition.objects.count() == transitions
    assert rule_set_active().pk != draft.pk


def test_publish_recomputes_everyone_and_roll_back_restores(
    marketer: User, engaged_leads: list[Lead]
) -> None:
    original = rule_set_active()
    draft = rule_set_draft_create(actor=marketer, definition=easier(original.definition))

    job = job_run(publish_start(rule_set=draft, actor=marketer, enqueue=False).pk)

    assert job.status == JobStatus.DONE, job.error
    assert job.done == job.total > 0
    active_forget()
    assert rule_set_active().pk == draft.pk
    original.refresh_from_db()
    assert original.status == RuleSetStatus.RETIRED
    warm = Lead.objects.filter(temperature="warm")
    assert warm.count() == 3
    reasons = LifecycleTransition.objects.filter(kind="temperature", to_value="warm")
    assert all(f"v{draft.version} published" in t.reason for t in reasons)

    back = job_run(publish_start(rule_set=original, actor=marketer, enqueue=False).pk)

    assert back.status == JobStatus.DONE
    active_forget()
    assert rule_set_active().pk == original.pk
    assert not Lead.objects.filter(temperature="warm").exists()


def test_publish_agrees_with_the_incremental_scores(
    marketer: User, engaged_leads: list[Lead]
) -> None:
    incremental = {pk: total for pk, *_, total in snapshot()}
    same = rule_set_draft_create(actor=marketer)  # a copy of the rules in force
    job_run(publish_start(rule_set=same, actor=marketer, enqueue=False).pk)
    recomputed = {pk: total for pk, *_, total in snapshot()}
    assert recomputed == pytest.approx(incremental, abs=1e-6)
