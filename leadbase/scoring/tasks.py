"""Background work of the scoring app: rescoring changed leads, the periodic sweep of leads
never scored, decay as time passes, and the preview and publish jobs."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db.models import F, Q
from django.tasks import task
from django.utils import timezone

from leadbase.core.scheduler import periodic
from leadbase.leads.models import Lead, Qualification, Temperature

from .background import BackgroundScorer
from .services import leads_rescore

logger = logging.getLogger(__name__)

INLINE_MAX = 200  # changed leads scored right after the commit; more go to a task
SWEEP_MAX = 50_000  # leads one sweep scores at most (the next period takes the rest)
ENGAGEMENT_FLOOR = 0.05  # below this a lead's engagement no longer needs decaying


def _rescore(ids: list[int], rebuild: bool) -> object:
    return leads_rescore(ids, rebuild=rebuild)


scorer = BackgroundScorer(_rescore)


def leads_changed_handler(lead_ids: frozenset[int], rebuild: bool) -> None:
    """leads.hooks handler, after the commit: hand the leads to this process's scorer thread
    (LEADBASE_SCORING_ON_CHANGE=background, the default), score them here (inline), or
    enqueue a task (task). More than INLINE_MAX leads at once always go to a task."""
    mode = settings.LEADBASE_SCORING_ON_CHANGE
    if len(lead_ids) > INLINE_MAX or mode == "task":
        leads_rescore_task.enqueue(sorted(lead_ids), rebuild)
    elif mode == "inline":
        try:
            leads_rescore(lead_ids, rebuild=rebuild)
        except Exception:
            logger.exception("Scoring %d leads inline failed; queueing them", len(lead_ids))
            leads_rescore_task.enqueue(sorted(lead_ids), rebuild)
    else:
        scorer.submit(lead_ids, rebuild)


@task()
def leads_rescore_task(lead_ids: list[int], rebuild: bool = False) -> int:
    return leads_rescore(lead_ids, rebuild=rebuild).scored


@periodic("scoring.unscored_sweep", every=dt.timedelta(minutes=1))
@task()
def unscored_sweep_task() -> int:
    """Score the leads never scored (imports, the demo data) and those whose latest activity is
    newer than their score (a change whose scoring was lost with its process)."""
    stale = Q(score_state__isnull=True) | Q(last_activity_at__gt=F("score_state__scored_at"))
    ids = list(Lead.objects.filter(stale).order_by("pk").values_list("pk", flat=True)[:SWEEP_MAX])
    if ids:
        logger.info("Scoring %d leads never scored", len(ids))
    return leads_rescore(ids).scored


def decaying_leads() -> list[int]:
    """Leads whose engagement may still fall, or whose class may drop as it does."""
    return list(
        Lead.objects.filter(score_state__isnull=False)
        .filter(
            Q(engagement_score__gt=ENGAGEMENT_FLOOR)
            | ~Q(temperature=Temperature.COLD)
            | ~Q(qualification=Qualification.NONE)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@periodic("scoring.decay", every=dt.timedelta(hours=1))
@task()
def decay_task() -> int:
    """Engagement fades with time: rescore the leads it still matters for, so leads that went
    quiet cool down (each drop recorded as a transition with its reason)."""
    result = leads_rescore(decaying_leads(), at=timezone.now())
    logger.info("Decay: %d leads rescored, %d transitions", result.scored, len(result.transitions))
    return result.scored


@periodic("scoring.predictive_retrain", every=dt.timedelta(days=1))
@task()
def predictive_retrain_task() -> str:
    """Retrain the predictive model when the newest version is older than
    LEADBASE_PREDICTIVE_RETRAIN_DAYS (7; checked daily); it is activated only if it beats the
    active one on the same validation data."""
    from .predictive.training import TrainingBusy, model_train, retrain_due

    if not retrain_due():
        return "not due"
    try:
        return model_train(actor=None).status
    except TrainingBusy:
        return "busy"
