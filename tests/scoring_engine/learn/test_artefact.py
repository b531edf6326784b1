"""Model artefacts: a good one round-trips to identical predictions; a corrupted, altered or
crafted one (a type outside the allow-list) is refused before anything is built."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import skops.io as sio

from leadbase.scoring_engine.learn import (
    ArtefactRefused,
    Predictor,
    Schema,
    dumps,
    fit,
    infer_schema,
    loads,
)
from leadbase.scoring_engine.learn.encoding import Encoder
from leadbase.scoring_engine.learn.models import Model, select_and_train
from leadbase.scoring_engine.learn.predictor import MAGIC
from tests.scoring_engine.learn.conftest import leads


@pytest.fixture(scope="module")
def trained() -> tuple[Predictor, dict[str, list[object]]]:
    table, y, _ = leads(400, seed=5)
    return fit(table, y, seed=0).predictor, table  # type: ignore[return-value]


class Payload:
    """A type nobody allowed: loading it could run its module's code."""

    def __init__(self) -> None:
        self.command = "rm -rf /"


def wrap(payload: bytes) -> bytes:
    """A blob with a correct header and digest: only the allow-list stands in the way."""
    return MAGIC + hashlib.sha256(payload).digest() + payload


def test_a_good_artefact_round_trips_to_identical_predictions(
    trained: tuple[Predictor, dict[str, list[object]]],
) -> None:
    predictor, table = trained
    loaded = loads(dumps(predictor))
    assert np.array_equal(loaded.predict_proba(table), predictor.predict_proba(table))
    assert (loaded.kind, loaded.seed, loaded.features) == (
        predictor.kind,
        predictor.seed,
        predictor.features,
    )
    one = {name: values[:1] for name, values in table.items()}
    assert loaded.top_factors(one) == predictor.top_factors(one)


@pytest.mark.parametrize("where", [40, 200, -100, -3])
def test_altered_bytes_are_refused(
    trained: tuple[Predictor, dict[str, list[object]]], where: int
) -> None:
    blob = bytearray(dumps(trained[0]))
    blob[where] ^= 0x01
    with pytest.raises(ArtefactRefused, match="corrupted or was altered"):
        loads(bytes(blob))


def test_truncated_or_foreign_bytes_are_refused(
    trained: tuple[Predictor, dict[str, list[object]]],
) -> None:
    blob = dumps(trained[0])
    with pytest.raises(ArtefactRefused):
        loads(blob[: len(blob) // 2])
    with pytest.raises(ArtefactRefused, match="unknown header"):
        loads(b"PK\x03\x04 a zip file, or a pickle")
    with pytest.raises(ArtefactRefused, match="cannot be read"):
        loads(wrap(b"not a skops archive"))


def test_an_artefact_holding_an_untrusted_type_is_refused(
    trained: tuple[Predictor, dict[str, list[object]]],
) -> None:
    state = dict(trained[0].state())
    state["extra"] = Payload()
    with pytest.raises(ArtefactRefused, match=r"not allowed: \[.*Payload"):
        loads(wrap(sio.dumps(state)))


def test_an_artefact_of_another_shape_is_refused() -> None:
    with pytest.raises(ArtefactRefused, match="unknown format"):
        loads(wrap(sio.dumps({"format": 99})))


@pytest.fixture(scope="module")
def every_model() -> tuple[Encoder, Schema, dict[str, Model], dict[str, list[object]]]:
    """Every kind of model, fitted on numeric, categorical (few and many values), boolean and
    date columns."""
    table, y, _ = leads(450, seed=2)
    table["signed_up"] = [f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(450)]
    table["page"] = [f"/page/{i % 40}" for i in range(450)]  # target-encoded for the trees
    schema = infer_schema(table)
    assert {c.kind for c in schema.columns} == {"numeric", "categorical", "boolean", "datetime"}
    encoder = Encoder.learn(table, schema)
    x = encoder.transform(table)
    models = select_and_train(x, y, encoder.categorical, seed=0, tick=lambda _: None).models
    models["blend"] = {
        "parts": [models["gbm"]["parts"][0], models["logistic"]["parts"][0]],
        "weights": [0.5, 0.5],
        "calibration": [1.0, 0.0],
    }
    return encoder, schema, models, table  # type: ignore[return-value]


@pytest.mark.parametrize("kind", ["gbm", "logistic", "naive_bayes", "blend"])
def test_every_kind_of_model_loads_under_the_allow_list(
    every_model: tuple[Encoder, Schema, dict[str, Model], dict[str, list[object]]], kind: str
) -> None:
    encoder, schema, models, table = every_model
    built = Predictor.build(encoder=encoder, model=models[kind], kind=kind, seed=0, schema=schema)
    assert np.array_equal(loads(dumps(built)).predict_proba(table), built.predict_proba(table))
