"""The training data from the database: which leads have a known outcome, what it is, when it
became known (the cut-off), and their features as of that time.

Labels (docs/predictive-scoring.md):

- **converted** (1): became a customer (`became_customer_at` set, or lifecycle stage customer
  or advocate) or sales status won. Cut-off: the first time that happened (the first stage
  transition to customer/advocate, the first sales-status transition to won, or
  `became_customer_at`/`became_advocate_at`, whichever is earliest).
- **not converted** (0): sales status lost or unqualified, or stage disqualified (cut-off: the
  first such transition or `became_disqualified_at`); or gone quiet for good: no activity for
  `LEADBASE_PREDICTIVE_QUIET_DAYS` days (90); its outcome is known at the end of that quiet
  period (the cut-off).

Features are computed as of each labelled lead's **observation time**. For a lead that
converted, was lost or disqualified, that is its cut-off: what it had done by the moment its
outcome was decided. For a gone-quiet lead it is a moment drawn (fixed per lead) uniformly
within its quiet period, between its last activity and its cut-off: open leads are predicted
in every stage of quietness, so the model must have seen quiet leads a day, a week and two
months after they last acted. (Seeing every quiet lead the day after its last activity, as a
first version did, gave the model no lead quiet for longer, and it extrapolated: 65 quiet days
counted as a sign of buying.) Nothing at or after the cut-off is ever seen. The validation
split and the comparison with the active version go by cut-off: a model is checked on outcomes
that became known after those it learned from.
- a lead with an outcome but no time recorded for it (data loaded without transitions) gets
  its last activity as the cut-off; the summary counts those (`outcome_time_unknown`).
- every other lead is open: predicted, never trained on. Archived leads are left out.

At most `LEADBASE_PREDICTIVE_MAX_ROWS` labelled leads (200,000) are trained on: the most recent
by cut-off (the newest behaviour is what the model should learn), each class keeping at least
MIN_CLASS_SHARE of the rows (or all it has): see `cap_outcomes`. 0 turns the cap off. The
summary says how many were labelled and how many were used.
"""

from __future__ import annotations

import datetime as dt
import math
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

from .features import FeatureSpec, Table, feature_table, spec_from_data

POSITIVE_STAGES = (LifecycleStage.CUSTOMER, LifecycleStage.ADVOCATE)
NEGATIVE_STAGES = (LifecycleStage.DISQUALIFIED,)
POSITIVE_SALES = (SalesStatus.WON,)
NEGATIVE_SALES = (SalesStatus.LOST, SalesStatus.UNQUALIFIED)
MAX_ROWS = 200_000  # default of LEADBASE_PREDICTIVE_MAX_ROWS
MIN_CLASS_SHARE = 0.05  # under the cap, each class keeps at least this share (or all it has)


def quiet_days() -> float:
    return float(getattr(settings, "LEADBASE_PREDICTIVE_QUIET_DAYS", 90))


def max_rows() -> int:
    """The most labelled leads trained on (0 or less: no cap)."""
    return int(getattr(settings, "LEADBASE_PREDICTIVE_MAX_ROWS", MAX_ROWS))


@dataclass
class Outcome:
    """One labelled lead."""

    lead_id: int
    label: int  # 1 converted, 0 not
    cutoff: float  # POSIX seconds: when the outcome became known
    why: str  # customer, won, lost, unqualified, disqualified, quiet
    time_known: bool = True
    observed: float = 0.0  # POSIX seconds: the features' as-of time, at most the cut-off


@dataclass
class Dataset:
    table: Table
    y: npt.NDArray[np.int64]
    times: npt.NDArray[np.float64]  # cut-offs: when each outcome became known
    observed: npt.NDArray[np.float64]  # the features' as-of times (observation_time)
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
    quiet = dt.timedelta(days=quiet_days())
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
            cutoff = (at or last).timestamp()
            found.append(Outcome(pk, 1, cutoff, why, at is not None, observed=cutoff))
        elif stage in NEGATIVE_STAGES or sales in NEGATIVE_SALES:
            at = _earliest(
                disqualified_at, *(first.get((pk, s)) for s in (*NEGATIVE_STAGES, *NEGATIVE_SALES))
            )
            why = sales if sales in NEGATIVE_SALES else "disqualified"
            cutoff = (at or last).timestamp()
            found.append(Outcome(pk, 0, cutoff, str(why), at is not None, observed=cutoff))
        elif last < quiet_before:
            cutoff = (last + quiet).timestamp()
            seen = quiet_observation(pk, last.timestamp(), cutoff)
            found.append(Outcome(pk, 0, cutoff, "quiet", observed=seen))
    return found


def quiet_observation(lead_id: int, last: float, cutoff: float) -> float:
    """When a gone-quiet lead is observed: uniform between its last activity and its cut-off
    (the end of its quiet period), fixed by its id so that every training sees the same."""
    share = ((lead_id * 2654435761) % 2**32) / 2**32  # Knuth's multiplicative hash: [0, 1)
    return last + share * (cutoff - last)


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


def cap_outcomes(labelled: Sequence[Outcome], limit: int) -> list[Outcome]:
    """At most `limit` of these outcomes (all when limit <= 0 or there are no more): the most
    recent by cut-off, except that each class keeps at least MIN_CLASS_SHARE of `limit` (or
    all it has; at most half of `limit`), its most recent ones taking the place of the other
    class's oldest. In lead order."""
    if limit <= 0 or len(labelled) <= limit:
        return list(labelled)
    newest = sorted(labelled, key=lambda o: (-o.cutoff, o.lead_id))
    by_class = {label: [o for o in newest if o.label == label] for label in (0, 1)}
    floor = {
        label: min(len(rows), math.ceil(limit * MIN_CLASS_SHARE), limit // 2)
        for label, rows in by_class.items()
    }
    kept = newest[:limit]
    for label in (0, 1):
        have = sum(o.label == label for o in kept)
        if have >= floor[label]:
            continue
        extra = by_class[label][have : floor[label]]
        others = [o for o in kept if o.label != label]
        kept = [o for o in kept if o.label == label] + others[: len(others) - len(extra)] + extra
    return sorted(kept, key=lambda o: o.lead_id)


def dataset_build(
    *, now: dt.datetime | None = None, spec: FeatureSpec | None = None, limit: int | None = None
) -> Dataset:
    """The labelled leads' features as of their cut-offs, labels and cut-off times; at most
    `limit` leads (default LEADBASE_PREDICTIVE_MAX_ROWS, see `cap_outcomes`)."""
    found_all = outcomes(now=now)
    limit = max_rows() if limit is None else limit
    labelled = cap_outcomes(found_all, limit)
    ids = [o.lead_id for o in labelled]
    spec = spec or spec_from_data()
    observed = np.asarray([o.observed for o in labelled], dtype=np.float64)
    table, found = feature_table(lead_ids=ids, cutoffs=observed, spec=spec)
    by_id = {o.lead_id: o for o in labelled}
    kept = [by_id[pk] for pk in found]
    y = np.asarray([o.label for o in kept], dtype=np.int64)
    times = np.asarray([o.cutoff for o in kept], dtype=np.float64)
    seen_at = np.asarray([o.observed for o in kept], dtype=np.float64)
    summary = _summary(kept) | {
        "labelled_before_cap": len(found_all),
        "max_rows": limit if limit > 0 else None,
        "capped": len(labelled) < len(found_all),
    }
    return Dataset(
        table=table, y=y, times=times, observed=seen_at, lead_ids=found, spec=spec, summary=summary
    )


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
