"""Rule set pages under /scoring/: every version, the draft editor, and the actions on a
version (new draft, preview, publish or roll back, delete).

Everyone signed in reads; admins and marketers act (403 for the others). Actions are plain
forms answered by redirects (post/redirect/get), so the pages work without JavaScript; with it,
saving a draft swaps the editor in place (HTMX) and keeps the page where it is.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from leadbase.accounts.models import User
from leadbase.core.errors import ApplicationError, ValidationFailed
from leadbase.core.errors import PermissionDenied as NotAllowed

from . import jobs, rule_sets, selectors
from .forms import RuleSetForm, definition_text
from .models import RuleSet, RuleSetStatus
from .summary import summarize


def signed_in(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # pragma: no cover - login_required guarantees it
        raise Http404
    return user


def may_edit(user: User) -> bool:
    try:
        rule_sets.require_editor(user)
    except NotAllowed:
        return False
    return user.is_active


def editor(request: HttpRequest) -> User:
    user = signed_in(request)
    if not may_edit(user):
        raise PermissionDenied(
            "Only admins and marketers change scoring rules; your role is "
            f"{user.get_role_display()}."
        )
    return user


def rule_set_or_404(version: int) -> RuleSet:
    found = selectors.rule_set_get(version=version)
    if found is None:
        raise Http404("No such rule set version.")
    return found


def _detail_url(rule_set: RuleSet) -> str:
    return reverse("scoring:rule-set", args=[rule_set.version])


@require_safe
@login_required
def rule_set_list(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    active = rule_sets.rule_set_active()
    context = {
        "rule_sets": list(selectors.rule_set_list()),
        "active": active,
        "may_edit": may_edit(user),
    }
    return render(request, "scoring/rule_set_list.html", context)


@require_POST
@login_required
def rule_set_new(request: HttpRequest) -> HttpResponse:
    """A new draft: a copy of the version named in `from`, else of the one in force."""
    user = editor(request)
    source = request.POST.get("from", "")
    definition = None
    if source.isdigit():
        definition = rule_set_or_404(int(source)).definition
    try:
        draft = rule_sets.rule_set_draft_create(actor=user, definition=definition)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("scoring:rule-sets"))
    messages.success(request, f"Draft v{draft.version} created: edit it, preview, then publish.")
    return HttpResponseRedirect(_detail_url(draft))


def _context(
    user: User,
    rule_set: RuleSet,
    form: RuleSetForm | None = None,
    problems: list[tuple[str, str]] | None = None,
    error: str = "",
) -> dict[str, Any]:
    editable = rule_set.status == RuleSetStatus.DRAFT and may_edit(user)
    if editable and form is None:
        form = RuleSetForm(
            initial={"definition": definition_text(rule_set.definition), "note": rule_set.note}
        )
    return {
        "rule_set": rule_set,
        "summary": summarize(rule_set.definition),
        "definition_text": definition_text(rule_set.definition),
        "form": form if editable else None,
        "problems": problems or [],
        "error": error,
        "may_edit": may_edit(user),
        "editable": editable,
        "preview": selectors.scoring_job_latest(rule_set=rule_set),
    }


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def rule_set_detail(request: HttpRequest, version: int) -> HttpResponse:
    """A version's rules; for a draft, the editor (POST saves it)."""
    user = signed_in(request)
    rule_set = rule_set_or_404(version)
    if request.method != "POST":
        return render(request, "scoring/rule_set_detail.html", _context(user, rule_set))
    user = editor(request)
    form = RuleSetForm(request.POST)
    htmx = request.headers.get("HX-Request") == "true"
    template = "scoring/rule_set_detail.html" + ("#editor" if htmx else "")
    if not form.is_valid():
        problems = [(name, str(e)) for name, errs in form.errors.items() for e in errs]
        context = _context(user, rule_set, form, problems, "Nothing was saved.")
        return render(request, template, context, status=HTTPStatus.BAD_REQUEST)
    try:
        rule_sets.rule_set_draft_update(
            rule_set=rule_set,
            actor=user,
            definition=form.cleaned_data["definition"],
            note=form.cleaned_data["note"],
        )
    except ValidationFailed as exc:
        problems = sorted(exc.fields.items()) or [("definition", exc.message)]
        context = _context(user, rule_set, form, problems, "Nothing was saved.")
        return render(request, template, context, status=HTTPStatus.BAD_REQUEST)
    except ApplicationError as exc:
        context = _context(user, rule_set, form, error=exc.message)
        return render(request, template, context, status=HTTPStatus.BAD_REQUEST)
    if htmx:
        context = _context(user, rule_set)
        context["saved"] = True
        return render(request, template, context)
    messages.success(request, f"Draft v{rule_set.version} saved.")
    return HttpResponseRedirect(_detail_url(rule_set))


@require_POST
@login_required
def rule_set_delete(request: HttpRequest, version: int) -> HttpResponse:
    user = editor(request)
    rule_set = rule_set_or_404(version)
    try:
        rule_sets.rule_set_delete(rule_set=rule_set, actor=user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(_detail_url(rule_set))
    messages.success(request, f"Draft v{version} deleted.")
    return HttpResponseRedirect(reverse("scoring:rule-sets"))


@require_POST
@login_required
def rule_set_preview(request: HttpRequest, version: int) -> HttpResponse:
    """Start a preview of the version (how leads would move) and show its progress."""
    user = editor(request)
    rule_set = rule_set_or_404(version)
    try:
        job = jobs.preview_start(rule_set=rule_set, actor=user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(_detail_url(rule_set))
    return HttpResponseRedirect(reverse("scoring:job", args=[job.pk]))


@require_POST
@login_required
def rule_set_publish(request: HttpRequest, version: int) -> HttpResponse:
    """Put the version in force (a retired one: roll back) and recompute every lead."""
    user = editor(request)
    rule_set = rule_set_or_404(version)
    was = rule_set.status
    try:
        job = jobs.publish_start(rule_set=rule_set, actor=user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(_detail_url(rule_set))
    verb = "Rolled back to" if was == RuleSetStatus.RETIRED else "Published"
    messages.success(request, f"{verb} v{rule_set.version}; every lead is being rescored.")
    return HttpResponseRedirect(reverse("scoring:job", args=[job.pk]))
