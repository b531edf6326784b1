"""Labels, cut-offs and features as of the cut-off, from the database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django import Settings

from leadbase.leads.events import EventIn, events_record
from leadbase.leads.models import Event, Lead, LifecycleTransition
from leadbase.scoring.predictive.dataset import (
    dataset_build,
    open_lead_ids,
    outcomes,
    quiet_observation,
)
from leadbase.scoring.predictive.features import FeatureSpec, as_of, feature_table

from .world import World

DAY = dt.timedelta(days=1)
MakeLead = Callable[..., Lead]
SPEC = FeatureSpec(event_types=("page_view", "pricing_page_view"))


def _lead(make_lead: MakeLead, **fields: object) -> Lead:
    lead = make_lead()
    Lead.objects.filter(pk=lead.pk).update(**fields)
    return Lead.objects.get(pk=lead.pk)


def _transition(lead: Lead, kind: str, to: str, at: dt.datetime) -> None:
    LifecycleTransition.objects.create(lead=lead, kind=kind, to_value=to, at=at)


@pytest.mark.django_db
def test_labels_and_cutoffs_follow_each_outcome(make_lead: MakeLead, settings: Settings) -> None:
    # Given leads of every outcome, each with the time it happened
    settings.LEADBASE_PREDICTIVE_QUIET_DAYS = 90
    now = timezone.now()
    t = now - 30 * DAY
    customer = _lead(make_lead, lifecycle_stage="customer", became_customer_at=t)
    won = _lead(make_lead, sales_status="won")
    _transition(won, "sales_status", "won", t - DAY)
    _transition(won, "sales_status", "won", t)  # only the first time counts
    lost = _lead(make_lead, sales_status="lost")
    _transition(lost, "sales_status", "lost", t - 2 * DAY)
    disqualified = _lead(make_lead, lifecycle_stage="disqualified", became_disqualified_at=t)
    quiet = _lead(make_lead, last_activity_at=now - 100 * DAY)
    recent = _lead(make_lead, last_activity_at=now - 10 * DAY)
    untimed = _lead(make_lead, sales_status="unqualified", last_activity_at=t)
    archived = _lead(make_lead, sales_status="lost", archived=True)
    # When the outcomes are read
    found = {o.lead_id: o for o in outcomes(now=now)}
    # Then each has its label and cut-off; open and archived leads are not trained on
    assert (found[customer.pk].label, found[customer.pk].cutoff) == (1, t.timestamp())
    assert (found[won.pk].label, found[won.pk].cutoff) == (1, (t - DAY).timestamp())
    assert (found[lost.pk].label, found[lost.pk].cutoff) == (0, (t - 2 * DAY).timestamp())
    assert (found[disqualified.pk].label, found[disqualified.pk].why) == (0, "disqualified")
    assert found[quiet.pk].label == 0 and found[quiet.pk].why == "quiet"
    # a gone-quiet lead's outcome is known at the end of its quiet period; it is observed at
    # a moment within that period; the others are observed at their cut-off
    last = (now - 100 * DAY).timestamp()
    assert found[quiet.pk].cutoff == (now - 10 * DAY).timestamp()
    assert last <= found[quiet.pk].observed < found[quiet.pk].cutoff
    assert all(o.observed == o.cutoff for pk, o in found.items() if pk != quiet.pk)
    assert not found[untimed.pk].time_known and found[untimed.pk].cutoff == t.timestamp()
    assert recent.pk not in found and archived.pk not in found
    assert set(open_lead_ids()) == {quiet.pk, recent.pk}


def test_quiet_leads_are_observed_all_through_their_quiet_period() -> None:
    """Open leads are predicted at every stage of quietness: the quiet leads trained on are
    seen at moments spread over their quiet period, each lead always at the same one."""
    last, cutoff = 1_700_000_000.0, 1_700_000_000.0 + 90 * 86_400
    seen = np.array([quiet_observation(pk, last, cutoff) for pk in range(1, 2001)])
    assert ((seen >= last) & (seen < cutoff)).all()
    shares = (seen - last) / (cutoff - last)
    assert np.histogram(shares, bins=10, range=(0, 1))[0].min() > 150  # spread out, ~200 each
    assert quiet_observation(7, last, cutoff) == quiet_observation(7, last, cutoff)


@pytest.mark.django_db
def test_quiet_days_setting_decides_who_has_gone_quiet(
    make_lead: MakeLead, settings: Settings
) -> None:
    now = timezone.now()
    lead = _lead(make_lead, last_activity_at=now - 40 * DAY)
    settings.LEADBASE_PREDICTIVE_QUIET_DAYS = 90
    assert lead.pk not in {o.lead_id for o in outcomes(now=now)}
    settings.LEADBASE_PREDICTIVE_QUIET_DAYS = 30
    assert lead.pk in {o.lead_id for o in outcomes(now=now)}


@pytest.mark.django_db
def test_engagement_features_count_only_events_before_the_cutoff(make_lead: MakeLead) -> None:
    # Given a lead with pricing page views 2, 10 and 50 days before its cut-off, and one after
    lead = make_lead()
    cutoff = timezone.now() - 5 * DAY
    events_record(
        [
            EventIn(type="pricing_page_view", occurred_at=cutoff - days * DAY, lead_id=lead.pk)
            for days in (2, 10, 50, -1)
        ]
    )
    # When its features are computed as of the cut-off
    table, found = feature_table(lead_ids=[lead.pk], cutoffs=as_of(cutoff, 1), spec=SPEC)
    # Then windows count what happened before the cut-off only
    assert found == [lead.pk]
    assert table["pricing_page_view_7d"] == [1.0]
    assert table["pricing_page_view_30d"] == [2.0]
    assert table["pricing_page_view_90d"] == [3.0]
    assert table["pricing_page_view_all"] == [3.0]
    assert table["days_since_last_event"][0] == pytest.approx(2.0)
    assert table["decayed_engagement"][0] == pytest.approx(
        sum(2 ** (-d / 30) for d in (2, 10, 50)), rel=1e-9
    )


@pytest.mark.django_db
def test_no_leakage_post_outcome_event_and_status_change_leave_the_rows_alone(
    world: World,
) -> None:
    # Given the training data
    before = dataset_build(spec=SPEC)
    # When a lost lead gets events after its outcome and its sales status changes
    # (lost -> unqualified, still a "not converted"), and a customer visits pricing again
    lost, customer = world.lost[0], world.converted[0]
    events_record(
        [
            EventIn(type="pricing_page_view", occurred_at=world.outcome_at[pk] + DAY, lead_id=pk)
            for pk in (lost, customer)
            for _ in range(5)
        ]
    )
    Lead.objects.filter(pk=lost).update(sales_status="unqualified")
    _transition(Lead.objects.get(pk=lost), "sales_status", "unqualified", timezone.now())
    after = dataset_build(spec=SPEC)
    # Then every feature row, label and cut-off is the same
    assert after.table == before.table
    assert np.array_equal(after.y, before.y) and np.array_equal(after.times, before.times)
    assert Event.objects.filter(lead_id=lost).count() > 0


@pytest.mark.django_db
def test_fields_that_encode_the_outcome_are_not_features(world: World) -> None:
    data = dataset_build(spec=SPEC)
    forbidden = {"lifecycle_stage", "sales_status", "owner", "temperature", "qualification"}
    assert not forbidden & set(data.table)
    assert not any(
        name.startswith(("became_", "fit", "engagement", "total")) for name in data.table
    )
    assert data.summary["converted"] == len(world.converted)
    assert data.summary["not_converted"] == len(world.lost)


@pytest.mark.django_db
def test_features_of_many_leads_take_a_few_queries(world: World) -> None:
    ids = world.converted + world.lost + world.open
    with CaptureQueriesContext(connection) as queries:
        _, found = feature_table(lead_ids=ids, cutoffs=as_of(timezone.now(), len(ids)), spec=SPEC)
    assert len(found) == len(ids)
    assert len(queries.captured_queries) <= 3  # leads, events (one chunk)


@pytest.mark.django_db
def test_one_lead_row_equals_its_row_in_bulk(world: World) -> None:
    ids = sorted(world.open)
    now = timezone.now()
    bulk, found = feature_table(lead_ids=ids, cutoffs=as_of(now, len(ids)), spec=SPEC)
    position = found.index(ids[3])
    one, _ = feature_table(lead_ids=[ids[3]], cutoffs=as_of(now, 1), spec=SPEC)
    assert {name: values[position] for name, values in bulk.items()} == {
        name: values[0] for name, values in one.items()
    }


def test_every_feature_has_a_label_in_plain_words() -> None:
    labels = SPEC.labels()
    assert set(labels) == set(SPEC.columns())
    assert labels["pricing_page_view_7d"] == "Visits to the pricing page in the last 7 days"
    assert FeatureSpec.from_dict(SPEC.to_dict()) == SPEC
