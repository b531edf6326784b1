"""Training a model version on the database's outcomes, storing it, and activating it.

- `model_train_start(actor, activate)`: a new version (status training) and its background
  task; `model_train_run(id)` does the work (the task, or the CLI in its own process);
  `model_train(...)` is both at once.
- Too little data (`learn.TooLittleData`) gives a failed version whose error says what there
  is and what is needed; the rule scores are not touched.
- Auto-activation (`activate="auto"`): the new version is activated when no version is active,
  or when it beats the active one on the same validation leads, ones the active version never
  trained on: those whose cut-off is later than the latest cut-off of the active version's
  training data (`summary.latest_cutoff`). The new version's probabilities there come from its
  model fitted on the training part only (`validation_proba`); the active version predicts the
  same leads with its own columns as of the same cut-offs; the lower log loss wins (log loss
  rewards both ranking and calibration; a tie keeps the active one). With fewer than
  UNSEEN_EACH_CLASS converted or not converted such leads, all validation leads are compared
  (the active version may have learned from some: it is favoured). `metrics.active_compared`
  records which comparison was made. A version that loses stays ready, activatable by hand.
- `model_activate(model, actor)`: activate a ready or retired version by hand (roll back =
  activating an older one), then predict every open lead and reclassify it.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.tasks import task
from django.utils import timezone

from leadbase.accounts.models import User
from leadbase.core.errors import ApplicationError

from ..models import ModelStatus, PredictiveModel
from ..rule_sets import require_editor
from . import prediction
from .dataset import Dataset, dataset_build, dataset_for, quiet_days
from .features import FeatureSpec

if TYPE_CHECKING:
    from leadbase.scoring_engine.learn import TrainingResult

logger = logging.getLogger(__name__)

Activate = Literal["auto", "always", "never"]
Progress = Callable[[int, int, str], None]  # (done, total, what): total is 100
PROGRESS_EVERY_SECONDS = 0.5
STALE_TRAINING = dt.timedelta(hours=6)  # a training row this old lost its worker
# Shares of the progress bar: reading the data, fitting, storing, predicting open leads.
READ_END, FIT_END, STORE_END = 10, 80, 85
# Comparing with the active version on the validation leads it never trained on needs at
# least this many converted and this many not converted among them (else: all validation leads).
UNSEEN_EACH_CLASS = 20


class TrainingBusy(ApplicationError):
    status = 409


class NotActivatable(ApplicationError):
    status = 409


def _next_version() -> int:
    return int(PredictiveModel.objects.aggregate(top=Max("version"))["top"] or 0) + 1


def model_train_start(
    *, actor: User | None, activate: Activate = "auto", enqueue: bool = True, seed: int = 0
) -> PredictiveModel:
    """A new version in status `training`, run by a background task (enqueue) or by the
    caller (model_train_run). One training at a time."""
    require_editor(actor)
    for attempt in range(3):
        try:
            with transaction.atomic():
                recent = timezone.now() - STALE_TRAINING
                busy = PredictiveModel.objects.select_for_update().filter(
                    status=ModelStatus.TRAINING, created_at__gte=recent
                )
                if busy.exists():
                    raise TrainingBusy(
                        f"Model v{busy[0].version} is training; wait for it to finish."
                    )
                model = PredictiveModel.objects.create(
                    version=_next_version(),
                    trained_by=actor,
                    seed=seed,
                    progress_total=100,
                    progress_step="Waiting for a worker",
                )
                if enqueue:
                    transaction.on_commit(_enqueue_training(model.pk, activate))
                return model
        except IntegrityError:  # two trainings took the same number
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _enqueue_training(model_id: int, activate: Activate) -> Callable[[], None]:
    def enqueue() -> None:
        model_train_task.enqueue(model_id, activate)

    return enqueue


def model_train(
    *,
    actor: User | None = None,
    progress: Progress | None = None,
    activate: Activate = "auto",
    classify: bool = True,
) -> PredictiveModel:
    """Train a version now, in this process (the CLI, tests). `classify=False`: on activation
    the open leads get their probabilities but keep their classes (the demo, whose classes
    come from its own history)."""
    model = model_train_start(actor=actor, activate=activate, enqueue=False)
    return model_train_run(model.pk, activate=activate, progress=progress, classify=classify)


def _writer(model: PredictiveModel, progress: Progress | None) -> Progress:
    last = [0.0]

    def write(done: int, total: int, what: str) -> None:
        if progress is not None:
            progress(done, total, what)
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY_SECONDS and done < total:
            return
        last[0] = now
        PredictiveModel.objects.filter(pk=model.pk).update(
            progress_done=done, progress_total=total, progress_step=what[:200]
        )

    return write


def model_train_run(
    model_id: int,
    *,
    activate: Activate = "auto",
    progress: Progress | None = None,
    classify: bool = True,
) -> PredictiveModel:
    """Train the version `model_id` (in status training): build the data, fit, store, and
    activate when `activate` says so (see the module's notes)."""
    from leadbase.scoring_engine.learn import TooLittleData

    model = PredictiveModel.objects.get(pk=model_id)
    if model.status != ModelStatus.TRAINING:
        return model
    write = _writer(model, progress)
    data: Dataset | None = None
    try:
        write(0, 100, "Reading outcomes and events")
        data = dataset_build()
        write(READ_END, 100, f"Training on {len(data.y):,} leads with a known outcome")
        result = _fit(data, model.seed, write)
    except TooLittleData as exc:
        return _failed(model, _too_little(str(exc)), summary=_data_summary(data))
    except Exception as exc:
        logger.exception("Training model v%s failed", model.version)
        return _failed(model, f"{type(exc).__name__}: {exc}", summary={})
    try:
        _store(model, data, result)
    except Exception as exc:
        logger.exception("Storing model v%s failed", model.version)
        return _failed(model, f"{type(exc).__name__}: {exc}", summary=_data_summary(data))
    write(STORE_END, 100, "Comparing with the active model")
    try:
        decision = _decide(model, data, result, activate)
    except Exception as exc:  # e.g. leads deleted meanwhile: the version stays, ready
        logger.exception("Comparing model v%s with the active one failed", model.version)
        decision = (
            False,
            f"Not activated: comparing it with the active version failed "
            f"({type(exc).__name__}: {exc}); activate it by hand if wanted.",
        )
    model.activation_note = decision[1]
    model.save(update_fields=["activation_note", "updated_at"])
    if decision[0]:
        write(STORE_END, 100, "Predicting open leads")
        model_activate(
            model=model,
            actor=None,  # the trainer may be anyone allowed to train; the system activates
            note=decision[1],
            classify=classify,
            progress=lambda d, t: write(STORE_END + (100 - STORE_END) * d // max(t, 1), 100,
                                        f"Predicting open leads ({d:,} of {t:,})"),
        )  # fmt: skip
    write(100, 100, "Done")
    model.refresh_from_db()
    return model


def _too_little(message: str) -> str:
    return (
        f"Too little data to learn from: {message}. Leads count once their outcome is known "
        "(customer or won; lost, unqualified, disqualified, or quiet for "
        f"{quiet_days():g} days). The rule scores work as before; train again when there are "
        "more outcomes."
    )


def _data_summary(data: Dataset | None) -> dict[str, Any]:
    if data is None:
        return {}
    return {**data.summary, "rows": len(data.y), "spec": data.spec.to_dict()}


def _fit(data: Dataset, seed: int, write: Progress) -> TrainingResult:
    from leadbase.scoring_engine.learn import fit, infer_schema

    schema = infer_schema(data.table, kinds=data.spec.kinds())

    def fitting(done: int, total: int, what: str) -> None:
        share = READ_END + (FIT_END - READ_END) * done // max(total, 1)
        write(share, 100, what)

    return fit(
        data.table,
        data.y,
        times=data.times,
        seed=seed,
        schema=schema,
        labels=data.spec.labels(),
        progress=fitting,
    )


def _failed(model: PredictiveModel, error: str, *, summary: dict[str, Any]) -> PredictiveModel:
    model.status = ModelStatus.FAILED
    model.error = error[:4000]
    model.summary = summary
    model.finished_at = timezone.now()
    model.progress_done = model.progress_total = 100
    model.progress_step = "Failed"
    model.save()
    return model


def _store(model: PredictiveModel, data: Dataset, result: TrainingResult) -> None:
    from leadbase.scoring_engine.learn import dumps

    artefact = dumps(result.predictor)
    model.artefact = artefact
    model.artefact_sha256 = prediction.artefact_hash(artefact)
    model.kind = result.chosen
    model.metrics = {
        "models": result.models,
        "chosen": result.chosen,
        "chosen_metrics": result.models.get(result.chosen, {}),
    }
    model.charts = {
        "roc": result.roc,
        "calibration": result.calibration,
        "gains": result.gains,
        "importance": result.importance,
    }
    latest = float(data.times.max()) if data.times.size else None
    model.summary = {
        **result.summary,
        **data.summary,
        "latest_cutoff": latest,  # what a later version's comparison counts as unseen
        "spec": data.spec.to_dict(),
    }
    model.validation = result.validation
    model.status = ModelStatus.READY
    model.finished_at = timezone.now()
    model.save()


def _log_loss(y: np.ndarray[Any, Any], p: np.ndarray[Any, Any]) -> float:
    from leadbase.scoring_engine.learn import metrics

    value = metrics(y, p).get("log_loss")
    return float("inf") if value is None else float(value)


def latest_cutoff(summary: dict[str, Any]) -> float | None:
    """The latest cut-off (POSIX seconds) of a version's training data: `latest_cutoff`, or
    for versions trained before it was recorded, the summary's `to`; None when unknown."""
    value = summary.get("latest_cutoff")
    if isinstance(value, int | float):
        return float(value)
    to = summary.get("to")
    if isinstance(to, str):
        try:
            return dt.datetime.fromisoformat(to).timestamp()
        except ValueError:
            return None
    return None


def comparison_rows(
    *, times: np.ndarray[Any, Any], y: np.ndarray[Any, Any], latest: float | None
) -> tuple[np.ndarray[Any, Any], bool]:
    """Which of these validation rows to compare on: (positions, unseen?). The rows whose
    cut-off is later than `latest` (the active version never trained on them) when there are
    at least UNSEEN_EACH_CLASS converted and not converted among them; else all of them."""
    if latest is not None:
        unseen = np.flatnonzero(times > latest)
        positives = int(y[unseen].sum())
        if positives >= UNSEEN_EACH_CLASS and unseen.size - positives >= UNSEEN_EACH_CLASS:
            return unseen, True
    return np.arange(y.size), False


def _decide(
    model: PredictiveModel, data: Dataset, result: TrainingResult, activate: Activate
) -> tuple[bool, str]:
    """(activate?, why) for a version just trained."""
    if activate == "never":
        return False, "Not activated: trained with --no-activate."
    if activate == "always":
        return True, "Activated on request."
    active = PredictiveModel.objects.filter(status=ModelStatus.ACTIVE).first()
    if active is None:
        return True, "Activated: no model was active."
    try:
        old = prediction.predictor_load(active)
    except prediction.ModelUnavailable as exc:
        return True, f"Activated: the active v{active.version} cannot be used ({exc.message})"
    valid = np.asarray(result.validation_index, dtype=np.int64)
    order = np.argsort(valid, kind="stable")
    valid, new_p = valid[order], np.asarray(result.validation_proba, dtype=np.float64)[order]
    latest = latest_cutoff(active.summary or {})
    unseen_mask = data.times[valid] > latest if latest is not None else np.zeros(0, bool)
    picked, unseen = comparison_rows(times=data.times[valid], y=data.y[valid], latest=latest)
    rows = valid[picked]
    ids = [data.lead_ids[i] for i in rows]
    spec = FeatureSpec.from_dict((active.summary or {}).get("spec") or {})
    table = dataset_for(lead_ids=ids, cutoffs=data.observed[rows], spec=spec)
    y = data.y[rows]
    old_loss = _log_loss(y, np.asarray(old.predict_proba(table), dtype=np.float64))
    new_loss = _log_loss(y, new_p[picked])
    numbers = f"v{model.version} {new_loss:.4f}, active v{active.version} {old_loss:.4f}"
    if unseen:
        compared = (
            f"log loss on the {len(rows):,} validation leads whose outcome came after the "
            f"active v{active.version}'s training data: {numbers}"
        )
    else:
        newer = int(unseen_mask.sum())
        compared = (
            f"log loss on the same {len(rows):,} validation leads: {numbers}; only {newer:,} of "
            f"them came after v{active.version}'s training data (at least {UNSEEN_EACH_CLASS} "
            "converted and not converted are needed to compare on those alone), so the active "
            "version may have learned from the others"
        )
    model.metrics = {
        **model.metrics,
        "active_compared": {
            "version": active.version,
            "comparison": "unseen" if unseen else "all_validation",
            "rows": len(rows),
            "positives": int(y.sum()),
            "log_loss": old_loss,
            "new_log_loss": new_loss,
            "active_latest_cutoff": latest,
            "unseen_rows": int(unseen_mask.sum()),
            "validation_rows": len(valid),
        },
    }
    model.save(update_fields=["metrics", "updated_at"])
    if new_loss < old_loss:
        return True, f"Activated: it beats the active version ({compared})."
    return False, f"Not activated: it does not beat the active version ({compared})."


def model_activate(
    *,
    model: PredictiveModel,
    actor: User | None,
    note: str = "",
    progress: Callable[[int, int], None] | None = None,
    later: bool = False,
    classify: bool = True,
) -> PredictiveModel:
    """Make `model` (ready or retired) the active version, then predict and reclassify every
    open lead: now, or in a background task after the commit (`later`, from a request).
    Refused (409) when its artefact does not load or it never trained."""
    require_editor(actor)
    if model.status not in (ModelStatus.READY, ModelStatus.RETIRED, ModelStatus.ACTIVE):
        raise NotActivatable(
            f"Model v{model.version} is {model.get_status_display().lower()}: only a trained "
            "version (ready or retired) can be activated."
        )
    prediction.predictor_load(model)  # a refused artefact is never activated
    with transaction.atomic():
        locked = PredictiveModel.objects.select_for_update().get(pk=model.pk)
        if locked.status != ModelStatus.ACTIVE:
            PredictiveModel.objects.filter(status=ModelStatus.ACTIVE).update(
                status=ModelStatus.RETIRED, updated_at=timezone.now()
            )
            locked.status = ModelStatus.ACTIVE
            locked.activated_at, locked.activated_by = timezone.now(), actor
            locked.error = ""
            if note:
                locked.activation_note = note
            locked.save()
    prediction.forget()
    if later:
        transaction.on_commit(lambda: open_leads_predict_task.enqueue())
    else:
        prediction.open_leads_predict(progress=progress, classify=classify)
    locked.refresh_from_db()
    return locked


@task()
def model_train_task(model_id: int, activate: str = "auto") -> str:
    chosen: Activate = "never" if activate == "never" else "auto"
    return model_train_run(model_id, activate=chosen).status


@task()
def open_leads_predict_task() -> int:
    """Predict and reclassify every open lead after an activation made in a request."""
    return prediction.open_leads_predict()


def retrain_days() -> float:
    return float(getattr(settings, "LEADBASE_PREDICTIVE_RETRAIN_DAYS", 7))


def retrain_due(*, now: dt.datetime | None = None) -> bool:
    """Whether the scheduled retraining should train now: the newest version (trained or
    failed) is older than LEADBASE_PREDICTIVE_RETRAIN_DAYS (0 turns it off), or none exists."""
    days = retrain_days()
    if days <= 0:
        return False
    newest = PredictiveModel.objects.order_by("-version").values_list("created_at", flat=True)
    last = newest.first()
    return last is None or last <= (now or timezone.now()) - dt.timedelta(days=days)
