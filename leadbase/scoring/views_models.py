"""Predictive model pages under /scoring/models/: every version with its metrics side by side
(train, activate, roll back), and a version's page with its charts (ROC curve, calibration,
gains, feature importance: Chart.js, fed by json_script, no inline script) or, when it failed,
why (too little data says what there is and what is needed).

Everyone signed in reads; admins and marketers train and activate (403 for the others).
Training runs in the background: the pages show its progress, refreshed by HTMX every second
(without JavaScript the page reloads itself).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST, require_safe

from leadbase.core.errors import ApplicationError

from .models import ModelStatus, PredictiveModel
from .predictive.training import model_activate, model_train_start
from .views import editor, may_edit, signed_in

METRICS: tuple[tuple[str, str, str], ...] = (
    # (key, heading, format: "3" three decimals, "2x" a ratio, "%" a share)
    ("roc_auc", "ROC AUC", "3"),
    ("pr_auc", "PR AUC", "3"),
    ("log_loss", "Log loss", "3"),
    ("brier", "Brier", "3"),
    ("top_decile_lift", "Top-decile lift", "2x"),
    ("top_decile_conversion_rate", "Top-decile conversion", "%"),
)
MODEL_NAMES = {
    "gbm": "Gradient boosting",
    "logistic": "Logistic regression",
    "naive_bayes": "Naive Bayes (baseline)",
    "blend": "Blend",
}


def _shown(value: Any, style: str) -> str:
    if not isinstance(value, int | float):
        return "—"
    if style == "%":
        return f"{value * 100:.1f} %"
    if style == "2x":
        return f"{value:.2f}\N{MULTIPLICATION SIGN}"
    return f"{value:.3f}"


def metric_cells(metrics: Any) -> list[str]:
    found = metrics if isinstance(metrics, dict) else {}
    return [_shown(found.get(key), style) for key, _, style in METRICS]


def _model_or_404(version: int) -> PredictiveModel:
    found = PredictiveModel.objects.select_related("trained_by", "activated_by").filter(
        version=version
    )
    model = found.first()
    if model is None:
        raise Http404("No such model version.")
    return model


def _training() -> PredictiveModel | None:
    return (
        PredictiveModel.objects.defer("artefact", "charts")
        .filter(status=ModelStatus.TRAINING)
        .order_by("-version")
        .first()
    )


def _percent(model: PredictiveModel | None) -> int:
    if model is None or not model.progress_total:
        return 0
    return min(100, model.progress_done * 100 // model.progress_total)


@require_safe
@login_required
def model_list(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    models = list(
        PredictiveModel.objects.select_related("trained_by", "activated_by")
        .defer("artefact", "charts")
        .order_by("-version")
    )
    rows = [
        {
            "model": m,
            "cells": metric_cells((m.metrics or {}).get("chosen_metrics")),
            "kind": MODEL_NAMES.get(m.kind, m.kind),
            "rows": (m.summary or {}).get("rows"),
        }
        for m in models
    ]
    training = _training()
    context = {
        "rows": rows,
        "headings": [h for _, h, _ in METRICS],
        "active": next((m for m in models if m.status == ModelStatus.ACTIVE), None),
        "training": training,
        "percent": _percent(training),
        "may_edit": may_edit(user),
    }
    return render(request, "scoring/model_list.html", context)


def _detail_context(request: HttpRequest, model: PredictiveModel) -> dict[str, Any]:
    metrics = model.metrics if isinstance(model.metrics, dict) else {}
    per_model = metrics.get("models") or {}
    compared = [
        {
            "name": MODEL_NAMES.get(name, name),
            "chosen": name == model.kind,
            "cells": metric_cells(values),
        }
        for name, values in per_model.items()
    ]
    summary = model.summary if isinstance(model.summary, dict) else {}
    charts = model.charts if isinstance(model.charts, dict) else {}
    return {
        "model": model,
        "kind": MODEL_NAMES.get(model.kind, model.kind),
        "headings": [h for _, h, _ in METRICS],
        "compared": compared,
        "chosen_cells": metric_cells(metrics.get("chosen_metrics")),
        "summary": summary,
        "skipped": sorted((summary.get("skipped") or {}).items()),
        "importance": (charts.get("importance") or [])[:15],
        "charts": charts,
        "has_charts": bool(charts.get("roc")),
        "in_progress": model.status == ModelStatus.TRAINING,
        "percent": _percent(model),
        "may_edit": may_edit(signed_in(request)),
    }


@require_safe
@login_required
def model_detail(request: HttpRequest, version: int) -> HttpResponse:
    model = _model_or_404(version)
    return render(request, "scoring/model_detail.html", _detail_context(request, model))


@require_safe
@login_required
def model_progress(request: HttpRequest, version: int) -> HttpResponse:
    """The part of a version's page that changes while it trains (HTMX polls it); when the
    training ends it asks the browser to load the whole page (the charts come with it)."""
    model = _model_or_404(version)
    context = _detail_context(request, model)
    response = render(request, "scoring/model_detail.html#progress", context)
    if not context["in_progress"] and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    patch_vary_headers(response, ["HX-Request"])
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def model_train(request: HttpRequest) -> HttpResponse:
    user = editor(request)
    keep = request.POST.get("activate") == "no"
    try:
        model = model_train_start(actor=user, activate="never" if keep else "auto")
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("scoring:models"))
    return HttpResponseRedirect(reverse("scoring:model", args=[model.version]))


@require_POST
@login_required
def model_activate_view(request: HttpRequest, version: int) -> HttpResponse:
    user = editor(request)
    model = _model_or_404(version)
    try:
        model_activate(model=model, actor=user, later=True)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"Model v{model.version} is active. Open leads are being predicted again in the "
            "background.",
        )
    return HttpResponseRedirect(reverse("scoring:models"))
