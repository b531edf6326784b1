"""Metrics against values worked out by hand, and the invariants of the charts' data."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadbase.scoring_engine.learn import metrics
from leadbase.scoring_engine.learn.metrics import calibration_table, gains_points, roc_points


def test_metrics_match_hand_computed_values() -> None:
    # Given four rows: probabilities 0.9, 0.6, 0.4, 0.2 for outcomes 1, 0, 1, 0.
    y = np.array([1, 0, 1, 0])
    p = np.array([0.9, 0.6, 0.4, 0.2])
    result = metrics(y, p)
    # Pairs (positive, negative) ordered right: (0.9>0.6), (0.9>0.2), (0.4>0.2); wrong (0.4<0.6).
    assert result["roc_auc"] == pytest.approx(3 / 4)
    # Average precision: precision at each positive's rank: 1/1 and 2/3; mean = 5/6.
    assert result["pr_auc"] == pytest.approx((1 + 2 / 3) / 2)
    expected_log_loss = -(math.log(0.9) + math.log(0.4) + math.log(0.4) + math.log(0.8)) / 4
    assert result["log_loss"] == pytest.approx(expected_log_loss)
    assert result["brier"] == pytest.approx((0.01 + 0.36 + 0.36 + 0.04) / 4)
    # Top decile: ceil(4 / 10) = 1 row, the 0.9 one, converted: rate 1, lift 1 / 0.5.
    assert result["top_decile_conversion_rate"] == 1.0
    assert result["top_decile_lift"] == pytest.approx(2.0)
    assert (result["base_rate"], result["n"], result["positives"]) == (0.5, 4, 2)


def test_metrics_undefined_with_one_class_are_none() -> None:
    result = metrics(np.zeros(5), np.full(5, 0.3))
    assert result["roc_auc"] is None and result["pr_auc"] is None
    assert result["top_decile_lift"] is None
    assert result["brier"] == pytest.approx(0.09)
    assert result["positives"] == 0


def test_calibration_table_groups_by_band_of_probability() -> None:
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([0.05, 0.08, 0.55, 0.52, 1.0])
    bands = calibration_table(y, p)
    assert [b["band"] for b in bands] == ["0-10 %", "50-60 %", "90-100 %"]
    assert [b["count"] for b in bands] == [2, 2, 1]
    assert bands[0]["observed"] == 0.5 and bands[0]["predicted"] == pytest.approx(0.065)
    assert bands[2]["observed"] == 1.0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(0, 1000).map(lambda k: k / 1000)),
        min_size=2,
        max_size=60,
    )
)
def test_chart_data_invariants(rows: list[tuple[bool, float]]) -> None:
    y = np.array([int(a) for a, _ in rows])
    p = np.array([b for _, b in rows])
    gains = gains_points(y, p)
    roc = roc_points(y, p)
    result = metrics(y, p)
    if y.sum() > 0:
        assert len(gains) == 101 and gains[0] == [0.0, 0.0] and gains[-1] == [1.0, 1.0]
        assert all(a[1] <= b[1] for a, b in pairwise(gains))
        assert result["top_decile_lift"] <= 1 / result["base_rate"] + 1e-9
    if 0 < y.sum() < y.size:
        assert len(roc) == 101 and roc[-1] == [1.0, 1.0]
        assert all(a[1] <= b[1] for a, b in pairwise(roc))
        # ROC AUC does not change under a strictly increasing transformation of p.
        assert metrics(y, p**3 / 2)["roc_auc"] == pytest.approx(result["roc_auc"])
    assert sum(b["count"] for b in calibration_table(y, p)) == y.size
