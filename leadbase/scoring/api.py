"""API router: scoring (mounted under /api/v1/ by leadbase/config/api.py).

- `GET /leads/{id}/score`: a lead's scores now, with every contribution (404 for a lead the
  key's user cannot see, as everywhere in the API).
- `/rule-sets`: versions of the scoring rules; drafts are created, replaced, patched and
  deleted; any version is previewed (`POST .../preview`) and published (`POST .../publish`:
  a retired version published again is the roll back). Both start a background job: 202 with
  the job, whose progress `GET /scoring-jobs/{id}` tells.

Reads need the `read` scope, changes `write` and an admin's or a marketer's key (403 for
others). The endpoints only parse and render: the work is leadbase.scoring's services.
"""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from ninja import Router, Status

from leadbase.accounts.models import User
from leadbase.core.errors import NotFound, ValidationFailed
from leadbase.leads.api import errors
from leadbase.leads.schemas import MAX_DB_ID
from leadbase.leads.selectors import lead_get, lead_visible_to

from .api_access import editor, reader, user_ref
from .jobs import preview_start, publish_start
from .models import RuleSet, ScoringJob
from .rule_sets import (
    parse_rules,
    rule_set_active,
    rule_set_delete,
    rule_set_draft_create,
    rule_set_draft_update,
)
from .schemas import (
    RuleSetCreate,
    RuleSetList,
    RuleSetOut,
    RuleSetPatch,
    RuleSetReplace,
    ScoreExplanationOut,
    ScoringJobOut,
)
from .services import lead_score_explain

router = Router(tags=["scoring"])

# The version a definition is checked with before the service numbers the new draft (the
# engine wants one; the client's, if any, is ignored: versions are the server's).
_PLACEHOLDER_VERSION = 1


def _rule_sets() -> QuerySet[RuleSet]:
    rule_set_active()  # on a new database, the shipped default becomes version 1 here
    return RuleSet.objects.select_related("created_by", "published_by")


def _rule_set(rule_set_id: int) -> RuleSet:
    found = _rule_sets().filter(pk=rule_set_id).first() if 0 < rule_set_id <= MAX_DB_ID else None
    if found is None:
        raise NotFound(
            f"There is no rule set with id {rule_set_id}. GET /rule-sets lists them.",
            fields={"id": "no such rule set"},
        )
    return found


def _summary(rule_set: RuleSet) -> dict[str, Any]:
    return {
        "id": rule_set.pk,
        "version": rule_set.version,
        "name": rule_set.name,
        "status": rule_set.status,
        "note": rule_set.note,
        "created_by": user_ref(rule_set.created_by),
        "created_at": rule_set.created_at,
        "updated_at": rule_set.updated_at,
        "published_at": rule_set.published_at,
        "published_by": user_ref(rule_set.published_by),
        "url": reverse("api:get_rule_set", args=[rule_set.pk]),
    }


def _full(rule_set: RuleSet) -> dict[str, Any]:
    return {**_summary(rule_set), "definition": rule_set.definition}


def _definition(definition: dict[str, Any]) -> dict[str, Any]:
    """The client's definition with the placeholder version; a name longer than the column
    holds is refused here (the engine does not limit it), with the rules' other problems."""
    data = {**definition, "version": _PLACEHOLDER_VERSION}
    name, limit = data.get("name"), RuleSet._meta.get_field("name").max_length or 200
    if isinstance(name, str) and len(name) > limit:
        problems = {"name": f"is {len(name)} characters long; the limit is {limit}"}
        try:
            parse_rules(data)
        except ValidationFailed as exc:
            problems = {**exc.fields, **problems}
        raise ValidationFailed(
            f"The rule set's name is longer than {limit} characters. Shorten it (and correct "
            "any other problem listed) and save again.",
            fields=problems,
        )
    return data


def _job_out(job: ScoringJob, user: User) -> dict[str, Any]:
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "rule_set": {
            "id": job.rule_set.pk,
            "version": job.rule_set.version,
            "name": job.rule_set.name,
        },
        "done": job.done,
        "total": job.total,
        "result": _visible_examples(job.result, user),
        "error": job.error,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "url": reverse("api:get_scoring_job", args=[job.pk]),
    }


def _visible_examples(result: Any, user: User) -> dict[str, Any]:
    """A preview's result with the example leads cut to those `user` may see (a sales rep
    learns the counts, not the ids of other reps' leads)."""
    if not isinstance(result, dict):
        return {}
    moves = result.get("moves")
    if user.sees_all_leads or not isinstance(moves, dict):
        return result
    ids = {pk for rows in moves.values() for row in rows for pk in row.get("examples", [])}
    seen = set(lead_visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
    return {
        **result,
        "moves": {
            kind: [
                {**row, "examples": [pk for pk in row.get("examples", []) if pk in seen]}
                for row in rows
            ]
            for kind, rows in moves.items()
        },
    }


# --- A lead's score ------------------------------------------------------------------------


@router.get(
    "/leads/{lead_id}/score",
    response={200: ScoreExplanationOut, **errors(HTTPStatus.NOT_FOUND)},
    url_name="get_lead_score",
    summary="A lead's scores, explained",
)
def get_lead_score(request: HttpRequest, lead_id: int) -> dict[str, Any]:
    """The lead's fit, engagement and total score now under the rule set in force, with each
    fit rule that matched, each engagement rule and each event that counted (its points then
    and now, e.g. "+25 demo request, 3 days ago, decayed to 19"). Needs `read`; 404 when the
    lead does not exist or the key's user cannot see it."""
    user = reader(request)
    lead = lead_get(user=user, lead_id=lead_id) if 0 < lead_id <= MAX_DB_ID else None
    if lead is None:
        raise NotFound(
            f"There is no lead with id {lead_id} that you can see. Check the id (sales reps "
            "see only the leads they own)."
        )
    explained = lead_score_explain(lead=lead)
    for line in explained["event_lines"]:
        line["at"] = dt.datetime.fromtimestamp(line["at"], tz=dt.UTC)
    return {**explained, "lead_id": lead.pk}


# --- Rule sets -----------------------------------------------------------------------------


@router.get(
    "/rule-sets",
    response={200: RuleSetList, **errors()},
    url_name="list_rule_sets",
    summary="List rule set versions",
)
def list_rule_sets(request: HttpRequest) -> dict[str, Any]:
    """Every version, newest first, without the definitions. Needs `read`."""
    reader(request)
    return {"items": [_summary(rule_set) for rule_set in _rule_sets().order_by("-version")]}


@router.post(
    "/rule-sets",
    response={201: RuleSetOut, **errors(HTTPStatus.BAD_REQUEST)},
    url_name="create_rule_set",
    summary="Create a draft rule set",
)
def create_rule_set(request: HttpRequest, payload: RuleSetCreate) -> Status[Any]:
    """A new draft with the next version number: the `definition` given, or a copy of the
    rules in force. Every problem of the rules is reported at once (422, `errors` by rule
    path, e.g. `fit_rules[0] (decision_maker).when.field`), and nothing is saved then.
    Needs `write` and an admin's or a marketer's key."""
    user = editor(request)
    definition = _definition(payload.definition) if payload.definition is not None else None
    draft = rule_set_draft_create(actor=user, definition=definition, note=payload.note)
    return Status(HTTPStatus.CREATED, _full(draft))


@router.get(
    "/rule-sets/{rule_set_id}",
    response={200: RuleSetOut, **errors(HTTPStatus.NOT_FOUND)},
    url_name="get_rule_set",
    summary="Get a rule set with its definition",
)
def get_rule_set(request: HttpRequest, rule_set_id: int) -> dict[str, Any]:
    """Needs `read`."""
    reader(request)
    return _full(_rule_set(rule_set_id))


def _update(
    request: HttpRequest, rule_set_id: int, definition: dict[str, Any] | None, note: str | None
) -> dict[str, Any]:
    user = editor(request)
    rule_set = _rule_set(rule_set_id)
    data = _definition(definition) if definition is not None else rule_set.definition
    rule_set_draft_update(rule_set=rule_set, actor=user, definition=data, note=note)
    return _full(rule_set)


@router.put(
    "/rule-sets/{rule_set_id}",
    response={200: RuleSetOut, **errors(HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT)},
    url_name="replace_rule_set",
    summary="Replace a draft's definition",
)
def replace_rule_set(
    request: HttpRequest, rule_set_id: int, payload: RuleSetReplace
) -> dict[str, Any]:
    """Drafts only: a published or retired version is a 409 (make a new draft from it).
    Validation as for creating a draft (422 naming every problem; nothing saved then).
    Needs `write` and an admin's or a marketer's key."""
    return _update(request, rule_set_id, payload.definition, payload.note)


@router.patch(
    "/rule-sets/{rule_set_id}",
    response={200: RuleSetOut, **errors(HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT)},
    url_name="patch_rule_set",
    summary="Change a draft's definition or note",
)
def patch_rule_set(request: HttpRequest, rule_set_id: int, payload: RuleSetPatch) -> dict[str, Any]:
    """The fields given replace the draft's (`definition` as a whole); the others stay.
    Drafts only (409 otherwise). Needs `write` and an admin's or a marketer's key."""
    return _update(request, rule_set_id, payload.definition, payload.note)


@router.delete(
    "/rule-sets/{rule_set_id}",
    response={204: None, **errors(HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT)},
    url_name="delete_rule_set",
    summary="Delete a draft",
)
def delete_rule_set(request: HttpRequest, rule_set_id: int) -> Status[Any]:
    """Drafts only: versions that were in force stay for the record (409). Needs `write`
    and an admin's or a marketer's key."""
    user = editor(request)
    rule_set_delete(rule_set=_rule_set(rule_set_id), actor=user)
    return Status(HTTPStatus.NO_CONTENT, None)


@router.post(
    "/rule-sets/{rule_set_id}/preview",
    response={202: ScoringJobOut, **errors(HTTPStatus.NOT_FOUND)},
    url_name="preview_rule_set",
    summary="Preview a rule set on the real data",
)
def preview_rule_set(request: HttpRequest, rule_set_id: int) -> Status[Any]:
    """Starts a background job that scores every lead under this version without changing
    anything, and counts who would move between temperatures, qualifications and prospect
    (with example leads). 202 with the job: poll its `url` until `status` is done. Needs
    `write` and an admin's or a marketer's key; a version whose rules do not parse is a 422.
    """
    user = editor(request)
    job = preview_start(rule_set=_rule_set(rule_set_id), actor=user)
    return Status(HTTPStatus.ACCEPTED, _job_out(job, user))


@router.post(
    "/rule-sets/{rule_set_id}/publish",
    response={202: ScoringJobOut, **errors(HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT)},
    url_name="publish_rule_set",
    summary="Publish a rule set (or roll back to a retired one)",
)
def publish_rule_set(request: HttpRequest, rule_set_id: int) -> Status[Any]:
    """Puts this version in force at once (the one in force retires) and starts the full
    recompute of every lead's scores, each move recorded as a transition. Publishing a
    retired version is the roll back. 202 with the job; 409 while another publish runs.
    Needs `write` and an admin's or a marketer's key."""
    user = editor(request)
    job = publish_start(rule_set=_rule_set(rule_set_id), actor=user)
    return Status(HTTPStatus.ACCEPTED, _job_out(job, user))


# --- Jobs ----------------------------------------------------------------------------------


@router.get(
    "/scoring-jobs/{job_id}",
    response={200: ScoringJobOut, **errors(HTTPStatus.NOT_FOUND)},
    url_name="get_scoring_job",
    summary="A preview's or publish's status, progress and result",
)
def get_scoring_job(request: HttpRequest, job_id: int) -> dict[str, Any]:
    """Progress is `done` of `total` leads; `result` when `status` is done, `error` when it
    failed. Needs `read`."""
    user = reader(request)
    jobs = ScoringJob.objects.select_related("rule_set")
    job = jobs.filter(pk=job_id).first() if 0 < job_id <= MAX_DB_ID else None
    if job is None:
        raise NotFound(f"There is no scoring job {job_id}.", fields={"id": "no such job"})
    return _job_out(job, user)
