"""API router: predictive model versions (mounted under /api/v1/ by leadbase/config/api.py).

- `GET /models`: every version, newest first, with its status and the chosen model's metrics.
- `GET /models/{id}`: one version with every model's metrics, the charts' data, the training
  data summary, and the error of a failed one (too little data says what is needed).
- `POST /models/train`: 202 with the new version (status training): poll its `url`.
- `POST /models/{id}/activate`: make a ready or retired version the active one (roll back);
  the open leads are predicted again in the background.

Reads need `read`; training and activating need `write` and an admin's or a marketer's key.
"""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus
from typing import Any, Literal

from django.http import HttpRequest
from django.urls import reverse
from ninja import Body, Field, Router, Schema, Status

from leadbase.core.errors import NotFound
from leadbase.leads.api import errors
from leadbase.leads.schemas import MAX_DB_ID

from .api_access import editor, reader, user_ref
from .models import PredictiveModel
from .predictive.training import model_activate, model_train_start
from .schemas import UserRef

router = Router(tags=["predictive models"])

Status_ = Literal["training", "ready", "active", "retired", "failed"]


class ModelSummaryOut(Schema):
    id: int
    version: int
    status: Status_
    kind: str = Field(description="The model shipped: gbm, logistic, naive_bayes or a blend.")
    metrics: dict[str, Any] = Field(
        description="The shipped model's metrics on the validation rows: roc_auc, pr_auc, "
        "log_loss, brier, top_decile_lift, top_decile_conversion_rate, base_rate, n, positives."
    )
    rows: int | None = Field(description="Leads with a known outcome it learned from.")
    error: str = Field(description="Why training failed, or why the artefact was refused.")
    activation_note: str = Field(description="Why it was (or was not) activated.")
    progress: dict[str, Any] = Field(description="{done, total, step} while training.")
    trained_by: UserRef | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    activated_at: dt.datetime | None
    activated_by: UserRef | None
    url: str


class ModelOut(ModelSummaryOut):
    models: dict[str, Any] = Field(description="Every model's metrics on the same validation.")
    validation: str = Field(description="How the metrics were measured.")
    charts: dict[str, Any] = Field(description="roc, calibration, gains, importance.")
    summary: dict[str, Any] = Field(description="Rows, positives, date range, features, ...")
    seed: int


class ModelList(Schema):
    items: list[ModelSummaryOut]


class TrainIn(Schema):
    activate: bool = Field(
        True,
        description="true: activate it if it beats the active version on the same validation "
        "data (or none is active); false: keep it ready, to activate by hand.",
    )


def _model(model_id: int) -> PredictiveModel:
    models = PredictiveModel.objects.select_related("trained_by", "activated_by")
    found = models.filter(pk=model_id).first() if 0 < model_id <= MAX_DB_ID else None
    if found is None:
        raise NotFound(
            f"There is no model version with id {model_id}. GET /models lists them.",
            fields={"id": "no such model"},
        )
    return found


def summary_out(model: PredictiveModel) -> dict[str, Any]:
    metrics = model.metrics if isinstance(model.metrics, dict) else {}
    summary = model.summary if isinstance(model.summary, dict) else {}
    return {
        "id": model.pk,
        "version": model.version,
        "status": model.status,
        "kind": model.kind,
        "metrics": metrics.get("chosen_metrics") or {},
        "rows": summary.get("rows"),
        "error": model.error,
        "activation_note": model.activation_note,
        "progress": {
            "done": model.progress_done,
            "total": model.progress_total,
            "step": model.progress_step,
        },
        "trained_by": user_ref(model.trained_by),
        "created_at": model.created_at,
        "finished_at": model.finished_at,
        "activated_at": model.activated_at,
        "activated_by": user_ref(model.activated_by),
        "url": reverse("api:get_model", args=[model.pk]),
    }


def full_out(model: PredictiveModel) -> dict[str, Any]:
    metrics = model.metrics if isinstance(model.metrics, dict) else {}
    return {
        **summary_out(model),
        "models": metrics.get("models") or {},
        "validation": model.validation,
        "charts": model.charts if isinstance(model.charts, dict) else {},
        "summary": model.summary if isinstance(model.summary, dict) else {},
        "seed": model.seed,
    }


@router.get(
    "/models",
    response={200: ModelList, **errors()},
    url_name="list_models",
    summary="List predictive model versions",
)
def list_models(request: HttpRequest) -> dict[str, Any]:
    """Newest first, without the artefacts and charts. Needs `read`."""
    reader(request)
    models = (
        PredictiveModel.objects.select_related("trained_by", "activated_by")
        .defer("artefact", "charts")
        .order_by("-version")
    )
    return {"items": [summary_out(model) for model in models]}


@router.post(
    "/models/train",
    response={202: ModelOut, **errors(HTTPStatus.CONFLICT)},
    url_name="train_model",
    summary="Train a new model version (in the background)",
)
def train_model(
    request: HttpRequest,
    payload: Body[TrainIn | None] = None,  # no body is as good as `{}`
) -> Status[Any]:
    """Starts training on the leads whose outcome is known; 202 with the new version in
    status `training`: poll its `url` until it is `ready`, `active` or `failed` (too little
    data: `error` says what there is and what is needed). 409 while another version trains.
    Needs `write` and an admin's or a marketer's key."""
    user = editor(request)
    activate = payload.activate if payload is not None else True
    model = model_train_start(actor=user, activate="auto" if activate else "never")
    return Status(HTTPStatus.ACCEPTED, full_out(_model(model.pk)))


@router.get(
    "/models/{model_id}",
    response={200: ModelOut, **errors(HTTPStatus.NOT_FOUND)},
    url_name="get_model",
    summary="A model version with its metrics and charts",
)
def get_model(request: HttpRequest, model_id: int) -> dict[str, Any]:
    """Needs `read`."""
    reader(request)
    return full_out(_model(model_id))


@router.post(
    "/models/{model_id}/activate",
    response={200: ModelOut, **errors(HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT)},
    url_name="activate_model",
    summary="Activate a model version (or roll back to an older one)",
)
def activate_model(request: HttpRequest, model_id: int) -> dict[str, Any]:
    """Makes this version (ready or retired) the active one at once; every open lead is
    predicted again and reclassified in the background. 409 for a version that is training
    or failed, or whose artefact does not load. Needs `write` and an admin's or a
    marketer's key."""
    user = editor(request)
    model = model_activate(model=_model(model_id), actor=user, later=True)
    return full_out(_model(model.pk))
