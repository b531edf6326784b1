"""The compiled numpy path (fast.py) predicts exactly what scikit-learn predicts: for every
model kind, on random rows with missing values, unseen categories, unparseable numbers and
absent columns."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadbase.scoring_engine.learn import Predictor, Table, infer_schema
from leadbase.scoring_engine.learn.encoding import Encoder
from leadbase.scoring_engine.learn.fast import NotCompilable, compile_model
from leadbase.scoring_engine.learn.models import (
    HIGH_CARDINALITY,
    Model,
    high_cardinality,
    select_and_train,
)
from leadbase.scoring_engine.learn.predictor import FAST_ROWS
from tests.scoring_engine.learn.conftest import leads

KINDS = ("gbm", "logistic", "naive_bayes", "blend")
CITIES = [f"city {i}" for i in range(HIGH_CARDINALITY + 15)]
TIERS = ["gold", "silver", "bronze"]


def world(n: int = 600) -> Table:
    """`leads` plus a high-cardinality category (target-encoded for the trees), a small one
    (native categorical splits), a date and a number with gaps."""
    table, y, _ = leads(n, seed=11)
    rng = np.random.default_rng(11)
    start = dt.date(2025, 1, 1)
    table["city"] = [CITIES[int(i)] if i < len(CITIES) else None
                     for i in rng.integers(0, len(CITIES) + 4, size=n)]  # fmt: skip
    table["tier"] = [TIERS[int(i)] if i < 3 else "" for i in rng.integers(0, 4, size=n)]
    table["signed_up"] = [str(start + dt.timedelta(days=int(d))) for d in rng.integers(0, 900, n)]
    table["revenue"] = [None if rng.random() < 0.2 else f"{v:.1f}" for v in rng.lognormal(8, 2, n)]
    table["y"] = list(y)
    return table


@pytest.fixture(scope="module")
def predictors() -> dict[str, Predictor]:
    table = world()
    y = np.asarray(table.pop("y"), dtype=int)
    schema = infer_schema(table)
    encoder = Encoder.learn(table, schema)
    x = encoder.transform(table)
    assert high_cardinality(x, encoder.categorical).any()  # the target-encoded path is covered
    selection = select_and_train(x, y, encoder.categorical, seed=0, tick=lambda _: None)
    models: dict[str, Model] = dict(selection.models)
    gbm, lr = models["gbm"]["parts"][0], models["logistic"]["parts"][0]
    models.setdefault(
        "blend", {"parts": [gbm, lr], "weights": [0.25, 0.75], "calibration": [1.3, -0.2]}
    )
    return {
        kind: Predictor.build(encoder=encoder, model=models[kind], kind=kind, seed=0, schema=schema)
        for kind in KINDS
    }


def _value(kind: str) -> st.SearchStrategy[object]:
    missing = st.sampled_from([None, "", "  "])
    if kind == "numeric":
        number = st.floats(-1e6, 1e9, allow_nan=False).map(lambda v: f"{v:.3f}")
        return st.one_of(missing, number, st.integers(-5, 40).map(str), st.just("n/a"))
    if kind == "categorical":
        return st.one_of(missing, st.sampled_from([*CITIES, *TIERS, "ads", "referral"]),
                         st.text(min_size=1, max_size=6))  # fmt: skip
    if kind == "boolean":
        return st.one_of(missing, st.sampled_from(["yes", "no", "maybe"]))
    return st.one_of(missing, st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1)).map(str))


@st.composite
def rows(draw: st.DrawFn, predictor: Predictor) -> Table:
    n = draw(st.sampled_from([1, 1, 2, 5, FAST_ROWS]))
    table: Table = {}
    for column in predictor.schema.columns:
        if draw(st.integers(0, 9)) == 0:
            continue  # a column the caller does not have
        table[column.name] = draw(st.lists(_value(column.kind), min_size=n, max_size=n))
    if not table:
        table[predictor.schema.columns[0].name] = [None] * n
    return table


@pytest.mark.parametrize("kind", KINDS)
def test_the_fast_path_equals_scikit_learn(predictors: dict[str, Predictor], kind: str) -> None:
    predictor = predictors[kind]
    assert predictor.fast() is not None  # compiled: the comparison below is not trivial

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        table = data.draw(rows(predictor))
        fast = predictor.predict_proba(table)
        general = predictor.general_proba(table)
        assert fast.shape == general.shape
        assert np.max(np.abs(fast - general)) <= 1e-12

    check()


def test_the_training_rows_agree_too(predictors: dict[str, Predictor]) -> None:
    table = world()
    table.pop("y")
    for predictor in predictors.values():
        x = predictor.encoder.transform(table)
        logit = predictor.fast()
        assert logit is not None
        general = predictor.general_proba(table)
        assert np.max(np.abs(1 / (1 + np.exp(-np.clip(logit(x), -35, 35))) - general)) <= 1e-12


def test_an_unknown_estimator_falls_back_to_scikit_learn(
    predictors: dict[str, Predictor],
) -> None:
    from sklearn.dummy import DummyClassifier

    dummy = DummyClassifier().fit(np.zeros((4, 1)), [0, 1, 1, 0])
    with pytest.raises(NotCompilable):
        compile_model({"parts": [{"kind": "gbm", "estimator": dummy}], "weights": [1.0],
                       "calibration": None})  # fmt: skip
