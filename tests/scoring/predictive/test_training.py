"""Training versions: what the model finds, too little data, auto-activation only when
better, and that post-outcome changes do not change what is learned."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import timezone
from pytest_django import Settings

from leadbase.leads.events import EventIn, events_record
from leadbase.leads.models import Lead, LifecycleTransition
from leadbase.scoring.models import ModelStatus, PredictiveModel
from leadbase.scoring.predictive.training import model_train, retrain_due
from leadbase.scoring.services import leads_rescore

from .conftest import COPIED, install_model
from .world import World, build_world

DAY = dt.timedelta(days=1)


@pytest.mark.django_db
def test_training_finds_the_feature_the_outcome_depends_on(
    world: World, good_model: PredictiveModel
) -> None:
    # Given a world where pricing-page visits decide the outcome, and the model trained on it
    model = PredictiveModel.objects.get(pk=good_model.pk)
    chosen = model.metrics["chosen_metrics"]
    # Then it ranks the validation leads well, and pricing visits are among what matters most
    assert chosen["roc_auc"] > 0.7, chosen
    top = [item["feature"] for item in model.charts["importance"][:3]]
    assert any(name.startswith(("pricing_page_view", "decayed", "events_")) for name in top), top
    assert set(model.metrics["models"]) >= {"gbm", "logistic", "naive_bayes"}
    assert model.summary["rows"] == len(world.converted) + len(world.lost)
    assert model.summary["spec"]["event_types"] == ["page_view", "pricing_page_view"]
    assert model.charts["roc"] and model.charts["calibration"] and model.charts["gains"]
    # and the open leads got a probability, higher for those who visited pricing
    probabilities = dict(
        Lead.objects.filter(pk__in=world.open).values_list("pk", "predicted_probability")
    )
    assert all(p is not None and 0 <= p <= 1 for p in probabilities.values())


@pytest.mark.django_db
def test_retraining_after_post_outcome_changes_learns_the_same_and_keeps_the_active(
    world: World,
) -> None:
    # Given a trained, active version
    first = model_train()
    assert first.status == ModelStatus.ACTIVE
    # When events happen after outcomes, a lost lead becomes unqualified, and it trains again
    events_record(
        [
            EventIn(type="pricing_page_view", occurred_at=world.outcome_at[pk] + DAY, lead_id=pk)
            for pk in world.lost[:10]
        ]
    )
    lost = Lead.objects.get(pk=world.lost[0])
    Lead.objects.filter(pk=lost.pk).update(sales_status="unqualified")
    LifecycleTransition.objects.create(
        lead=lost, kind="sales_status", to_value="unqualified", at=timezone.now()
    )
    second = model_train()
    # Then it learned exactly the same (metrics identical), and as it does not beat the active
    # version on the same validation leads, the active one stays
    assert second.metrics["models"] == first.metrics["models"]
    assert second.status == ModelStatus.READY
    assert "does not beat" in second.activation_note
    # (compared on every validation lead: the first version trained on all of them, none is
    # newer than its training data)
    assert second.metrics["active_compared"]["comparison"] == "all_validation"
    assert second.metrics["active_compared"]["unseen_rows"] == 0
    assert PredictiveModel.objects.get(pk=first.pk).status == ModelStatus.ACTIVE


@pytest.mark.django_db
def test_too_little_data_fails_plainly_and_rule_scores_keep_working(
    make_lead: Callable[..., Lead],
) -> None:
    # Given 12 leads, 3 of them customers
    leads = [make_lead() for _ in range(12)]
    Lead.objects.filter(pk__in=[lead.pk for lead in leads[:3]]).update(
        lifecycle_stage="customer", became_customer_at=timezone.now()
    )
    Lead.objects.filter(pk__in=[lead.pk for lead in leads[3:]]).update(sales_status="lost")
    # When training
    model = model_train()
    # Then the version failed and says what there is and what is needed
    assert model.status == ModelStatus.FAILED
    assert "3 converted and 9 not" in model.error
    assert "at least 30 of each" in model.error
    assert model.summary["converted"] == 3 and model.summary["not_converted"] == 9
    assert not model.artefact
    # and scoring goes on without a probability
    events_record([EventIn(type="demo_request", occurred_at=timezone.now(), lead_id=leads[5].pk)])
    assert leads_rescore([leads[5].pk]).scored == 1
    lead = Lead.objects.get(pk=leads[5].pk)
    assert lead.engagement_score > 0 and lead.predicted_probability is None


@pytest.mark.django_db
def test_a_better_model_replaces_a_worse_active_one(db: None) -> None:
    # Given an active version learned from a world where nothing predicts the outcome
    noise = build_world(seed=7, labelled=160, open_leads=0, signal=False)
    worse = model_train()
    assert worse.status == ModelStatus.ACTIVE
    # When the real world's outcomes arrive (the noise leads archived) and it trains again
    Lead.objects.filter(pk__in=noise.converted + noise.lost).update(archived=True)
    build_world(seed=0)
    better = model_train()
    # Then the new version wins on the same validation leads and is activated
    assert better.status == ModelStatus.ACTIVE, better.activation_note
    assert "beats the active version" in better.activation_note
    compared = better.metrics["active_compared"]
    assert compared["new_log_loss"] < compared["log_loss"]
    assert PredictiveModel.objects.get(pk=worse.pk).status == ModelStatus.RETIRED


@pytest.mark.django_db
def test_no_activate_keeps_the_new_version_ready(world: World) -> None:
    from .conftest import good_model_fields

    cached = good_model_fields()
    if cached is not None:  # a copy of the trained version stands in for training again
        model = install_model(cached, version=1, status=ModelStatus.READY)
        assert set(COPIED) <= set(vars(model))
    else:
        model = model_train(activate="never")
    assert model.status == ModelStatus.READY
    assert not PredictiveModel.objects.filter(status=ModelStatus.ACTIVE).exists()


@pytest.mark.django_db
def test_retraining_is_due_weekly_by_default(settings: Settings) -> None:
    now = timezone.now()
    assert retrain_due(now=now)  # nothing trained yet
    model = PredictiveModel.objects.create(version=1, status=ModelStatus.FAILED)
    assert not retrain_due(now=now)
    PredictiveModel.objects.filter(pk=model.pk).update(created_at=now - 8 * DAY)
    assert retrain_due(now=now)
    settings.LEADBASE_PREDICTIVE_RETRAIN_DAYS = 0
    assert not retrain_due(now=now)
