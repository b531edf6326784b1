"""evaluate: its JSON shape, and that every metric comes from held-out rows only."""

from __future__ import annotations

import json

import numpy as np
import pytest

from leadbase.scoring_engine.learn import evaluate
from tests.scoring_engine.learn.conftest import leads

MODEL_KEYS = {"roc_auc", "pr_auc", "log_loss", "brier", "top_decile_lift", "n", "positives"}


def labelled(n: int, *, seed: int = 0) -> dict[str, list[object]]:
    table, y, _ = leads(n, seed=seed)
    data: dict[str, list[object]] = {name: list(values) for name, values in table.items()}
    data["converted"] = ["yes" if v else "no" for v in y]
    return data


def test_evaluate_returns_the_documented_shape() -> None:
    data = labelled(200)
    data["lead_id"] = [f"L-{i:05d}" for i in range(200)]  # a random-looking id, unique per row
    result = evaluate(data, target="converted", folds=2, seed=1)
    json.dumps(result)
    assert set(result) == {
        "rows", "positive_rate", "validation", "models", "chosen", "chosen_metrics",
        "features", "skipped",
    }  # fmt: skip
    assert set(result["models"]) == {"gbm", "logistic", "naive_bayes"}
    for values in [*result["models"].values(), result["chosen_metrics"]]:
        assert set(values) >= MODEL_KEYS
        assert values["n"] == 200  # every row predicted once, out of fold
    assert result["rows"] == 200
    assert "2-fold cross-validation" in result["validation"]
    assert result["skipped"] == {"converted": "target", "lead_id": "identifier: unique per row"}
    assert result["features"] == ["visits", "channel", "noise", "newsletter"]
    assert result["chosen"] in {"gbm", "logistic", "naive_bayes", "blend"}
    assert result["chosen_metrics"]["roc_auc"] > 0.7


def test_a_copy_of_the_target_is_found_and_shuffled_labels_are_not() -> None:
    data = labelled(240, seed=4)
    data["copy"] = ["won" if v == "yes" else "lost" for v in data["converted"]]
    leaky = evaluate(data, target="converted", folds=2)
    assert leaky["chosen_metrics"]["roc_auc"] > 0.99
    # Labels shuffled: no feature can predict them on held-out rows, however well the models
    # could fit the rows they were trained on.
    rng = np.random.default_rng(0)
    shuffled = labelled(240, seed=4)
    shuffled["converted"] = [str(v) for v in rng.permutation(np.array(shuffled["converted"]))]
    result = evaluate(shuffled, target="converted", folds=2)
    for values in [*result["models"].values(), result["chosen_metrics"]]:
        assert 0.35 < values["roc_auc"] < 0.65, values
    spread = result["chosen_metrics"]["spread"]
    assert spread["p90"] - spread["p10"] < 0.25, "no signal: probabilities stay near the base rate"


def test_time_column_splits_by_time_and_is_not_a_feature() -> None:
    data = labelled(300)
    data["created"] = [f"2025-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}" for i in range(300)]
    result = evaluate(data, target="converted", time_column="created", drop=["noise"])
    assert result["validation"].startswith("time split: trained on the earliest 240 rows")
    assert result["models"]["gbm"]["n"] == 60
    assert result["skipped"]["created"] == "time column"
    assert result["skipped"]["noise"] == "dropped by --drop"


def test_positive_value_is_chosen_or_defaults_to_yes() -> None:
    data = labelled(200)
    data["stage"] = ["Won" if v == "yes" else "Lost" for v in data.pop("converted")]
    with pytest.raises(ValueError, match=r"none is 1/yes/true among its values \('Lost', 'Won'\)"):
        evaluate(data, target="stage", folds=2)
    with pytest.raises(ValueError, match="'Closed' does not occur"):
        evaluate(data, target="stage", positive="Closed", folds=2)
    result = evaluate(data, target="stage", positive="won", folds=2)  # any case
    assert result["positive_rate"] == pytest.approx(data["stage"].count("Won") / 200)


def test_numeric_targets_may_be_written_as_floats() -> None:
    data = labelled(200)
    data["converted"] = ["1.0" if v == "yes" else "0.0" for v in data["converted"]]
    result = evaluate(data, target="converted", folds=2)
    assert result["positive_rate"] == pytest.approx(data["converted"].count("1.0") / 200)


def test_unknown_columns_are_named() -> None:
    with pytest.raises(ValueError, match=r"no column named 'outcome'; the columns are: 'visits'"):
        evaluate(labelled(50), target="outcome")


def test_a_header_without_rows_says_so() -> None:
    with pytest.raises(ValueError, match="header but no rows"):
        evaluate({"visits": [], "converted": []}, target="converted")
