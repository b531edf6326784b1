"""Predicting with the active version: on each rescore, after an activation, with top
factors; classification thresholds on the probability; a tampered artefact is refused."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from django.utils import timezone

from leadbase.leads.events import EventIn, events_record
from leadbase.leads.models import Lead, LifecycleTransition
from leadbase.scoring.models import PredictiveModel
from leadbase.scoring.predictive import prediction
from leadbase.scoring.predictive.training import NotActivatable, model_activate
from leadbase.scoring.rule_sets import rule_set_active, rule_set_draft_create, rule_set_publish
from leadbase.scoring.services import lead_score_explain, leads_rescore

from .world import World

DAY = dt.timedelta(days=1)


def _probability(pk: int) -> float | None:
    return Lead.objects.values_list("predicted_probability", flat=True).get(pk=pk)


@pytest.mark.django_db
def test_a_rescore_predicts_the_lead_with_the_active_model(
    world: World, good_model: PredictiveModel
) -> None:
    # Given an open lead that never visited pricing, predicted with the active model
    quiet = min(world.open, key=lambda pk: _pricing(pk))
    before = _probability(quiet)
    assert before is not None
    # When it visits the pricing page many times and is rescored
    events_record(
        [EventIn(type="pricing_page_view", occurred_at=timezone.now(), lead_id=quiet)] * 1
        + [
            EventIn(type="pricing_page_view", occurred_at=timezone.now() - i * DAY, lead_id=quiet)
            for i in range(1, 6)
        ]
    )
    leads_rescore([quiet])
    # Then its probability was computed again, and went up
    after = _probability(quiet)
    assert after is not None and after > before


def _pricing(pk: int) -> int:
    return Lead.objects.get(pk=pk).events.filter(type="pricing_page_view").count()


@pytest.mark.django_db
def test_closed_leads_are_not_predicted(world: World, good_model: PredictiveModel) -> None:
    closed = world.converted[0]
    leads_rescore([closed])
    assert _probability(closed) is None


@pytest.mark.django_db
def test_the_lead_score_has_the_probability_and_its_top_factors(
    world: World, good_model: PredictiveModel
) -> None:
    keen = max(world.open, key=_pricing)
    explained = lead_score_explain(lead=Lead.objects.get(pk=keen))
    found = explained["prediction"]
    assert found["model_version"] == good_model.version
    assert 0 < found["probability"] < 1
    assert found["factors"], found
    factor = found["factors"][0]
    assert factor["text"].startswith(f"{factor['label']} = {factor['value']}: ")
    assert factor["text"].endswith(("points of probability", "point of probability"))
    assert abs(factor["delta"]) >= abs(found["factors"][-1]["delta"])


@pytest.mark.django_db
def publish_probability_decides_sql() -> None:
    """Publish rules where SQL needs some engagement and a probability of at least 0.5."""
    definition = copy.deepcopy(rule_set_active().definition)
    definition["thresholds"]["qualification"] = {
        "iql": {"engagement": 1},
        "mql": {"engagement": 1},
        "sql": {"engagement": 1, "probability": 0.5},
    }
    rule_set_publish(rule_set=rule_set_draft_create(actor=None, definition=definition), actor=None)


def test_classification_uses_the_probability_threshold(
    world: World, good_model: PredictiveModel
) -> None:
    # Given rules where SQL needs some engagement and a probability of at least 0.5
    publish_probability_decides_sql()
    # When the open leads are predicted and classified
    prediction.open_leads_predict()
    # Then the engaged ones are SQL exactly when their probability reaches 0.5
    rows = Lead.objects.filter(pk__in=world.open, engagement_score__gte=1).values_list(
        "qualification", "predicted_probability"
    )
    assert {q for q, _ in rows} == {"sql", "mql"}, list(rows)
    for qualification, probability in rows:
        assert probability is not None
        assert (qualification == "sql") == (probability >= 0.5)


def test_predicting_without_classifying_keeps_the_classes(
    world: World, good_model: PredictiveModel
) -> None:
    # Given the same rules as above, where the probability decides SQL
    publish_probability_decides_sql()
    Lead.objects.filter(pk__in=world.open).update(predicted_probability=None)
    before = dict(Lead.objects.filter(pk__in=world.open).values_list("pk", "qualification"))
    transitions = LifecycleTransition.objects.count()
    # When the open leads are predicted with classify=False (what the demo does)
    prediction.open_leads_predict(classify=False)
    # Then every one has a probability, and no class moved
    after = Lead.objects.filter(pk__in=world.open).values_list(
        "pk", "qualification", "predicted_probability"
    )
    assert all(p is not None for _, _, p in after)
    assert {pk: q for pk, q, _ in after} == before
    assert LifecycleTransition.objects.count() == transitions
    # while classifying would have moved some (the test can tell)
    prediction.open_leads_predict()
    assert dict(Lead.objects.filter(pk__in=world.open).values_list("pk", "qualification")) != before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "tamper",
    [
        "bytes",  # the stored artefact altered: its SHA-256 no longer matches
        "bytes_and_hash",  # altered and re-hashed: the artefact's own digest refuses it
    ],
)
def test_a_tampered_artefact_is_refused_and_rule_scores_go_on(
    world: World, good_model: PredictiveModel, tamper: str
) -> None:
    # Given the active version's artefact altered in the database
    lead = world.open[0]
    before = _probability(lead)
    assert good_model.artefact is not None
    data = bytearray(bytes(good_model.artefact))
    data[len(data) // 2] ^= 0xFF
    fields: dict[str, object] = {"artefact": bytes(data)}
    if tamper == "bytes_and_hash":
        fields["artefact_sha256"] = prediction.artefact_hash(bytes(data))
    PredictiveModel.objects.filter(pk=good_model.pk).update(**fields)
    prediction.forget()
    # When the lead changes (a rescore)
    events_record([EventIn(type="demo_request", occurred_at=timezone.now(), lead_id=lead)])
    leads_rescore([lead])
    # Then it is scored by the rules, keeps its probability, and the refusal is on the version
    refreshed = Lead.objects.get(pk=lead)
    assert refreshed.engagement_score > 0
    assert refreshed.predicted_probability == before
    model = PredictiveModel.objects.get(pk=good_model.pk)
    assert "refused" in model.error
    assert lead_score_explain(lead=refreshed)["prediction"] is None
    # and it cannot be activated again
    with pytest.raises(prediction.ModelUnavailable):
        model_activate(model=model, actor=None)


@pytest.mark.django_db
def test_a_failed_version_cannot_be_activated(db: None) -> None:
    failed = PredictiveModel.objects.create(version=1, status="failed", error="too little")
    with pytest.raises(NotActivatable):
        model_activate(model=failed, actor=None)


@pytest.mark.parametrize(
    ("value", "delta", "expected"),
    [
        ("3", 0.1234, "Visits = 3: +12 points of probability"),  # whole points
        ("2.41666", -0.004, "Visits = 2.4: -0.4 points of probability"),  # small: one decimal
        ("business", 0.05, "Visits = business: +5 points of probability"),  # a category
        ("", 0.02, "Visits = unknown: +2 points of probability"),
        ("1", 0.0112, "Visits = 1: +1 point of probability"),  # one point, singular
        ("1", -0.0097, "Visits = 1: -1 point of probability"),  # rounds to one point
        ("1", 0.009, "Visits = 1: +0.9 points of probability"),
    ],
)
def test_factor_text_in_plain_words(value: str, delta: float, expected: str) -> None:
    assert prediction.factor_text("Visits", value, delta) == expected
