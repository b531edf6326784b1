"""A lead's scores explained: the card the lead page loads (HTMX, on load) and the full page
at /scoring/leads/<id>/ (also the link for browsers without JavaScript). A lead the user may
not see is a 404, as on the lead page."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from leadbase.leads.models import Lead
from leadbase.leads.selectors import lead_visible_to

from .selectors import lead_transitions
from .services import lead_score_explain
from .summary import move_label
from .views import signed_in

CARD_EVENT_LINES = 8  # the newest event lines on the card; the page lists them all
PAGE_EVENT_LINES = 500


def _lead_or_404(request: HttpRequest, lead_id: int) -> Lead:
    user = signed_in(request)
    lead = lead_visible_to(user).select_related("company").filter(pk=lead_id).first()
    if lead is None:
        raise Http404("No such lead.")
    return lead


def _context(lead: Lead, event_lines: int) -> dict[str, Any]:
    explained = lead_score_explain(lead=lead)
    events = explained.get("event_lines", [])
    return {
        "lead": lead,
        "score": explained,
        "event_lines": events[:event_lines],
        "more_events": max(0, len(events) - event_lines),
        "capped_rules": [
            r for r in explained.get("rule_lines", []) if r.get("capped") or r.get("day_capped")
        ],
        "qualification_label": move_label("qualification", lead.qualification),
    }


@require_safe
@login_required
def lead_score_card(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = _lead_or_404(request, lead_id)
    context = _context(lead, CARD_EVENT_LINES)
    return render(request, "scoring/lead_score.html#card", context)


@require_safe
@login_required
def lead_score_page(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = _lead_or_404(request, lead_id)
    context = _context(lead, PAGE_EVENT_LINES)
    context["full_page"] = True
    context["transitions"] = [
        (t, move_label(t.kind, t.from_value), move_label(t.kind, t.to_value))
        for t in lead_transitions(lead=lead)
    ]
    return render(request, "scoring/lead_score.html", context)
