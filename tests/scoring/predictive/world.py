"""A seeded world of leads whose outcome depends on one feature: leads that visited the pricing
page in the weeks before their outcome mostly became customers, the others mostly were lost.
Rows are written with bulk inserts (the point is the data, not the write path)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from django.utils import timezone

from leadbase.leads.models import (
    Event,
    Lead,
    LifecycleStage,
    LifecycleTransition,
    SalesStatus,
    TransitionKind,
)

DAY = dt.timedelta(days=1)


@dataclass
class World:
    now: dt.datetime
    converted: list[int] = field(default_factory=list)
    lost: list[int] = field(default_factory=list)
    open: list[int] = field(default_factory=list)
    outcome_at: dict[int, dt.datetime] = field(default_factory=dict)


def build_world(
    *, seed: int = 0, labelled: int = 200, open_leads: int = 10, signal: bool = True
) -> World:
    """`signal=False`: the outcome is a coin toss, whatever the lead did."""
    rng = np.random.default_rng(seed)
    now = timezone.now()
    world = World(now=now)
    leads = Lead.objects.bulk_create(
        [Lead(email=f"w{seed}-{i}@firm{i % 7}.example") for i in range(labelled + open_leads)]
    )
    events: list[Event] = []
    transitions: list[LifecycleTransition] = []
    for i, lead in enumerate(leads):
        is_open = i >= labelled
        created = now - DAY * float(rng.uniform(20, 60) if is_open else rng.uniform(120, 400))
        end = now if is_open else created + DAY * float(rng.uniform(20, 90))
        interested = bool(rng.random() < 0.5)
        pricing = int(rng.poisson(4.0 if interested else 0.2))
        views = int(rng.poisson(3.0))
        times = [end - DAY * float(rng.uniform(0.1, 25)) for _ in range(pricing)]
        events += [Event(lead=lead, type="pricing_page_view", occurred_at=t) for t in times]
        page_times = [end - DAY * float(rng.uniform(0.1, 80)) for _ in range(views)]
        events += [Event(lead=lead, type="page_view", occurred_at=t) for t in page_times]
        last = max([created, *times, *page_times])
        fields: dict[str, object] = {"created_at": created, "last_activity_at": last}
        if is_open:
            world.open.append(lead.pk)
        elif rng.random() < ((0.85 if interested else 0.12) if signal else 0.5):
            fields.update(lifecycle_stage=LifecycleStage.CUSTOMER, became_customer_at=end)
            world.converted.append(lead.pk)
            world.outcome_at[lead.pk] = end
        else:
            fields.update(sales_status=SalesStatus.LOST)
            transitions.append(
                LifecycleTransition(
                    lead=lead,
                    kind=TransitionKind.SALES_STATUS,
                    from_value="new",
                    to_value="lost",
                    at=end,
                )
            )
            world.lost.append(lead.pk)
            world.outcome_at[lead.pk] = end
        Lead.objects.filter(pk=lead.pk).update(**fields)
    Event.objects.bulk_create(events)
    LifecycleTransition.objects.bulk_create(transitions)
    return world
