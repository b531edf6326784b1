"""Fair auto-activation: the new version is compared with the active one on validation leads
the active one never trained on (their outcome came after its training data), so an active
version that memorised the older leads does not win by it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

from leadbase.scoring.models import ModelStatus, PredictiveModel
from leadbase.scoring.predictive import prediction
from leadbase.scoring.predictive.dataset import dataset_build, dataset_for
from leadbase.scoring.predictive.features import Table
from leadbase.scoring.predictive.training import (
    UNSEEN_EACH_CLASS,
    comparison_rows,
    latest_cutoff,
    model_train,
)
from leadbase.scoring_engine.learn.training import split

from .world import build_world


class Memoriser:
    """A model that learned its training rows by heart: their outcome for a row it has seen
    (feature for feature), its training rows' conversion rate for any other."""

    def __init__(self, table: Table, y: np.ndarray, rows: np.ndarray) -> None:
        self.known = {self.key(table, int(i)): int(y[i]) for i in rows}
        self.rate = float(np.mean(y[rows]))

    @staticmethod
    def key(table: Table, i: int) -> tuple[str, ...]:
        return tuple(repr(table[name][i]) for name in sorted(table))

    def predict_proba(self, table: Table) -> np.ndarray:
        n = len(next(iter(table.values())))
        known = [self.known.get(self.key(table, i)) for i in range(n)]
        return np.array([self.rate if k is None else 0.999 if k else 0.001 for k in known])


def _log_loss(y: np.ndarray, p: np.ndarray) -> float:
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


@pytest.mark.django_db
def test_a_memorising_active_version_does_not_win_by_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given outcomes of 500 leads; the new version will validate on the latest 20 %
    build_world(seed=0, labelled=500, open_leads=0)
    data = dataset_build()
    _, valid, _ = split(data.y, data.times, 0)
    # and an active version that memorised every lead up to a cut-off T, T chosen so that
    # the validation leads after T hold UNSEEN_EACH_CLASS + 2 conversions and non-conversions
    newest = valid[np.argsort(-data.times[valid], kind="stable")]
    k = next(
        k for k in range(1, newest.size)
        if min(int(data.y[newest[:k]].sum()), k - int(data.y[newest[:k]].sum()))
        >= UNSEEN_EACH_CLASS + 2
    )  # fmt: skip
    cutoff = float(data.times[newest[k]])
    seen = np.flatnonzero(data.times <= cutoff)
    memoriser = Memoriser(data.table, data.y, seen)
    active = PredictiveModel.objects.create(
        version=1,
        status=ModelStatus.ACTIVE,
        artefact=b"memorised",
        artefact_sha256=prediction.artefact_hash(b"memorised"),
        summary={"spec": data.spec.to_dict(), "latest_cutoff": cutoff},
    )
    load = prediction.predictor_load
    monkeypatch.setattr(
        prediction,
        "predictor_load",
        lambda model: memoriser if model.pk == active.pk else load(model),
    )
    # (on all validation leads, the old rule, the memoriser has the lower log loss)
    ids = [data.lead_ids[i] for i in valid]
    everything = dataset_for(lead_ids=ids, cutoffs=data.times[valid], spec=data.spec)
    memorised_loss = _log_loss(data.y[valid], memoriser.predict_proba(everything))
    # When a new version trains
    new = model_train()
    # Then it is compared on the validation leads after T only, where it is better, and wins
    compared: dict[str, Any] = new.metrics["active_compared"]
    assert memorised_loss < new.metrics["chosen_metrics"]["log_loss"], "not a fair trap"
    assert compared["comparison"] == "unseen"
    assert compared["rows"] == int(np.sum(data.times[valid] > cutoff))
    assert compared["new_log_loss"] < compared["log_loss"]
    assert new.status == ModelStatus.ACTIVE, new.activation_note
    assert "came after the active v1's training data" in new.activation_note
    assert PredictiveModel.objects.get(pk=active.pk).status == ModelStatus.RETIRED


def test_comparison_rows_are_the_unseen_ones_when_there_are_enough() -> None:
    times = np.arange(100, dtype=float)
    y = np.tile([0, 1], 50)
    # 60 rows after 39.5: 30 of each class
    rows, unseen = comparison_rows(times=times, y=y, latest=39.5)
    assert unseen and rows.tolist() == list(range(40, 100))
    # 38 rows after 61.5: 19 of each, too few: every row
    rows, unseen = comparison_rows(times=times, y=y, latest=61.5)
    assert not unseen and rows.tolist() == list(range(100))
    # the active version's training data unknown: every row
    rows, unseen = comparison_rows(times=times, y=y, latest=None)
    assert not unseen and rows.size == 100


def test_latest_cutoff_reads_older_summaries_too() -> None:
    moment = dt.datetime(2026, 3, 1, 12, 30, 15, 250_000, tzinfo=dt.UTC)
    assert latest_cutoff({"latest_cutoff": 1_700_000_000.5}) == 1_700_000_000.5
    assert latest_cutoff({"to": moment.isoformat()}) == moment.timestamp()
    assert latest_cutoff({"to": "not a date"}) is None
    assert latest_cutoff({}) is None
