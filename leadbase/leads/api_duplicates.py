"""The duplicates API: /api/v1/duplicates, and merging or dismissing one suggestion.

A suggestion is visible to a key's user only when both of its leads are (a sales rep: when
they own both); any other is a 404, as for leads.
"""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest
from ninja import Body, Field, Query, Router, Schema
from pydantic import ConfigDict, StrictInt

from leadbase.accounts.api_auth import request_api_key, request_user, require_scope
from leadbase.accounts.models import Scope, User
from leadbase.core.errors import NotFound

from .api import Keyset, _require_editor, errors, paginate
from .duplicates import (
    duplicate_dismiss,
    duplicate_get,
    duplicate_merge,
    duplicate_open_list,
)
from .models import DuplicateSuggestion, Lead
from .schemas import MAX_DB_ID, LeadOut, OwnerOut, PageQuery
from .selectors import lead_get

router = Router(tags=["duplicates"])

DUPLICATE_KEYSET = Keyset("duplicates:-created_at", None, descending=True)


class DuplicateLeadOut(Schema):
    """Enough of a lead to tell whether two are one person."""

    id: int
    email: str
    phone: str
    first_name: str
    last_name: str
    job_title: str
    company: str | None = Field(description="Company name (or domain).")
    owner: OwnerOut | None
    lifecycle_stage: str
    created_at: dt.datetime

    @staticmethod
    def resolve_company(obj: Lead) -> str | None:
        return str(obj.company) if obj.company is not None else None


class DuplicateOut(Schema):
    id: int
    reason: str = Field(description='Why the leads may be one person, e.g. "same name at …".')
    created_at: dt.datetime
    dismissed_at: dt.datetime | None
    lead: DuplicateLeadOut = Field(description="The lead whose arrival raised the suggestion.")
    candidate: DuplicateLeadOut = Field(description="The lead it may duplicate.")


class DuplicatePage(Schema):
    items: list[DuplicateOut]
    next: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class DuplicateListQuery(PageQuery):
    lead: int | None = Field(
        None, ge=1, le=MAX_DB_ID, description="Only the suggestions of this lead (either side)."
    )


class MergeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    keep: StrictInt | None = Field(
        None,
        ge=1,
        le=MAX_DB_ID,
        description="The id of the lead to keep (one of the two); default: the older one.",
    )


class MergeOut(Schema):
    kept_lead_id: int
    merged_lead_id: int = Field(description="The lead merged into the kept one; it is gone.")
    lead: LeadOut | None = Field(
        description="The kept lead after the merge (null for a key without `read`)."
    )


class DismissOut(Schema):
    id: int
    dismissed_at: dt.datetime


def _visible_suggestion(user: User, suggestion_id: int) -> DuplicateSuggestion:
    found = (
        duplicate_get(user=user, suggestion_id=suggestion_id)
        if 0 < suggestion_id <= MAX_DB_ID
        else None
    )
    if found is None:
        raise NotFound(
            f"There is no duplicate suggestion with id {suggestion_id} that you can see. Check "
            "the id (sales reps see only suggestions between leads they own; a merged "
            "suggestion is gone)."
        )
    return found


@router.get(
    "/duplicates",
    response={200: DuplicatePage, **errors(HTTPStatus.BAD_REQUEST)},
    summary="List open duplicate suggestions",
)
def list_duplicates(request: HttpRequest, params: Query[DuplicateListQuery]) -> dict[str, Any]:
    """Open (not dismissed) suggestions between leads the key's user can see, newest first.
    Needs `read`."""
    require_scope(request, Scope.READ)
    queryset = duplicate_open_list(user=request_user(request), lead_id=params.lead)
    items, next_cursor = paginate(
        queryset, DUPLICATE_KEYSET, limit=params.limit, cursor=params.cursor
    )
    return {"items": items, "next": next_cursor}


@router.post(
    "/duplicates/{suggestion_id}/merge",
    response={
        200: MergeOut,
        **errors(HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND, HTTPStatus.REQUEST_ENTITY_TOO_LARGE),
    },
    summary="Merge the two leads of a suggestion",
)
def merge_duplicate(
    request: HttpRequest,
    suggestion_id: int,
    payload: Body[MergeIn | None] = None,  # no body is as good as `{}`
) -> dict[str, Any]:
    """Joins the two leads into one (events, history, consents and blank fields move to the
    kept lead; see docs/leads.md) and deletes the other. The body may name the lead to keep,
    `{"keep": 17}`; without it the older lead is kept. Needs `write`; viewers cannot merge, and
    sales reps only leads they own."""
    require_scope(request, Scope.WRITE)
    user = request_user(request)
    suggestion = _visible_suggestion(user, suggestion_id)
    _require_editor(user)
    keep = payload.keep if payload is not None else None
    kept, merged_id = duplicate_merge(suggestion=suggestion, keep=keep, actor=user)
    lead = None
    if request_api_key(request).has_scope(Scope.READ):
        lead = lead_get(user=user, lead_id=kept.pk)
    return {"kept_lead_id": kept.pk, "merged_lead_id": merged_id, "lead": lead}


@router.post(
    "/duplicates/{suggestion_id}/dismiss",
    response={200: DismissOut, **errors(HTTPStatus.NOT_FOUND)},
    summary="Dismiss a suggestion: not a duplicate",
)
def dismiss_duplicate(request: HttpRequest, suggestion_id: int) -> DuplicateSuggestion:
    """Marks the suggestion "not a duplicate": it leaves the open list and the leads stay
    apart. Dismissing it again changes nothing. Needs `write`; viewers cannot dismiss, and
    sales reps only suggestions between leads they own."""
    require_scope(request, Scope.WRITE)
    user = request_user(request)
    suggestion = _visible_suggestion(user, suggestion_id)
    _require_editor(user)
    return duplicate_dismiss(suggestion=suggestion)
