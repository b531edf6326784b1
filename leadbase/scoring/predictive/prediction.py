"""Predicting with the active model version: one lead on each scoring update, every open lead
after an activation, and a lead's probability with its top factors (lead page, API).

The loaded predictor is kept per process, keyed by the version and the artefact's SHA-256;
which version is active is read again at most every ACTIVE_CACHE_SECONDS. An artefact that
does not load (its hash differs from the one stored at training, or the safe loader refuses
it) is refused: the error is stored on the version (shown on its page), the leads keep the
probability they had, and the rule scores go on as before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from leadbase.core.errors import ApplicationError
from leadbase.core.fastinsert import update_rows
from leadbase.leads.models import Lead

from ..models import ModelStatus, PredictiveModel
from .dataset import is_open, open_lead_ids
from .features import FeatureSpec, Table, as_of, feature_table

if TYPE_CHECKING:  # scikit-learn is imported when a model is first used, not at start-up
    from leadbase.scoring_engine.learn import Predictor

logger = logging.getLogger(__name__)

ACTIVE_CACHE_SECONDS = 2.0
BATCH = 2_000
TOP_FACTORS = 5


class ModelUnavailable(ApplicationError):
    status = 409


@dataclass(frozen=True)
class ActiveRef:
    pk: int
    version: int
    sha256: str
    spec: FeatureSpec


_predictors: dict[tuple[int, str], Predictor] = {}
_refused: dict[tuple[int, str], str] = {}
_active: dict[str, tuple[float, ActiveRef | None]] = {}
_lock = threading.Lock()


def forget() -> None:
    """Drop what this process keeps (after an activation; tests)."""
    with _lock:
        _active.clear()
        _predictors.clear()
        _refused.clear()


def artefact_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def active_ref(*, fresh: bool = False) -> ActiveRef | None:
    cached = _active.get("active")
    if not fresh and cached and time.monotonic() - cached[0] < ACTIVE_CACHE_SECONDS:
        return cached[1]
    row = (
        PredictiveModel.objects.filter(status=ModelStatus.ACTIVE)
        .values("pk", "version", "artefact_sha256", "summary")
        .first()
    )
    ref = None
    if row is not None:
        spec = FeatureSpec.from_dict((row["summary"] or {}).get("spec") or {})
        ref = ActiveRef(row["pk"], row["version"], row["artefact_sha256"], spec)
    _active["active"] = (time.monotonic(), ref)
    return ref


def predictor_load(model: PredictiveModel) -> Predictor:
    """The version's predictor, checked: ModelUnavailable when the artefact is missing,
    altered since training (hash) or refused by the safe loader."""
    key = (model.pk, model.artefact_sha256)
    if key in _predictors:
        return _predictors[key]
    data = bytes(model.artefact) if model.artefact is not None else b""
    if not data:
        raise ModelUnavailable(f"Model v{model.version} has no artefact (it did not train).")
    if artefact_hash(data) != model.artefact_sha256:
        raise ModelUnavailable(
            f"Model v{model.version}'s artefact was altered after training (its SHA-256 no "
            "longer matches): it is refused. Train a new version or activate another one."
        )
    from leadbase.scoring_engine.learn import ArtefactRefused, loads

    try:
        predictor = loads(data)
    except ArtefactRefused as exc:
        raise ModelUnavailable(
            f"Model v{model.version}'s artefact was refused by the safe loader: {exc}. Train a "
            "new version or activate another one."
        ) from None
    with _lock:
        if len(_predictors) > 4:
            _predictors.clear()
        _predictors[key] = predictor
    return predictor


def active_predictor() -> tuple[ActiveRef, Predictor] | None:
    """The active version and its predictor; None when there is none or it cannot be loaded
    (the refusal is logged and stored on the version once per process)."""
    ref = active_ref()
    if ref is None:
        return None
    key = (ref.pk, ref.sha256)
    if key in _refused:
        return None
    predictor = _predictors.get(key)
    if predictor is None:
        model = PredictiveModel.objects.filter(pk=ref.pk).first()
        if model is None:
            return None
        try:
            predictor = predictor_load(model)
        except ModelUnavailable as exc:
            _refused[key] = exc.message
            logger.error("Predictive model refused: %s", exc.message)
            PredictiveModel.objects.filter(pk=ref.pk).update(error=exc.message[:2000])
            return None
    return ref, predictor


def _probabilities(predictor: Predictor, table: Table) -> list[float]:
    return [float(p) for p in predictor.predict_proba(table)]


def leads_predict(leads: Mapping[int, Mapping[str, Any]], now: dt.datetime) -> dict[int, float]:
    """Probabilities of the open ones among these leads (their fields as leads_rescore reads
    them) with the active model, written to the leads; {} when no model is active. Called by
    leads_rescore inside its transaction, before classifying."""
    active = active_predictor()
    if active is None:
        return {}
    ref, predictor = active
    ids = [pk for pk, lead in leads.items() if is_open(lead)]
    if not ids:
        return {}
    try:
        table, found = feature_table(lead_ids=ids, cutoffs=as_of(now, len(ids)), spec=ref.spec)
        probabilities = dict(zip(found, _probabilities(predictor, table), strict=True))
    except Exception:  # a broken model must never stop the rule scores
        logger.exception("Predicting %d leads with model v%s failed", len(ids), ref.version)
        return {}
    update_rows(Lead, ["predicted_probability"], [[pk, p] for pk, p in probabilities.items()])
    return probabilities


def open_leads_predict(
    *,
    progress: Callable[[int, int], None] | None = None,
    at: dt.datetime | None = None,
    classify: bool = True,
) -> int:
    """Predict every open lead with the active model and reclassify it (leads_rescore, in
    batches: the probability is written before each lead is classified; `classify=False`
    keeps the classes). Returns the number of leads rescored."""
    from ..services import leads_rescore  # services calls leads_predict: imported when used

    ids = open_lead_ids()
    done = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        done += leads_rescore(chunk, at=at, classify=classify).scored
        if progress is not None:
            progress(min(start + len(chunk), len(ids)), len(ids))
    return done


def lead_prediction(*, lead: Lead, at: dt.datetime | None = None) -> dict[str, Any] | None:
    """{probability, model_version, factors: [{feature, label, value, delta, text}]} for the
    lead page and the API, computed now; None when no model is active (or it cannot be
    loaded)."""
    active = active_predictor()
    if active is None:
        return None
    ref, predictor = active
    now = at or timezone.now()
    table, found = feature_table(lead_ids=[lead.pk], cutoffs=as_of(now, 1), spec=ref.spec)
    if not found:
        return None
    probability = _probabilities(predictor, table)[0]
    factors = [
        {
            "feature": f.feature,
            "label": f.label,
            "value": f.value,
            "delta": round(float(f.delta), 4),
            "text": factor_text(f.label, f.value, float(f.delta)),
        }
        for f in predictor.top_factors(table, k=TOP_FACTORS)
    ]
    return {
        "probability": round(probability, 4),
        "model_version": ref.version,
        "factors": factors,
    }


def factor_text(label: str, value: str, delta: float) -> str:
    """ "Visits to the pricing page in the last 7 days = 3: +12 points of probability"."""
    points = delta * 100
    shown = f"{points:+.0f}" if abs(points) >= 0.95 else f"{points:+.1f}"
    unit = "point" if shown in ("+1", "-1") else "points"
    return f"{label} = {_value_text(value)}: {shown} {unit} of probability"


def _value_text(value: str) -> str:
    """Numbers as a person reads them (2.4 days, not 2.4166666)."""
    try:
        number = float(value)
    except ValueError:
        return value or "unknown"
    return f"{number:.0f}" if number.is_integer() else f"{number:.1f}"


def leads_predict_now(lead_ids: list[int]) -> dict[int, float]:
    """Predict these leads now outside a rescore (tests, the CLI)."""
    leads = {
        row["pk"]: row
        for row in Lead.objects.filter(pk__in=lead_ids).values(
            "pk", "lifecycle_stage", "sales_status", "became_customer_at"
        )
    }
    with transaction.atomic():
        return leads_predict(leads, timezone.now())
