"""The training data from the database: which leads have a known outcome, what it is, when it
became known (the cut-off), and their features as of that time.

Labels (docs/predictive-scoring.md):

- **converted** (1): became a customer (`became_customer_at` set, or lifecycle stage customer
  or advocate) or sales status won. Cut-off: the first time that happened (the first stage
  transition to customer/advocate, the first sales-status transition to won, or
  `became_customer_at`/`became_advocate_at`, whichever is earliest).
- **not converted** (0): sales status lost or unqualified, or stage disqualified (cut-off: the
  first such transition or `became_disqualified_at`); or gone quiet for good: no activity for
  `LEADBASE_PREDICTIVE_QUIET_DAYS` days (90). A gone-quiet lead's cut-off is one day after
  its last activity: its features see all it did and a recency of one day, as an open lead's
  would the day after it acted, and nothing of the quiet period that defines its label (a
  cut-off at the end of the quiet period would hand the model the label: "no event for N
  days").
- a lead with an outcome but no time recorded for it (data loaded without transitions) gets
  its last activity as the cut-off; the summary counts those (`outcome_time_unknown`).
- every other lead is open: predicted, never trained on. Archived leads are left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.db.models import Min, Q
from django.utils import timezone

from leadbase.leads.models import (
    Lead,
    LifecycleStage,
    LifecycleTransition,
    SalesStatus,
    TransitionKind,
)

from .features import DAY, FeatureSpec, Table, feature_table, spec_from_data

POSITIVE_STAGES = (LifecycleStage.CUSTOMER, LifecycleStage.ADVOCATE)
NEGATIVE_STAGES = (LifecycleStage.DISQUALIFIED,)
POSITIVE_SALES = (SalesStatus.WON,)
NEGATIVE_SALES = (SalesStatus.LOST, SalesStatus.UNQUALIFIED)
QUIET_GRACE_DAYS = 1.0  # a gone-quiet lead's cut-off: this long after its last activity


def quiet_days() -> float:
    return float(getattr(settings, "LEADBASE_PREDICTIVE_QUIET_DAYS", 90))


@dataclass
class Outcome:
    """One labelled lead."""

    lead_id: int
    label: int  # 1 converted, 0 not
    cutoff: float  # POSIX seconds
    why: str  # customer, won, lost, unqualified, disqualified, quiet
    time_known: bool = True


@dataclass
class Dataset:
    table: Table
    y: npt.NDArray[np.int64]
    times: npt.NDArray[np.float64]
    lead_ids: list[int]
    spec: FeatureSpec
    summary: dict[str, Any] = field(default_factory=dict)


def _first_times() -> dict[tuple[int, str], dt.datetime]:
    """(lead, outcome) -> the first transition to it (stage or sales status)."""
    wanted = Q(kind=TransitionKind.STAGE, to_value__in=[*POSITIVE_STAGES, *NEGATIVE_STAGES]) | Q(
        kind=TransitionKind.SALES_STATUS, to_value__in=[*POSITIVE_SALES, *NEGATIVE_SALES]
    )
    rows = (
        LifecycleTransition.objects.filter(wanted)
        .values("lead_id", "to_value")
        .annotate(first=Min("at"))
        .order_by()
    )
    return {(r["lead_id"], r["to_value"]): r["first"] for r in rows}


def _earliest(*values: dt.datetime | None) -> dt.datetime | None:
    known = [v for v in values if v is not None]
    return min(known) if known else None


def outcomes(*, now: dt.datetime | None = None) -> list[Outcome]:
    """Every lead with a known outcome, with its label and cut-off (see the module's notes)."""
    now = now or timezone.now()
    quiet_before = now - dt.timedelta(days=quiet_days())
    first = _first_times()
    rows = (
        Lead.objects.filter(archived=False)
        .order_by("pk")
        .values_list(
            "pk",
            "lifecycle_stage",
            "sales_status",
            "became_customer_at",
            "became_advocate_at",
            "became_disqualified_at",
            "last_activity_at",
        )
    )
    found: list[Outcome] = []
    for pk, stage, sales, customer_at, advocate_at, disqualified_at, last in rows.iterator(
        chunk_size=5000
    ):
        if customer_at is not None or stage in POSITIVE_STAGES or sales in POSITIVE_SALES:
            at = _earliest(
                customer_at,
                advocate_at,
                *(first.get((pk, s)) for s in (*POSITIVE_STAGES, *POSITIVE_SALES)),
            )
            why = "won" if sales in POSITIVE_SALES else "customer"
            found.append(Outcome(pk, 1, (at or last).timestamp(), why, at is not None))
        elif stage in NEGATIVE_STAGES or sales in NEGATIVE_SALES:
            at = _earliest(
                disqualified_at, *(first.get((pk, s)) for s in (*NEGATIVE_STAGES, *NEGATIVE_SALES))
            )
            why = sales if sales in NEGATIVE_SALES else "disqualified"
            found.append(Outcome(pk, 0, (at or last).timestamp(), str(why), at is not None))
        elif last < quiet_before:
            found.append(Outcome(pk, 0, last.timestamp() + QUIET_GRACE_DAYS * DAY, "quiet"))
    return found


def open_lead_ids() -> list[int]:
    """Leads whose outcome is not decided (gone-quiet ones included: they may come back)."""
    closed = (
        Q(became_customer_at__isnull=False)
        | Q(lifecycle_stage__in=[*POSITIVE_STAGES, *NEGATIVE_STAGES])
        | Q(sales_status__in=[*POSITIVE_SALES, *NEGATIVE_SALES])
    )
    return list(
        Lead.objects.filter(archived=False)
        .exclude(closed)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def is_open(lead: Mapping[str, Any]) -> bool:
    """The same test on one lead's fields (lifecycle_stage, sales_status)."""
    return (
        lead.get("lifecycle_stage") not in (*POSITIVE_STAGES, *NEGATIVE_STAGES)
        and lead.get("sales_status") not in (*POSITIVE_SALES, *NEGATIVE_SALES)
        and lead.get("became_customer_at") is None
    )


def dataset_build(*, now: dt.datetime | None = None, spec: FeatureSpec | None = None) -> Dataset:
    """The labelled leads' features as of their cut-offs, labels and cut-off times."""
    labelled = outcomes(now=now)
    ids = [o.lead_id for o in labelled]
    spec = spec or spec_from_data()
    cutoffs = np.asarray([o.cutoff for o in labelled], dtype=np.float64)
    table, found = feature_table(lead_ids=ids, cutoffs=cutoffs, spec=spec)
    by_id = {o.lead_id: o for o in labelled}
    kept = [by_id[pk] for pk in found]
    y = np.asarray([o.label for o in kept], dtype=np.int64)
    times = np.asarray([o.cutoff for o in kept], dtype=np.float64)
    return Dataset(table=table, y=y, times=times, lead_ids=found, spec=spec, summary=_summary(kept))


def dataset_for(
    *, lead_ids: Sequence[int], cutoffs: npt.NDArray[np.float64], spec: FeatureSpec
) -> Table:
    """The same leads' features under another version's columns (comparing with the active
    model on the same validation rows)."""
    table, found = feature_table(lead_ids=lead_ids, cutoffs=cutoffs, spec=spec)
    if found != sorted(lead_ids):
        raise ValueError("leads were deleted while comparing models")
    return table


def _summary(kept: Sequence[Outcome]) -> dict[str, Any]:
    reasons: dict[str, int] = {}
    for o in kept:
        reasons[o.why] = reasons.get(o.why, 0) + 1
    times = [o.cutoff for o in kept]
    return {
        "labelled": len(kept),
        "converted": sum(o.label for o in kept),
        "not_converted": sum(1 - o.label for o in kept),
        "outcomes": dict(sorted(reasons.items())),
        "outcome_time_unknown": sum(not o.time_known for o in kept),
        "from": dt.datetime.fromtimestamp(min(times), tz=dt.UTC).isoformat() if times else None,
        "to": dt.datetime.fromtimestamp(max(times), tz=dt.UTC).isoformat() if times else None,
        "quiet_days": quiet_days(),
    }
