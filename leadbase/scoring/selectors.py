"""Reads of the scoring app for the UI and the CLI: rule sets, jobs, a lead's transitions."""

from __future__ import annotations

from django.db.models import QuerySet

from leadbase.leads.models import Lead, LifecycleTransition

from .models import JobKind, RuleSet, ScoringJob

TRANSITIONS_SHOWN = 100


def rule_set_list() -> QuerySet[RuleSet]:
    """Every version, newest first, with who made and published it."""
    return RuleSet.objects.select_related("created_by", "published_by").order_by("-version")


def rule_set_get(*, version: int) -> RuleSet | None:
    return rule_set_list().filter(version=version).first()


def scoring_job_get(*, job_id: int) -> ScoringJob | None:
    return ScoringJob.objects.select_related("rule_set", "created_by").filter(pk=job_id).first()


def scoring_job_latest(*, rule_set: RuleSet, kind: str = JobKind.PREVIEW) -> ScoringJob | None:
    return ScoringJob.objects.filter(rule_set=rule_set, kind=kind).order_by("-id").first()


def lead_transitions(*, lead: Lead, limit: int = TRANSITIONS_SHOWN) -> list[LifecycleTransition]:
    """The lead's classification and stage changes, newest first."""
    return list(LifecycleTransition.objects.filter(lead=lead).order_by("-at", "-id")[:limit])
