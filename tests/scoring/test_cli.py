"""`leadbase scoring preview|publish|rescore`: the same jobs as the UI, run in this process."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from leadbase.accounts.models import User
from leadbase.leads.models import Lead
from leadbase.scoring.models import JobKind, JobStatus, LeadScoreState, RuleSetStatus, ScoringJob
from leadbase.scoring.rule_sets import active_forget, rule_set_active, rule_set_draft_create
from tests.scoring.conftest import easier, scored_leads

pytestmark = pytest.mark.django_db
MakeLead = Callable[..., Lead]


@pytest.fixture
def engaged(make_lead: MakeLead) -> list[Lead]:
    return scored_leads(make_lead, 4, engaged=2)


def easier_draft(marketer: User) -> int:
    definition = easier(rule_set_active().definition)
    return rule_set_draft_create(actor=marketer, definition=definition).version


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("scoring", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_preview_as_json_counts_the_moves_and_changes_nothing(
    marketer: User, engaged: list[Lead]
) -> None:
    version = easier_draft(marketer)
    before = list(Lead.objects.order_by("pk").values_list("temperature", "total_score"))

    result = json.loads(run("preview", str(version), "--json"))

    assert result["version"] == version and result["leads"] == 4
    [warmer] = result["moves"]["temperature"]
    assert (warmer["from"], warmer["to"], warmer["leads"]) == ("cold", "warm", 2)
    assert sorted(warmer["examples"]) == sorted(lead.pk for lead in engaged[:2])
    assert ScoringJob.objects.get(pk=result["job_id"]).status == JobStatus.DONE
    assert list(Lead.objects.order_by("pk").values_list("temperature", "total_score")) == before


def test_preview_in_words(marketer: User, engaged: list[Lead]) -> None:
    text = run("preview", str(easier_draft(marketer)))
    assert "over 4 leads (nothing changed)" in text
    assert "cold -> warm: 2 leads" in text
    assert "grades: A " in text


def test_publish_then_roll_back(marketer: User, engaged: list[Lead]) -> None:
    original = rule_set_active().version
    version = easier_draft(marketer)

    assert f"Published v{version}" in run("publish", str(version))
    assert Lead.objects.filter(temperature="warm").count() == 2
    assert f"Rolled back to v{original}" in run("publish", str(original))
    active_forget()

    assert rule_set_active().version == original
    assert rule_set_active(fresh=True).status == RuleSetStatus.PUBLISHED
    assert Lead.objects.filter(temperature="warm").count() == 0
    assert ScoringJob.objects.filter(kind=JobKind.PUBLISH, status=JobStatus.DONE).count() == 2


def test_rescore_scores_every_lead(make_lead: MakeLead) -> None:
    leads = [make_lead() for _ in range(3)]
    LeadScoreState.objects.all().delete()
    text = run("rescore", "--rebuild")
    assert "Rescored 3 leads" in text
    assert LeadScoreState.objects.filter(lead__in=leads).count() == 3


def test_an_unknown_version_fails_with_a_message() -> None:
    rule_set_active()
    out = io.StringIO()
    with pytest.raises(CommandError, match="There is no rule set v99; there are: v1"):
        call_command("scoring", "preview", "99", "--json", stdout=out, stderr=io.StringIO())
    assert json.loads(out.getvalue())["error"].startswith("There is no rule set v99")
