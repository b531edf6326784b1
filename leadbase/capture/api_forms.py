"""The forms API: /api/v1/forms (with their fields) and the submissions they received.

Reads need the `read` scope, changes `write`, and changes (and releasing held spam) an admin's
or a marketer's key. The rules are the builder's (`form_rules`, through `services_forms`), so a
form the API accepts is one the UI accepts. Submissions are scoped like leads: a sales rep's
key sees only the submissions of leads the rep owns.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.urls import get_script_prefix
from ninja import Query, Router, Status

from leadbase.accounts.api_auth import request_user, require_scope
from leadbase.accounts.models import Scope, User
from leadbase.core.errors import NotFound, PermissionDenied, ValidationFailed
from leadbase.leads.api import Keyset, errors, paginate
from leadbase.leads.schemas import MAX_DB_ID

from . import selectors, services_forms
from .form_rules import SETTING_NAMES, FieldSpec, may_edit_forms
from .models import Form, FormField, Submission
from .schemas_forms import (
    FormIn,
    FormListQuery,
    FormOut,
    FormPage,
    FormPatch,
    FormSettingsIn,
    SubmissionListQuery,
    SubmissionOut,
    SubmissionPage,
)

router = Router(tags=["forms"])

FORM_KEYSET = Keyset("forms:id", None, descending=False)
SUBMISSION_KEYSET = Keyset("submissions:-id", None, descending=True)


# --- Helpers -------------------------------------------------------------------------------


def _forms() -> QuerySet[Form]:
    ordered = FormField.objects.order_by("position", "id")
    return selectors.form_list().prefetch_related(Prefetch("fields", queryset=ordered))


def _form(form_id: int) -> Form:
    form = _forms().filter(pk=form_id).first() if 0 < form_id <= MAX_DB_ID else None
    if form is None:
        raise NotFound(f"There is no form with id {form_id}. Check the id.")
    return selectors.with_submission_counts([form])[0]


def _editor(request: HttpRequest) -> User:
    require_scope(request, Scope.WRITE)
    user = request_user(request)
    if not may_edit_forms(user):
        raise PermissionDenied(
            "Only admins and marketers may change forms or release held submissions; this "
            f"key's user is a {user.get_role_display().lower()}. Ask one of them."
        )
    return user


def _owner(user_id: int | None) -> User | None:
    if user_id is None:
        return None
    owner = User.objects.filter(pk=user_id).first()
    if owner is None:
        raise ValidationFailed(
            f"There is no user with id {user_id} to own the form's leads. Send an existing "
            "user's id, or null for no owner.",
            fields={"owner": f"no user with id {user_id}"},
        )
    return owner


def _changes(payload: FormSettingsIn) -> dict[str, Any]:
    changes = payload.settings()
    if "owner" in changes:
        changes["owner"] = _owner(changes["owner"])
    return changes


def _fields(payload: FormSettingsIn) -> list[FieldSpec] | None:
    return None if payload.fields is None else [field.spec() for field in payload.fields]


def _out(request: HttpRequest, form: Form) -> dict[str, Any]:
    site = request.build_absolute_uri(get_script_prefix())
    urls = selectors.form_public_urls(site=site, slug=form.slug)
    fields = list(form.fields.all())
    return {
        **{name: getattr(form, name) for name in SETTING_NAMES},
        "id": form.pk,
        "campaign": form.campaign.name if form.campaign else None,
        "allowed_domains": form.allowed_domains.split(),
        "content_file": form.content_file.name or None,
        "owner": form.owner,
        "fields": [
            {**{k: getattr(f, k) for k in FIELD_OUT}, "choices": _choices(f)} for f in fields
        ],
        "fields_count": form.fields_count,  # type: ignore[attr-defined]
        "visible_fields_count": form.visible_fields_count,  # type: ignore[attr-defined]
        "submissions_count": form.submissions_count,  # type: ignore[attr-defined]
        "spam_count": form.spam_count,  # type: ignore[attr-defined]
        "url": urls.hosted,
        "embed_script": urls.embed_script,
        "embed_snippet": urls.embed_snippet,
        "created_at": form.created_at,
        "updated_at": form.updated_at,
    }


FIELD_OUT = ("id", "position", "name", "label", "kind", "required", "maps_to", "default",
             "placeholder", "help_text", "max_length")  # fmt: skip


def _choices(field: FormField) -> list[str]:
    return [str(c) for c in field.choices] if isinstance(field.choices, list) else []


def _submission_out(submission: Submission) -> dict[str, Any]:
    visible = bool(getattr(submission, "lead_visible", False))
    return {
        "id": submission.pk,
        "form": submission.form_id,
        "status": submission.status,
        "spam_reason": submission.spam_reason,
        "data": submission.data,
        "context": submission.context,
        "email": submission.email,
        "lead": submission.lead_id if visible else None,
        "duplicate_of": submission.duplicate_of_id,
        "error": submission.error,
        "ip_address": submission.ip_address,
        "created_at": submission.created_at,
        "processed_at": submission.processed_at,
        "released_at": submission.released_at,
        "released_by": submission.released_by.username if submission.released_by else None,
    }


# --- Forms ---------------------------------------------------------------------------------


@router.get(
    "/forms",
    response={200: FormPage, **errors(HTTPStatus.BAD_REQUEST)},
    summary="List forms",
)
def list_forms(request: HttpRequest, params: Query[FormListQuery]) -> dict[str, Any]:
    """Every form with its fields and counts, oldest first. Needs `read`."""
    require_scope(request, Scope.READ)
    queryset = _forms()
    if params.active is not None:
        queryset = queryset.filter(is_active=params.active)
    items, next_cursor = paginate(queryset, FORM_KEYSET, limit=params.limit, cursor=params.cursor)
    selectors.with_submission_counts(items)
    return {"items": [_out(request, form) for form in items], "next": next_cursor}


@router.post(
    "/forms",
    response={201: FormOut, **errors(HTTPStatus.BAD_REQUEST, HTTPStatus.CONFLICT)},
    summary="Create a form",
)
def create_form(request: HttpRequest, payload: FormIn) -> Status[Any]:
    """Creates the form (201). Settings left out take their defaults, an empty slug is made
    from the name, and `fields` left out gives the starter fields (email and first name).
    409 when the slug is taken. Needs `write`, and an admin's or a marketer's key."""
    user = _editor(request)
    form = services_forms.form_create(values=_changes(payload), fields=_fields(payload), actor=user)
    return Status(HTTPStatus.CREATED, _out(request, _form(form.pk)))


@router.get(
    "/forms/{form_id}",
    response={200: FormOut, **errors(HTTPStatus.NOT_FOUND)},
    summary="Get a form",
)
def get_form(request: HttpRequest, form_id: int) -> dict[str, Any]:
    """Needs `read`."""
    require_scope(request, Scope.READ)
    return _out(request, _form(form_id))


@router.patch(
    "/forms/{form_id}",
    response={
        200: FormOut,
        **errors(HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT),
    },
    summary="Change a form",
)
def patch_form(request: HttpRequest, form_id: int, payload: FormPatch) -> dict[str, Any]:
    """Only the settings sent change. `fields`, when sent, replaces the whole list (a field
    keeps its id while its name stays). Needs `write`, and an admin's or a marketer's key."""
    _editor(request)
    form = _form(form_id)
    services_forms.form_update(form=form, changes=_changes(payload), fields=_fields(payload))
    return _out(request, _form(form_id))


@router.delete(
    "/forms/{form_id}",
    response={204: None, **errors(HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT)},
    summary="Delete a form",
)
def delete_form(request: HttpRequest, form_id: int) -> Status[None]:
    """Only a form without submissions; otherwise 409: deactivate it instead
    (`PATCH {"is_active": false}`). Needs `write`, and an admin's or a marketer's key."""
    _editor(request)
    services_forms.form_delete(form=_form(form_id))
    return Status(HTTPStatus.NO_CONTENT, None)


# --- Submissions ---------------------------------------------------------------------------


@router.get(
    "/forms/{form_id}/submissions",
    response={200: SubmissionPage, **errors(HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND)},
    summary="List a form's submissions",
)
def list_submissions(
    request: HttpRequest, form_id: int, params: Query[SubmissionListQuery]
) -> dict[str, Any]:
    """Newest first, optionally of one `status`. A sales rep's key sees only the submissions
    of leads the rep owns. Needs `read`."""
    require_scope(request, Scope.READ)
    form = _form(form_id)
    filters = selectors.SubmissionFilters(form=form.pk, status=params.status or "")
    queryset = selectors.submission_list(user=request_user(request), filters=filters)
    items, next_cursor = paginate(
        queryset, SUBMISSION_KEYSET, limit=params.limit, cursor=params.cursor
    )
    return {"items": [_submission_out(s) for s in items], "next": next_cursor}


@router.post(
    "/submissions/{submission_id}/release",
    response={200: SubmissionOut, **errors(HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT)},
    summary="Release a submission held as spam",
)
def release_submission(request: HttpRequest, submission_id: int) -> dict[str, Any]:
    """Processes a submission held as spam (or one that failed) as if it had just arrived;
    409 for any other status. Needs `write`, and an admin's or a marketer's key."""
    user = _editor(request)
    found = (
        selectors.submission_get(user=user, submission_id=submission_id)
        if 0 < submission_id <= MAX_DB_ID
        else None
    )
    if found is None:
        raise NotFound(f"There is no submission with id {submission_id}. Check the id.")
    services_forms.spam_release(submission=found, actor=user)
    reloaded = selectors.submission_get(user=user, submission_id=submission_id)
    assert reloaded is not None  # releasing never deletes
    return _submission_out(reloaded)
