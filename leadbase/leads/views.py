"""Server-rendered lead pages. The list answers HTMX requests with only its results partial."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe

from leadbase.accounts.models import User

from . import selectors
from .duplicates import DuplicatePair, duplicate_open_list
from .forms import LeadFilterForm
from .merge_rules import as_text
from .models import Lead

PAGE_SIZE = 50
MAX_SUGGESTIONS_SHOWN = 20  # open duplicate suggestions on a lead's page


def _user(request: HttpRequest) -> User:
    """The signed-in user (the views are behind login_required)."""
    user = request.user
    if not isinstance(user, User):  # pragma: no cover - login_required guarantees it
        raise Http404
    return user


def _wants_partial(request: HttpRequest) -> bool:
    """An HTMX request swaps only the results; a history restore needs the whole page."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def _owners() -> list[User]:
    return list(User.objects.filter(is_active=True).order_by("first_name", "username"))


@require_safe
@login_required
def lead_list(request: HttpRequest) -> HttpResponse:
    """Leads the user may see, filtered by the query string (bookmarkable).

    Invalid filter values answer 400 with the page (or partial) saying what to fix. Counting
    is cheap enough to show page numbers: on 100,000 leads in SQLite the COUNT(*) takes
    20-70 ms (a search scans search_text) and the whole page 40-140 ms, so the Paginator's
    count stays; with far more leads, a next/previous pager would avoid it.
    """
    user = _user(request)
    form = LeadFilterForm(request.GET, owners=_owners() if user.sees_all_leads else None)
    page: Page[Lead] | None = None
    status = 200
    if form.is_valid():
        paginator = Paginator(selectors.lead_list(user=user, filters=form.to_filters()), PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
    else:
        status = 400
    context = {
        "form": form,
        "page": page,
        "page_range": (
            list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))
            if page is not None
            else []
        ),
        "sort": form.active_sort,
    }
    template = "leads/lead_list.html#results" if _wants_partial(request) else "leads/lead_list.html"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_safe
@login_required
def lead_detail(request: HttpRequest, lead_id: int) -> HttpResponse:
    user = _user(request)
    lead = selectors.lead_get(user=user, lead_id=lead_id)
    if lead is None:
        raise Http404("No such lead.")
    attributes = lead.attributes if isinstance(lead.attributes, dict) else {}
    duplicates = duplicate_open_list(user=user, lead_id=lead.pk)[:MAX_SUGGESTIONS_SHOWN]
    context = {
        "lead": lead,
        "company": lead.company,
        "consents": list(lead.consents.all()[:100]),
        "attributes": [(str(key), as_text(value)) for key, value in sorted(attributes.items())],
        "timeline": selectors.lead_timeline(lead=lead),
        "duplicates": [DuplicatePair.of(suggestion) for suggestion in duplicates],
        "can_act": user.can_edit_leads,
    }
    return render(request, "leads/lead_detail.html", context)
