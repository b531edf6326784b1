"""fit: calibrated probabilities, determinism, the too-little-data path, unseen values at
prediction time, and explanations."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadbase.scoring_engine.learn import Predictor, Table, TooLittleData, fit, metrics, take
from tests.scoring_engine.learn.conftest import leads, sigmoid


def test_probabilities_are_calibrated_on_data_with_a_known_probability() -> None:
    # Given y ~ Bernoulli(sigmoid(2x)): the best possible model predicts sigmoid(2x).
    rng = np.random.default_rng(1)
    x = rng.normal(size=3_000)
    y = (rng.random(x.size) < sigmoid(2 * x)).astype(int)
    result = fit({"x": list(x)}, y, seed=0)
    # When predicting new rows from the same distribution
    fresh = rng.normal(size=2_000)
    truth = sigmoid(2 * fresh)
    p = result.predictor.predict_proba({"x": list(fresh)})
    # Then the probabilities are close to the true ones and the Brier score is near the
    # irreducible E[p(1 - p)].
    assert np.mean(np.abs(p - truth)) < 0.04, "predicted probabilities are off the true ones"
    outcomes = (rng.random(fresh.size) < truth).astype(int)
    brier = float(np.mean((p - outcomes) ** 2))
    irreducible = float(np.mean((truth - outcomes) ** 2))
    assert brier - irreducible < 0.01
    for band in result.calibration:
        if band["count"] >= 40:
            assert abs(band["predicted"] - band["observed"]) < 0.15, band


def test_result_is_json_ready_and_describes_the_validation() -> None:
    table, y, _ = leads(600)
    seen: list[tuple[int, int, str]] = []
    result = fit(table, y, seed=0, labels={"visits": "Visits to the site"},
                 progress=lambda d, t, w: seen.append((d, t, w)))  # fmt: skip
    assert "stratified random holdout" in result.validation
    assert result.validation_index.size == 120
    assert {"gbm", "logistic", "naive_bayes"} <= set(result.models)
    assert result.chosen in result.models
    payload = {
        "models": result.models, "calibration": result.calibration, "roc": result.roc,
        "gains": result.gains, "importance": result.importance, "summary": result.summary,
    }  # fmt: skip
    json.dumps(payload)
    assert result.summary["rows"] == 600 and result.summary["positives"] == int(y.sum())
    assert len(result.roc) <= 101 and len(result.gains) <= 101
    # The feature the outcome depends on most comes first, with its label.
    assert result.importance[0]["feature"] == "visits"
    assert result.importance[0]["label"] == "Visits to the site"
    assert result.models[result.chosen]["roc_auc"] > 0.7
    # Progress goes up to its total.
    assert seen and seen[-1][0] == seen[-1][1]
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)


def test_time_split_validates_on_the_latest_rows() -> None:
    table, y, _ = leads(500)
    times = np.arange(500, dtype=float)[::-1] * 3_600  # the first rows are the latest
    result = fit(table, y, times=times, seed=0)
    assert "time split" in result.validation
    assert sorted(result.validation_index.tolist()) == list(range(100))


def test_validation_proba_is_the_training_parts_model_on_the_validation_rows() -> None:
    # Given a time split (the latest 100 rows validate)
    table, y, _ = leads(500, seed=2)
    times = np.arange(500, dtype=float) * 3_600
    result = fit(table, y, times=times, seed=0)
    valid = result.validation_index
    # Then validation_proba is aligned with the validation rows and is what the chosen model's
    # validation metrics were computed from
    assert result.validation_proba.shape == valid.shape
    measured = metrics(y[valid], result.validation_proba)
    assert measured == {k: v for k, v in result.models[result.chosen].items() if k != "spread"}
    # and it is not the shipped model (refitted on all rows, validation rows included)
    shipped = result.predictor.predict_proba(take(table, valid))
    assert not np.allclose(shipped, result.validation_proba)


def test_same_seed_gives_identical_probabilities() -> None:
    table, y, _ = leads(250, seed=3)
    first = fit(table, y, seed=7).predictor.predict_proba(table)
    second = fit(table, y, seed=7).predictor.predict_proba(table)
    assert np.array_equal(first, second)


@pytest.mark.parametrize(
    ("positives", "negatives"),
    [
        (0, 200),  # one class only
        (5, 200),  # five conversions
        (200, 12),  # too few that did not convert
    ],
)
def test_too_little_data_says_what_there_is_and_what_is_needed(
    positives: int, negatives: int
) -> None:
    table, _, _ = leads(positives + negatives)
    y = np.array([1] * positives + [0] * negatives)
    with pytest.raises(TooLittleData) as caught:
        fit(table, y)
    assert caught.value.have == {"positives": positives, "negatives": negatives}
    assert caught.value.need == {"positives": 30, "negatives": 30}
    assert f"{positives} converted and {negatives} not: at least 30 of each" in str(caught.value)


def test_unseen_categories_and_missing_columns_are_handled_at_prediction() -> None:
    table, y, _ = leads(500)
    predictor = fit(table, y, seed=0).predictor
    new: dict[str, list[object]] = {
        "visits": ["4", "", None],
        "channel": ["carrier pigeon", None, "referral"],
        "noise": ["0.1", "bad", "0"],
        # "newsletter" is not there at all
    }
    p = predictor.predict_proba(new)
    assert p.shape == (3,) and np.all((p > 0) & (p < 1))


def test_top_factors_name_the_features_that_move_the_probability() -> None:
    table, y, _ = leads(800)
    predictor = fit(table, y, seed=0, labels={"visits": "Visits"}).predictor
    busy = take(table, np.array([0]))
    busy["visits"] = ["12"]
    busy["channel"] = ["referral"]
    factors = predictor.top_factors(busy, k=2)
    visits = factors[0]
    assert visits.feature == "visits"
    assert visits.label == "Visits" and visits.value == "12" and visits.delta > 0.1
    # The delta is the change against the typical value: setting the typical value back
    # gives back the probability minus the delta.
    typical: dict[str, list[object]] = {name: list(values) for name, values in busy.items()}
    typical["visits"] = ["3"]  # the median of Poisson(3) visits
    p_busy = predictor.predict_proba(busy)[0]
    p_typical = predictor.predict_proba(typical)[0]
    assert p_busy - p_typical == pytest.approx(visits.delta)
    assert len(predictor.top_factors(busy, k=1)) == 1
    with pytest.raises(ValueError, match="one row"):
        predictor.top_factors(table)


@pytest.fixture(scope="module")
def trained() -> tuple[Predictor, Table]:
    table, y, _ = leads(300, seed=11)
    return fit(table, y, seed=0).predictor, table


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 299), min_size=1, max_size=20))
def test_a_row_gets_the_same_probability_whatever_rows_come_with_it(
    trained: tuple[Predictor, Table], rows: list[int]
) -> None:
    predictor, table = trained
    everyone = predictor.predict_proba(table)
    alone = predictor.predict_proba(take(table, np.array(rows)))
    # equal up to float rounding (a batch's matrix products may sum in another order)
    np.testing.assert_allclose(alone, everyone[rows], rtol=0, atol=1e-12)


def test_too_little_data_in_the_training_part_of_a_time_split_is_named() -> None:
    # Given 40 conversions, 35 of them among the latest 20 % of the rows
    table, _, _ = leads(300)
    y = np.zeros(300, dtype=int)
    y[:5] = 1
    y[-35:] = 1
    with pytest.raises(TooLittleData, match=r"^the training part \(80 % of the rows\) has 5 "):
        fit(table, y, times=np.arange(300.0))
