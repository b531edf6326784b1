"""Lead export at /capture/export?format=csv|xlsx&<the lead list's filters>: the leads the list
shows for the same query string (and the same user: a sales rep exports only their own)."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_safe

from leadbase.accounts.models import User
from leadbase.leads import selectors
from leadbase.leads.forms import LeadFilterForm

from .exports import CONTENT_TYPES, FORMATS, export_chunks, export_filename

logger = logging.getLogger(__name__)

# Parameters of the list page that are not filters.
_NOT_FILTERS = ("format", "page")


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # pragma: no cover - login_required guarantees it
        raise Http404
    return user


def _owners() -> list[User]:
    return list(User.objects.filter(is_active=True).order_by("first_name", "username"))


@require_safe
@login_required
def lead_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Stream the filtered lead list as CSV or XLSX; a bad format or filter answers 400 with
    a page saying what to fix."""
    user = _user(request)
    fmt = request.GET.get("format", "csv")
    params = request.GET.copy()
    for name in _NOT_FILTERS:
        params.pop(name, None)
    form = LeadFilterForm(params, owners=_owners() if user.sees_all_leads else None)
    if fmt not in FORMATS or not form.is_valid():
        context = {"form": form, "bad_format": fmt if fmt not in FORMATS else "", "params": params}
        return TemplateResponse(request, "capture/exports/invalid.html", context, status=400)
    queryset = selectors.lead_list(user=user, filters=form.to_filters())
    used = sorted(name for name, value in params.items() if value)  # names only: q holds PII
    logger.info("Lead export (%s) by %s, filters: %s", fmt, user.username, ", ".join(used))
    response = StreamingHttpResponse(export_chunks(queryset, fmt), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{export_filename(fmt)}"'
    add_never_cache_headers(response)
    return response
