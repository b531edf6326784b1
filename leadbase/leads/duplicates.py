"""Duplicate suggestions: which ones a user may see and act on, merging and dismissing.

A suggestion (`DuplicateSuggestion`) pairs two leads that may be one person; a person
decides. A user sees a suggestion only when they can see both of its leads (a sales rep: when
they own both), so acting on one never reveals or changes someone else's lead. Merging goes
through `services.lead_merge`; by default the older lead is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from leadbase.accounts.models import User
from leadbase.core.errors import NotFound, ValidationFailed

from .models import DuplicateSuggestion, Lead
from .selectors import lead_visible_to
from .services import lead_merge

_RELATED = (
    "lead__company",
    "lead__owner",
    "candidate__company",
    "candidate__owner",
)


def duplicates_visible_to(user: User) -> QuerySet[DuplicateSuggestion]:
    """Suggestions whose two leads `user` may both see (open and dismissed)."""
    if not user.is_active:
        return DuplicateSuggestion.objects.none()
    suggestions = DuplicateSuggestion.objects.all()
    if not user.sees_all_leads:
        visible = lead_visible_to(user)
        suggestions = suggestions.filter(lead__in=visible, candidate__in=visible)
    return suggestions


def duplicate_open_list(*, user: User, lead_id: int | None = None) -> QuerySet[DuplicateSuggestion]:
    """Open (not dismissed) suggestions `user` may act on, newest first; only those of one
    lead when `lead_id` is given."""
    suggestions = duplicates_visible_to(user).filter(dismissed_at__isnull=True)
    if lead_id is not None:
        suggestions = suggestions.filter(Q(lead_id=lead_id) | Q(candidate_id=lead_id))
    return suggestions.select_related(*_RELATED).order_by("-pk")


def duplicate_get(*, user: User, suggestion_id: int) -> DuplicateSuggestion | None:
    """The suggestion if `user` may see both its leads, else None (callers answer 404)."""
    found = duplicates_visible_to(user).select_related(*_RELATED).filter(pk=suggestion_id)
    return next(iter(found.order_by()[:1]), None)


def older_lead(suggestion: DuplicateSuggestion) -> Lead:
    """The lead that entered Leadbase first: the one a merge keeps unless told otherwise."""
    return min(suggestion.lead, suggestion.candidate, key=lambda lead: (lead.created_at, lead.pk))


@dataclass(frozen=True)
class DuplicatePair:
    """A suggestion's two leads in the order people compare them: the older one (which a
    merge keeps by default) first."""

    suggestion: DuplicateSuggestion
    older: Lead
    newer: Lead

    @classmethod
    def of(cls, suggestion: DuplicateSuggestion) -> DuplicatePair:
        older = older_lead(suggestion)
        newer = suggestion.candidate if older.pk == suggestion.lead_id else suggestion.lead
        return cls(suggestion=suggestion, older=older, newer=newer)


def duplicate_merge(
    *, suggestion: DuplicateSuggestion, keep: int | None = None, actor: User | None = None
) -> tuple[Lead, int]:
    """Merge the suggestion's two leads into the one with id `keep` (default: the older one).
    Returns the kept lead and the id of the merged (deleted) one."""
    pair = {suggestion.lead_id: suggestion.lead, suggestion.candidate_id: suggestion.candidate}
    if keep is None:
        primary = older_lead(suggestion)
    elif keep in pair:
        primary = pair[keep]
    else:
        ids = " or ".join(str(pk) for pk in sorted(pair))
        raise ValidationFailed(
            f"`keep` must be the id of one of the two leads of this suggestion: {ids}.",
            fields={"keep": f"is not {ids}"},
        )
    duplicate = suggestion.candidate if primary.pk == suggestion.lead_id else suggestion.lead
    with transaction.atomic():
        # The leads first, as lead_merge locks them, then: is the suggestion still there?
        locked = Lead.objects.select_for_update().filter(pk__in=list(pair))
        if len(locked) != 2 or not DuplicateSuggestion.objects.filter(pk=suggestion.pk).exists():
            raise NotFound(
                f"Duplicate suggestion {suggestion.pk} no longer exists: its leads were merged "
                "or one of them was deleted meanwhile."
            )
        kept = lead_merge(primary=primary, duplicate=duplicate, actor=actor)
    return kept, duplicate.pk


def duplicate_dismiss(*, suggestion: DuplicateSuggestion) -> DuplicateSuggestion:
    """Mark the suggestion as "not a duplicate" (kept, so it is not suggested again).
    Dismissing it again changes nothing."""
    if suggestion.dismissed_at is None:
        now = timezone.now()
        DuplicateSuggestion.objects.filter(pk=suggestion.pk, dismissed_at__isnull=True).update(
            dismissed_at=now, updated_at=now
        )
        suggestion.refresh_from_db(fields=["dismissed_at", "updated_at"])
    return suggestion
