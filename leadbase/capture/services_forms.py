"""Writes of the form builder: create, change and delete forms and their fields.

One set of rules serves the builder UI and the API. Every write validates the whole result
(settings and the complete field list) and raises `ValidationFailed` naming each bad value,
with API paths such as `fields.2.maps_to`; a slug another form has is `SlugTaken` (409), and
deleting a form that has submissions is `FormInUse` (409). Nothing is half-written.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from leadbase.accounts.models import User
from leadbase.core.errors import ApplicationError, PermissionDenied, ValidationFailed
from leadbase.leads.normalize import clean_text
from leadbase.leads.services import campaign_resolve

from .form_rules import (
    DEFAULT_SETTINGS,
    RESERVED_SLUGS,
    SETTING_NAMES,
    STARTER_FIELDS,
    FieldSpec,
    check_content_file,
    check_settings,
    fields_check,
    may_edit_forms,
)
from .models import Form, FormField, Submission
from .services_submissions import RELEASABLE, submission_release


class SlugTaken(ApplicationError):
    status = HTTPStatus.CONFLICT


class FormInUse(ApplicationError):
    status = HTTPStatus.CONFLICT


def slug_suggest(name: str, *, exclude: Form | None = None) -> str:
    """A free slug made from `name`: "Spring webinar" -> spring-webinar (-2, -3, ... if used)."""
    base = re.sub(r"[-_]+", "-", slugify(name))[:70].strip("-") or "form"
    if base in RESERVED_SLUGS:
        base = f"{base}-form"
    taken = set(
        Form.objects.filter(slug__startswith=base)
        .exclude(pk=exclude.pk if exclude else 0)
        .values_list("slug", flat=True)
    )
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(2, len(taken) + 3) if f"{base}-{n}" not in taken)


def _raise_if(errors: Mapping[str, str], what: str) -> None:
    if errors:
        summary = "; ".join(f"{key}: {message}" for key, message in errors.items())
        raise ValidationFailed(f"The {what} was not saved ({summary}).", fields=dict(errors))


def _slug_taken(slug: str, form: Form | None) -> SlugTaken | None:
    other = Form.objects.filter(slug=slug).exclude(pk=form.pk if form else 0).first()
    if other is None:
        return None
    return SlugTaken(
        f"The slug '{slug}' is already used by the form '{other.name}'. Choose another, e.g. "
        f"'{slug_suggest(slug, exclude=form)}'.",
        fields={"slug": f"is already used by the form '{other.name}'"},
    )


# --- Writes --------------------------------------------------------------------------------


def form_settings(form: Form) -> dict[str, Any]:
    """The current settings of `form` in the shape `form_update` takes."""
    values = {name: getattr(form, name) for name in SETTING_NAMES if name != "campaign"}
    return {**values, "campaign": form.campaign.name if form.campaign else ""}


def form_create(
    *,
    values: Mapping[str, Any],
    actor: User | None,
    fields: Sequence[FieldSpec] | None = None,
    content_file: UploadedFile[bytes] | None = None,
) -> Form:
    """A new form with `values` (missing settings take DEFAULT_SETTINGS; an empty slug is made
    from the name) and `fields` (default: STARTER_FIELDS)."""
    merged = {**DEFAULT_SETTINGS, **values}
    if not merged.get("slug") and isinstance(merged.get("name"), str):
        merged["slug"] = slug_suggest(clean_text(merged["name"]))
    settings, errors = check_settings(merged)
    specs, field_errors = fields_check(STARTER_FIELDS if fields is None else fields)
    check_content_file(content_file, settings["purpose"], errors)
    _raise_if({**errors, **field_errors}, "form")
    with transaction.atomic():
        if taken := _slug_taken(settings["slug"], None):
            raise taken
        form = Form(created_by=actor)
        _assign(form, settings)
        if content_file is not None:
            form.content_file.save(content_file.name or "content", content_file, save=False)
        _save_unique(form)
        _store_fields(form, specs, [None] * len(specs))
    return form


def form_update(
    *,
    form: Form,
    changes: Mapping[str, Any],
    fields: Sequence[FieldSpec] | None = None,
    content_file: UploadedFile[bytes] | None = None,
    remove_content_file: bool = False,
) -> Form:
    """Apply `changes` (any settings; the rest keep their values; an empty slug keeps the
    current one) and, when given, replace the field list with `fields` (a field keeps its id
    when its name stays)."""
    with transaction.atomic():
        locked = Form.objects.select_for_update(of=("self",)).select_related("campaign")
        form = locked.get(pk=form.pk)
        current = form_settings(form)
        if not changes.get("slug", True):
            changes = {**changes, "slug": form.slug}
        settings, errors = check_settings({**current, **changes})
        specs: list[FieldSpec] = []
        if fields is not None:
            specs, field_errors = fields_check(fields)
            errors.update(field_errors)
        check_content_file(content_file, settings["purpose"], errors)
        _raise_if(errors, "form")
        if settings["slug"] != form.slug and (taken := _slug_taken(settings["slug"], form)):
            raise taken
        _assign(form, settings)
        if remove_content_file and form.content_file:
            _delete_file_on_commit(form)
            form.content_file = ""
        if content_file is not None:
            if form.content_file:
                _delete_file_on_commit(form)
            form.content_file.save(content_file.name or "content", content_file, save=False)
        _save_unique(form)
        if fields is not None:
            existing = {f.name: f.pk for f in form.fields.all()}
            _store_fields(form, specs, [existing.get(spec.name) for spec in specs])
    return form


def _assign(form: Form, settings: Mapping[str, Any]) -> None:
    for name in SETTING_NAMES:
        if name != "campaign":
            setattr(form, name, settings[name])
    name = settings["campaign"]
    if not name:
        form.campaign = None
    elif form.campaign is None or form.campaign.name != name:
        form.campaign = campaign_resolve(name, channel=settings["channel"])


def _save_unique(form: Form) -> None:
    try:
        with transaction.atomic():
            form.save()
    except IntegrityError:
        raise SlugTaken(
            f"The slug '{form.slug}' was taken by another form a moment ago. Choose another.",
            fields={"slug": "is already used by another form"},
        ) from None


def _delete_file_on_commit(form: Form) -> None:
    storage, name = form.content_file.storage, form.content_file.name
    if name:
        transaction.on_commit(lambda: storage.delete(name))


def _store_fields(form: Form, specs: Sequence[FieldSpec], ids: Sequence[int | None]) -> None:
    """Make the form's fields exactly `specs`, in order; `ids[i]` is the row spec i updates
    (None: a new row). Rows not named in `ids` are deleted."""
    # No two rows ever want the same name at once: the API matches rows by name, and a
    # one-field edit may rename only to a name no other field has.
    keep = [pk for pk in ids if pk is not None]
    form.fields.exclude(pk__in=keep).delete()
    names = [f.name for f in dataclasses.fields(FieldSpec)]
    rows = []
    for position, (spec, pk) in enumerate(zip(specs, ids, strict=True)):
        values = {name: getattr(spec, name) for name in names}
        values["choices"] = list(spec.choices)
        rows.append(FormField(pk=pk, form=form, position=position, **values))
    updates = [row for row in rows if row.pk is not None]
    if updates:
        FormField.objects.bulk_update(updates, [*names, "position"])
    FormField.objects.bulk_create([row for row in rows if row.pk is None])


def form_delete(*, form: Form) -> None:
    """Delete a form that never received a submission; otherwise FormInUse (409)."""
    with transaction.atomic():
        form = Form.objects.select_for_update().get(pk=form.pk)
        count = form.submissions.count()
        if count:
            raise FormInUse(
                f"The form '{form.name}' has {count} submission{'s' if count != 1 else ''}, "
                "which are kept as the record of what people sent, so it cannot be deleted. "
                "Deactivate it instead (is_active: false): it then stops accepting "
                "submissions.",
                fields={"id": "has submissions; deactivate the form instead"},
            )
        if form.content_file:
            _delete_file_on_commit(form)
        form.delete()


# --- One field at a time (the builder's editor) --------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    """The field list after one edit, and the index of the field the edit was about."""

    specs: list[FieldSpec]
    ids: list[int | None]
    index: int | None


def _locked_fields(form: Form) -> tuple[Form, list[FormField]]:
    form = Form.objects.select_for_update().get(pk=form.pk)
    return form, list(form.fields.order_by("position", "id"))


def _apply(form: Form, change: FieldChange) -> None:
    specs, errors = fields_check(change.specs)
    if errors:
        raise FieldRejected(errors, change.index)
    _store_fields(form, specs, change.ids)
    form.save(update_fields=["updated_at"])


class FieldRejected(ValidationFailed):
    """Validation errors of a one-field edit; `field_errors` are those of the edited field,
    by attribute, and `list_errors` the ones about the list as a whole."""

    def __init__(self, errors: Mapping[str, str], index: int | None) -> None:
        own = f"fields.{index}." if index is not None else "\0"
        self.field_errors = {k.removeprefix(own): v for k, v in errors.items() if k.startswith(own)}
        # (a duplicate is named on both fields: once is enough)
        own_messages = set(self.field_errors.values())
        self.list_errors = list(
            dict.fromkeys(
                v for k, v in errors.items() if not k.startswith(own) and v not in own_messages
            )
        )
        summary = "; ".join([*self.field_errors.values(), *self.list_errors])
        super().__init__(f"The field was not saved: {summary}.", fields=dict(errors))


def form_field_add(*, form: Form, spec: FieldSpec) -> FormField:
    """Append a field to `form`."""
    with transaction.atomic():
        form, current = _locked_fields(form)
        specs = [FieldSpec.of(f) for f in current]
        _apply(form, FieldChange([*specs, spec], [f.pk for f in current] + [None], len(specs)))
        return form.fields.order_by("-position", "-id")[0]


def form_field_update(*, field: FormField, spec: FieldSpec) -> None:
    with transaction.atomic():
        form, current = _locked_fields(field.form)
        index = next(i for i, f in enumerate(current) if f.pk == field.pk)
        specs = [spec if i == index else FieldSpec.of(f) for i, f in enumerate(current)]
        _apply(form, FieldChange(specs, [f.pk for f in current], index))


def form_field_delete(*, field: FormField) -> None:
    with transaction.atomic():
        form, current = _locked_fields(field.form)
        rest = [f for f in current if f.pk != field.pk]
        _apply(form, FieldChange([FieldSpec.of(f) for f in rest], [f.pk for f in rest], None))


def form_field_move(*, field: FormField, offset: int) -> None:
    """Move the field `offset` places (-1: up one, +1: down one); at an end it stays."""
    with transaction.atomic():
        form, current = _locked_fields(field.form)
        index = next(i for i, f in enumerate(current) if f.pk == field.pk)
        target = max(0, min(len(current) - 1, index + offset))
        current.insert(target, current.pop(index))
        specs = [FieldSpec.of(f) for f in current]
        _apply(form, FieldChange(specs, [f.pk for f in current], target))


# --- Held spam -----------------------------------------------------------------------------


class NotReleasable(ApplicationError):
    status = HTTPStatus.CONFLICT


def spam_release(*, submission: Submission, actor: User) -> Submission:
    """Let a submission held as spam (or one that failed) through, for admins and marketers:
    `services_submissions.submission_release` processes it as if it had just arrived.
    Returns the submission as it ends up."""
    if not may_edit_forms(actor):
        raise PermissionDenied(
            "Only admins and marketers may release held submissions; your role is "
            f"{actor.get_role_display()}."
        )
    if submission.status not in RELEASABLE:
        raise NotReleasable(
            f"Submission {submission.pk} is {submission.get_status_display().lower()}, not "
            "held as spam or failed, so there is nothing to release.",
            fields={"status": f"is {submission.status}; only spam or failed can be released"},
        )
    return submission_release(submission=submission, actor=actor)
