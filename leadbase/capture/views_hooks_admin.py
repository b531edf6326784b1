"""Webhook sources in the UI, at /capture/webhooks/ (admins only: sources hold secrets).

The list shows each source with the URL to paste into its platform; a source's page shows
its setup, secret (revealed on demand), and its recent deliveries with their outcome and
payload (escaped, as everything a platform sends is untrusted text).
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from leadbase.accounts.models import User
from leadbase.core.errors import ValidationFailed

from . import selectors_hooks as selectors
from .forms_hooks import WebhookSourceForm
from .hook_mapping import DEFAULTS
from .models import DeliveryStatus, WebhookDelivery, WebhookKind, WebhookSource
from .services_hooks import (
    webhook_source_create,
    webhook_source_rotate_secret,
    webhook_source_update,
)

DELIVERIES_SHOWN = 50


def _admin(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not user.is_leadbase_admin:
        raise PermissionDenied("Only admins configure webhook sources (they hold secrets).")
    return user


def _source_or_404(source_id: int) -> WebhookSource:
    source = selectors.webhook_source_get(source_id=source_id)
    if source is None:
        raise Http404("No such webhook source.")
    return source


def _delivery_rows(deliveries: list[WebhookDelivery]) -> list[dict[str, object]]:
    return [
        {
            "delivery": d,
            "payload": json.dumps(d.payload, indent=2, ensure_ascii=False, sort_keys=True)
            if d.payload
            else "",
        }
        for d in deliveries
    ]


@require_safe
@login_required
def webhook_list(request: HttpRequest) -> HttpResponse:
    _admin(request)
    sources = [
        {"source": s, "url": selectors.hook_url(s, request)}
        for s in selectors.webhook_source_list()
    ]
    context = {
        "sources": sources,
        "unmatched": _delivery_rows(selectors.delivery_list(source=None, limit=20)),
        "linkedin_secrets_differ": selectors.linkedin_secrets_differ(),
    }
    return render(request, "capture/hooks/source_list.html", context)


def _save(request: HttpRequest, form: WebhookSourceForm) -> WebhookSource | None:
    """Validate and save; ValidationFailed fields become form errors."""
    if not form.is_valid():
        return None
    try:
        if form.source is None:
            return webhook_source_create(kind=form.cleaned_data["kind"], **form.values())
        return webhook_source_update(source=form.source, changes=form.values())
    except ValidationFailed as exc:
        for name, message in exc.fields.items():
            field = name if name in form.fields else None
            form.add_error(field, message if field else f"{name}: {message}")
        return None


@require_http_methods(["GET", "POST"])
@login_required
def webhook_create(request: HttpRequest) -> HttpResponse:
    _admin(request)
    kind = request.GET.get("kind", "")
    initial = {"kind": kind} if kind in WebhookKind.values else {}
    form = WebhookSourceForm(request.POST or None, initial=initial)
    if request.method == "POST" and (source := _save(request, form)) is not None:
        messages.success(request, f"Webhook source “{source.name}” created.")
        return redirect("capture:webhook_detail", source_id=source.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "capture/hooks/source_form.html",
        {"form": form, "source": None, "defaults": DEFAULTS},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_required
def webhook_edit(request: HttpRequest, source_id: int) -> HttpResponse:
    _admin(request)
    source = _source_or_404(source_id)
    form = WebhookSourceForm(request.POST or None, source=source)
    if request.method == "POST" and _save(request, form) is not None:
        messages.success(request, "Changes saved.")
        return redirect("capture:webhook_detail", source_id=source.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "capture/hooks/source_form.html",
        {"form": form, "source": source, "defaults": DEFAULTS},
        status=status,
    )


@require_safe
@login_required
def webhook_detail(request: HttpRequest, source_id: int) -> HttpResponse:
    _admin(request)
    source = _source_or_404(source_id)
    status = request.GET.get("status", "")
    if status not in DeliveryStatus.values:
        status = ""
    deliveries = selectors.delivery_list(source=source, status=status, limit=DELIVERIES_SHOWN)
    context = {
        "source": source,
        "url": selectors.hook_url(source, request),
        "deliveries": _delivery_rows(deliveries),
        "status": status,
        "statuses": DeliveryStatus.choices,
        "mapping": json.dumps(source.field_mapping or {}, indent=2, ensure_ascii=False),
        "defaults": DEFAULTS.get(source.kind, {}),
        "linkedin_secrets_differ": source.kind == WebhookKind.LINKEDIN
        and selectors.linkedin_secrets_differ(),
    }
    partial = (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )
    template = "capture/hooks/source_detail.html"
    response = render(request, f"{template}#deliveries" if partial else template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_POST
@login_required
def webhook_rotate(request: HttpRequest, source_id: int) -> HttpResponse:
    _admin(request)
    source = _source_or_404(source_id)
    try:
        webhook_source_rotate_secret(source=source)
    except ValidationFailed as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, "New secret generated. The old one no longer works: update the sender."
        )
    return redirect("capture:webhook_detail", source_id=source.pk)
