"""The form builder and the submissions inbox, under /capture/.

Everyone signed in may look; admins and marketers change forms and release held spam (others
get 403). The fields editor works with plain POSTs (each answered by a redirect back to the
form) and, with HTMX, swaps only the fields-and-preview part of the page. Invalid input is
answered with 400 and the page or part, saying what to fix next to the input concerned.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import get_script_prefix, reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from leadbase.accounts.models import User
from leadbase.core.errors import ApplicationError
from leadbase.leads.merge_rules import as_text

from . import selectors, services_forms
from .form_rules import (
    DEFAULT_SETTINGS,
    SHORT_FORM_VISIBLE_FIELDS,
    FieldSpec,
    may_edit_forms,
    visible_field_count,
)
from .form_values import CONSENT_FIELD, countries
from .forms_builder import (
    FieldForm,
    FormSettingsForm,
    SubmissionFilterForm,
    add_service_errors,
)
from .models import FieldKind, Form, FormField, Submission

INBOX_PAGE_SIZE = 50
NEW_FIELD = "new"


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # pragma: no cover - login_required guarantees it
        raise Http404
    return user


def _editor(request: HttpRequest) -> User:
    user = _user(request)
    if not may_edit_forms(user):
        raise PermissionDenied(
            f"Only admins and marketers may change forms; your role is {user.get_role_display()}."
        )
    return user


def _htmx(request: HttpRequest) -> bool:
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def _form_or_404(form_id: int) -> Form:
    form = selectors.form_get(form_id=form_id)
    if form is None:
        raise Http404("No such form.")
    return form


def _field_or_404(form: Form, field_id: int) -> FormField:
    field = form.fields.filter(pk=field_id).first()
    if field is None:
        raise Http404("No such field.")
    return field


def _public_urls(request: HttpRequest, form: Form) -> selectors.PublicUrls:
    site = request.build_absolute_uri(get_script_prefix())
    return selectors.form_public_urls(site=site, slug=form.slug)


def _edit_url(form: Form, anchor: str = "") -> str:
    url = reverse("capture:form_edit", args=[form.pk])
    return f"{url}#{anchor}" if anchor else url


# --- Forms ---------------------------------------------------------------------------------


@require_safe
@login_required
def form_list(request: HttpRequest) -> HttpResponse:
    context = {
        "forms": selectors.with_submission_counts(list(selectors.form_list())),
        "can_edit": may_edit_forms(_user(request)),
        "short_limit": SHORT_FORM_VISIBLE_FIELDS,
    }
    return render(request, "capture/form_list.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def form_create(request: HttpRequest) -> HttpResponse:
    user = _editor(request)
    if request.method != "POST":
        settings_form = FormSettingsForm(initial=DEFAULT_SETTINGS, new=True)
        return _settings_page(request, None, settings_form)
    settings_form = FormSettingsForm(request.POST, request.FILES, new=True)
    if settings_form.is_valid():
        try:
            form = services_forms.form_create(
                values=settings_form.values(),
                actor=user,
                content_file=settings_form.cleaned_data["content_file"],
            )
        except ApplicationError as exc:
            add_service_errors(settings_form, exc.fields or {"form": exc.message})
        else:
            messages.success(request, f"The form “{form.name}” was created. Add its fields.")
            return HttpResponseRedirect(_edit_url(form), status=303)
    return _settings_page(request, None, settings_form, status=400)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def form_edit(request: HttpRequest, form_id: int) -> HttpResponse:
    """The form's page: share snippets, fields, preview and settings; POST saves settings."""
    form = _form_or_404(form_id)
    if request.method != "POST":
        editable = may_edit_forms(_user(request))
        initial = services_forms.form_settings(form)
        return _settings_page(
            request, form, FormSettingsForm(initial=initial, read_only=not editable)
        )
    _editor(request)
    settings_form = FormSettingsForm(request.POST, request.FILES)
    if settings_form.is_valid():
        try:
            services_forms.form_update(
                form=form,
                changes=settings_form.values(),
                content_file=settings_form.cleaned_data["content_file"],
                remove_content_file=settings_form.cleaned_data["remove_content_file"],
            )
        except ApplicationError as exc:
            add_service_errors(settings_form, exc.fields or {"form": exc.message})
        else:
            messages.success(request, "The settings were saved.")
            return HttpResponseRedirect(_edit_url(form, "settings"), status=303)
    return _settings_page(request, form, settings_form, status=400)


@require_POST
@login_required
def form_delete(request: HttpRequest, form_id: int) -> HttpResponse:
    _editor(request)
    form = _form_or_404(form_id)
    try:
        services_forms.form_delete(form=form)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(_edit_url(form, "danger"), status=303)
    messages.success(request, f"The form “{form.name}” was deleted.")
    return HttpResponseRedirect(reverse("capture:forms"), status=303)


def _settings_page(
    request: HttpRequest,
    form: Form | None,
    settings_form: FormSettingsForm,
    *,
    status: int = 200,
    field_forms: dict[str, FieldForm] | None = None,
) -> HttpResponse:
    context: dict[str, Any] = {
        "form_obj": form,
        "settings_form": settings_form,
        "campaign_names": selectors.campaign_names(),
        "can_edit": may_edit_forms(_user(request)),
    }
    if form is not None:
        context |= _builder_context(request, form, field_forms or {})
    response = render(request, "capture/form_edit.html", context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _builder_context(
    request: HttpRequest, form: Form, field_forms: dict[str, FieldForm]
) -> dict[str, Any]:
    """What the fields editor and the preview show. `field_forms` holds bound forms with
    errors, by field id (or NEW_FIELD), to show instead of fresh ones."""
    fields = selectors.form_fields(form=form)
    names = [f.name for f in fields]
    rows = []
    for field in fields:
        bound = field_forms.get(str(field.pk))
        rows.append(
            {
                "field": field,
                "form": bound
                or FieldForm(
                    initial=FieldForm.initial_of(FieldSpec.of(field)), prefix=f"f{field.pk}"
                ),
                "open": bound is not None,
            }
        )
    visible = visible_field_count(fields)
    return {
        "fields": fields,
        "rows": rows,
        "add_form": field_forms.get(NEW_FIELD) or FieldForm(prefix=NEW_FIELD, taken=names),
        "add_open": NEW_FIELD in field_forms,
        "visible_count": visible,
        "hidden_count": len(fields) - visible,
        "too_long": visible > SHORT_FORM_VISIBLE_FIELDS,
        "short_limit": SHORT_FORM_VISIBLE_FIELDS,
        "urls": _public_urls(request, form),
        "consent_input": CONSENT_FIELD,
        "countries": countries() if any(f.kind == FieldKind.COUNTRY for f in fields) else (),
    }


def _builder_response(
    request: HttpRequest,
    form: Form,
    *,
    field_forms: dict[str, FieldForm] | None = None,
    anchor: str = "fields",
    done: str = "",
) -> HttpResponse:
    """After a fields edit: the part of the page (HTMX) or a redirect back to it; with errors
    (in `field_forms`), 400 and the part or the whole page showing them."""
    form.refresh_from_db()
    if field_forms and not _htmx(request):
        initial = services_forms.form_settings(form)
        return _settings_page(
            request, form, FormSettingsForm(initial=initial), status=400, field_forms=field_forms
        )
    if not _htmx(request):
        if done:
            messages.success(request, done)
        return HttpResponseRedirect(_edit_url(form, anchor), status=303)
    context = {
        "form_obj": form,
        "can_edit": True,
        "done": done,
        **_builder_context(request, form, field_forms or {}),
    }
    status = 400 if field_forms else 200
    response = render(request, "capture/form_edit.html#builder", context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _field_form_failed(field_form: FieldForm, exc: ApplicationError) -> None:
    if isinstance(exc, services_forms.FieldRejected):
        add_service_errors(field_form, exc.field_errors)
        for message in exc.list_errors:
            field_form.add_error(None, f"{message[:1].upper()}{message[1:]}.")
    else:
        field_form.add_error(None, exc.message)


@require_POST
@login_required
def field_add(request: HttpRequest, form_id: int) -> HttpResponse:
    _editor(request)
    form = _form_or_404(form_id)
    names = form.fields.values_list("name", flat=True)
    field_form = FieldForm(request.POST, prefix=NEW_FIELD, taken=names)
    if field_form.is_valid():
        try:
            field = services_forms.form_field_add(form=form, spec=field_form.spec())
        except ApplicationError as exc:
            _field_form_failed(field_form, exc)
        else:
            return _builder_response(
                request, form, anchor=f"field-{field.pk}", done=f"Added “{field.label}”."
            )
    return _builder_response(request, form, field_forms={NEW_FIELD: field_form})


@require_POST
@login_required
def field_update(request: HttpRequest, form_id: int, field_id: int) -> HttpResponse:
    _editor(request)
    form = _form_or_404(form_id)
    field = _field_or_404(form, field_id)
    names = form.fields.exclude(pk=field.pk).values_list("name", flat=True)
    field_form = FieldForm(request.POST, prefix=f"f{field.pk}", taken=names)
    if field_form.is_valid():
        try:
            services_forms.form_field_update(field=field, spec=field_form.spec())
        except ApplicationError as exc:
            _field_form_failed(field_form, exc)
        else:
            return _builder_response(
                request,
                form,
                anchor=f"field-{field.pk}",
                done=f"Saved “{field_form.spec().label}”.",
            )
    return _builder_response(request, form, field_forms={str(field.pk): field_form})


@require_POST
@login_required
def field_delete(request: HttpRequest, form_id: int, field_id: int) -> HttpResponse:
    _editor(request)
    form = _form_or_404(form_id)
    field = _field_or_404(form, field_id)
    try:
        services_forms.form_field_delete(field=field)
    except ApplicationError as exc:
        return _refused(request, form, exc)
    return _builder_response(request, form, done=f"Removed “{field.label}”.")


@require_POST
@login_required
def field_move(request: HttpRequest, form_id: int, field_id: int) -> HttpResponse:
    _editor(request)
    form = _form_or_404(form_id)
    field = _field_or_404(form, field_id)
    offsets = {"up": -1, "down": 1}
    direction = request.POST.get("direction", "")
    if direction not in offsets:
        return HttpResponse("direction must be up or down", status=400, content_type="text/plain")
    services_forms.form_field_move(field=field, offset=offsets[direction])
    return _builder_response(request, form, anchor=f"field-{field.pk}")


def _refused(request: HttpRequest, form: Form, exc: ApplicationError) -> HttpResponse:
    """An edit of the list that the rules refuse (e.g. removing the only email field)."""
    message = (
        "; ".join(exc.list_errors)
        if isinstance(exc, services_forms.FieldRejected) and exc.list_errors
        else exc.message
    )
    message = f"That change was not made: {message}."
    if not _htmx(request):
        messages.error(request, message)
        return HttpResponseRedirect(_edit_url(form, "fields"), status=303)
    context = {"form_obj": form, "can_edit": True, "refused": message}
    context |= _builder_context(request, form, {})
    return render(request, "capture/form_edit.html#builder", context, status=400)


# --- Submissions ---------------------------------------------------------------------------


@require_safe
@login_required
def submission_list(request: HttpRequest) -> HttpResponse:
    """Submissions the user may see, newest first, filtered by form and status."""
    user = _user(request)
    filters = SubmissionFilterForm(request.GET or None, forms_=selectors.form_choices())
    page = None
    status = 200
    if filters.is_bound and not filters.is_valid():
        status = 400
    else:
        data = filters.cleaned_data if filters.is_bound else {}
        queryset = selectors.submission_list(
            user=user,
            filters=selectors.SubmissionFilters(
                form=data.get("form"), status=data.get("status") or ""
            ),
        )
        page = Paginator(queryset, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
        _with_pairs(page.object_list)
    context = {
        "filters": filters,
        "page": page,
        "can_release": may_edit_forms(user),
        "back": request.get_full_path(),
    }
    template = "capture/submission_list.html"
    if _htmx(request):
        template += "#results"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _with_pairs(submissions: Iterable[Submission]) -> None:
    """Sets `data_pairs` and `context_pairs` on each: its values as (name, text) pairs, the
    data in the order of the form's fields (a template cannot iterate a dict safely: a key
    such as "items" would shadow the method)."""
    submissions = list(submissions)
    positions = selectors.field_positions(form_ids={s.form_id for s in submissions})
    for submission in submissions:
        for source, target in (("data", "data_pairs"), ("context", "context_pairs")):
            values = getattr(submission, source)
            items = values.items() if isinstance(values, dict) else enumerate(values or [])
            pairs = [(str(key), as_text(value)) for key, value in items]
            if source == "data":
                form_id = submission.form_id
                pairs.sort(key=lambda pair: (positions.get((form_id, pair[0]), 10**6), pair[0]))
            else:
                pairs.sort()
            setattr(submission, target, pairs)


@require_POST
@login_required
def submission_release(request: HttpRequest, submission_id: int) -> HttpResponse:
    user = _editor(request)
    submission = selectors.submission_get(user=user, submission_id=submission_id)
    if submission is None:
        raise Http404("No such submission.")
    problem = ""
    try:
        submission = services_forms.spam_release(submission=submission, actor=user)
    except ApplicationError as exc:
        problem = exc.message
    if _htmx(request):
        row = selectors.submission_get(user=user, submission_id=submission_id)
        _with_pairs([row] if row else [])
        context = {
            "submission": row,
            "can_release": True,
            "problem": problem,
            "released": not problem,
            "back": reverse("capture:submissions"),
        }
        template = "capture/submission_list.html#row"
        return render(request, template, context, status=400 if problem else 200)
    if problem:
        messages.error(request, problem)
    else:
        messages.success(
            request, f"Submission {submission.pk} was released: {submission.get_status_display()}."
        )
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = reverse("capture:submissions")
    return HttpResponseRedirect(next_url, status=303)
