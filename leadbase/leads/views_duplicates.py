"""The Duplicates page and the "Merge" and "Not a duplicate" actions (the lead page shows the
same suggestions for its lead).

The actions are plain forms that POST with the CSRF token. Without JavaScript each one
redirects back (POST, redirect, GET) with a message; with htmx a dismissal swaps its card for
a short note, and a merge loads the kept lead (`HX-Redirect`), since much on the page changed.
Viewers see the suggestions but cannot act on them (403); a suggestion between leads the user
cannot both see is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from leadbase.accounts.models import User
from leadbase.core.errors import ApplicationError, ValidationFailed

from .duplicates import (
    DuplicatePair,
    duplicate_dismiss,
    duplicate_get,
    duplicate_merge,
    duplicate_open_list,
)
from .models import DuplicateSuggestion
from .schemas import MAX_DB_ID
from .views import PAGE_SIZE, _user, _wants_partial


@require_safe
@login_required
def duplicate_list(request: HttpRequest) -> HttpResponse:
    """Open suggestions between leads the user may see, newest first."""
    user = _user(request)
    page = Paginator(duplicate_open_list(user=user), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "pairs": [DuplicatePair.of(s) for s in page.object_list],
        "can_act": user.can_edit_leads,
        "next": request.get_full_path(),
    }
    return render(request, "leads/duplicate_list.html", context)


def _actionable(request: HttpRequest, suggestion_id: int) -> tuple[User, DuplicateSuggestion]:
    user = _user(request)
    found = (
        duplicate_get(user=user, suggestion_id=suggestion_id)
        if 0 < suggestion_id <= MAX_DB_ID
        else None
    )
    if found is None:
        raise Http404("No such duplicate suggestion.")
    if not user.can_edit_leads:
        raise PermissionDenied("Your role may look at duplicate suggestions but not act on them.")
    return user, found


def _back(request: HttpRequest, fallback: str) -> str:
    """The page the form came from (its `next` field) when it is one of ours."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _problem(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    context = {"message": error.message, "back": _back(request, reverse("leads:duplicates"))}
    return render(request, "leads/duplicate_problem.html", context, status=error.status)


@require_POST
@login_required
def duplicate_merge_view(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    """Merge the two leads, keeping the one chosen in `keep` (default: the older one)."""
    user, suggestion = _actionable(request, suggestion_id)
    raw_keep = request.POST.get("keep", "").strip()
    keep = int(raw_keep) if raw_keep.isdecimal() and len(raw_keep) < 20 else None
    try:
        if raw_keep and keep is None:
            raise ValidationFailed("Choose which of the two leads to keep.")
        kept, merged_id = duplicate_merge(suggestion=suggestion, keep=keep, actor=user)
    except ApplicationError as error:
        return _problem(request, error)
    messages.success(request, f"Merged lead #{merged_id} into {kept} (#{kept.pk}).")
    target = _back(request, kept.get_absolute_url())
    try:
        if resolve(target.split("?")[0]).url_name == "detail":
            target = kept.get_absolute_url()  # the page's lead may be the one merged away
    except Resolver404:
        target = kept.get_absolute_url()
    if _wants_partial(request):
        response = HttpResponse(status=200)
        response["HX-Redirect"] = target
        return response
    return HttpResponseRedirect(target)


@require_POST
@login_required
def duplicate_dismiss_view(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    """Mark the suggestion "not a duplicate"."""
    _, suggestion = _actionable(request, suggestion_id)
    duplicate_dismiss(suggestion=suggestion)
    if _wants_partial(request):
        return render(request, "leads/duplicate_card.html#dismissed", {"suggestion": suggestion})
    messages.success(
        request,
        f"Marked {suggestion.lead} (#{suggestion.lead_id}) and {suggestion.candidate} "
        f"(#{suggestion.candidate_id}) as not duplicates.",
    )
    return HttpResponseRedirect(_back(request, reverse("leads:duplicates")))
