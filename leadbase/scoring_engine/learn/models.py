"""The three models, chosen and tuned only on the rows they train on.

- "gbm": scikit-learn's HistGradientBoostingClassifier (native categories, or target-encoded
  ones above 30 categories; early stopping on a 10 % slice of its own training rows), its
  logit mapped by a Platt (sigmoid) calibration.
- "logistic": one-hot categories, numbers imputed by the median with a missing flag, plus their
  signed log (heavy-tailed counts), scaled; L2 penalty.
- "naive_bayes": the "automated probability" of open-source CRMs: per field the frequency of
  each value among won and among lost rows, Laplace-smoothed, numbers binned into deciles,
  missing a value of its own; the prior odds times the product of the ratios. Not calibrated:
  it is the baseline as those CRMs ship it.
- "blend": the average of the gbm's and the logistic's logits (weight chosen), calibrated.

`select_and_train` runs an inner stratified k-fold over the training rows only: the gbm's
regularisation (a small grid, from flexible to strongly regularised), the logistic's C, the
blend's weight and the calibrations are all fitted on the inner out-of-fold predictions, and
the model to ship is the one with the lowest inner out-of-fold log loss. The held-out rows
(validation part or test fold) are never seen by any of these choices.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    OneHotEncoder,
    StandardScaler,
    TargetEncoder,
)
from threadpoolctl import (  # type: ignore[import-untyped]  # scikit-learn's own dependency
    ThreadpoolController,
)

Model = dict[str, Any]  # plain data + scikit-learn estimators: stored with skops
Tick = Callable[[str], None]

GBM_GRID: tuple[dict[str, float], ...] = (
    {"learning_rate": 0.1, "max_leaf_nodes": 15, "min_samples_leaf": 20, "l2_regularization": 0},
    {"learning_rate": 0.05, "max_leaf_nodes": 7, "min_samples_leaf": 50, "l2_regularization": 1},
    {"learning_rate": 0.05, "max_leaf_nodes": 4, "min_samples_leaf": 100, "l2_regularization": 10},
)
LOGISTIC_C = (0.01, 0.1, 1.0)
BLEND_WEIGHTS = (0.25, 0.5, 0.75)
INNER_FOLDS = 3
NB_BINS = 10
NB_ALPHA = 1.0
EARLY_STOPPING_ROWS = 400
HIGH_CARDINALITY = 30  # more categories than this: target-encoded for the boosted trees
STEPS = INNER_FOLDS * (len(GBM_GRID) + len(LOGISTIC_C) + 1) + 3
NAMES = ("gbm", "logistic", "naive_bayes")


@cache
def _controller() -> Any:
    return ThreadpoolController()


def one_thread() -> AbstractContextManager[Any]:
    """Run OpenMP/BLAS on one thread: on a shared machine the boosted trees' thread pool costs
    far more than it gains (a 1,000-row fit: 0.8 s on two busy cores, 0.02 s on one), and one
    thread keeps results identical from run to run. Entering it costs about a millisecond."""
    limit: AbstractContextManager[Any] = _controller().limit(limits=1)
    return limit


def sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -35, 35))))


def log_loss(y: np.ndarray, z: np.ndarray) -> float:
    """Mean log loss of logits z (stable: log(1 + e^-z) for positives, log(1 + e^z) else)."""
    signed = np.where(y > 0.5, -z, z)
    return float(np.mean(np.logaddexp(0.0, signed)))


def _signed_log(x: np.ndarray) -> np.ndarray:
    return np.asarray(np.sign(x) * np.log1p(np.abs(x)))


def high_cardinality(x: np.ndarray, categorical: np.ndarray) -> np.ndarray:
    """The categorical columns with more than HIGH_CARDINALITY codes."""
    codes = np.where(np.isnan(x), -1.0, x).max(axis=0, initial=-1.0) + 1
    return np.asarray(categorical & (codes > HIGH_CARDINALITY))


def make_gbm(
    params: dict[str, float], categorical: np.ndarray, seed: int, n: int, high: np.ndarray
) -> Any:
    """Boosted trees; the high-cardinality categories go in target-encoded (cross-fitted on
    the training rows: each row's code is replaced by the conversion rate of its category
    among the other folds' rows), the others as native categories."""
    if not high.any():
        return _hgb(params, categorical, seed, n)
    rest = np.flatnonzero(~high)
    encode = TargetEncoder(
        target_type="binary", cv=StratifiedKFold(5, shuffle=True, random_state=seed)
    )
    columns = ColumnTransformer(
        [("rates", encode, np.flatnonzero(high)), ("rest", "passthrough", rest)]
    )
    native = np.concatenate([np.zeros(int(high.sum()), dtype=bool), categorical[rest]])
    return Pipeline([("features", columns), ("model", _hgb(params, native, seed, n))])


def _hgb(params: dict[str, float], categorical: np.ndarray, seed: int, n: int) -> Any:
    early = n >= EARLY_STOPPING_ROWS
    return HistGradientBoostingClassifier(
        learning_rate=params["learning_rate"],
        max_leaf_nodes=int(params["max_leaf_nodes"]),
        min_samples_leaf=int(params["min_samples_leaf"]),
        l2_regularization=params["l2_regularization"],
        max_iter=500 if early else 100,
        early_stopping=early,
        validation_fraction=0.1,
        n_iter_no_change=20,
        categorical_features=categorical if categorical.any() else None,
        random_state=seed,
    )


def make_logistic(c: float, categorical: np.ndarray) -> Any:
    cat = np.flatnonzero(categorical)
    num = np.flatnonzero(~categorical)
    steps: list[tuple[str, Any, Any]] = []
    if cat.size:
        steps.append(
            (
                "categories",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value=-1.0),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                cat,
            )
        )
    if num.size:
        numbers = make_pipeline(SimpleImputer(strategy="median", add_indicator=True))
        logs = make_pipeline(
            SimpleImputer(strategy="median"), FunctionTransformer(_signed_log), StandardScaler()
        )
        steps.append(("numbers", make_pipeline(numbers, StandardScaler()), num))
        steps.append(("logs", logs, num))
    return Pipeline(
        [
            ("features", ColumnTransformer(steps, sparse_threshold=0.3)),
            ("model", LogisticRegression(C=c, max_iter=2000)),
        ]
    )


def nb_fit(x: np.ndarray, y: np.ndarray, categorical: np.ndarray) -> dict[str, Any]:
    """Per encoded column, the Laplace-smoothed log ratio of value frequencies (won / lost)."""
    won = y > 0.5
    n_won, n_lost = int(won.sum()), int((~won).sum())
    columns: list[dict[str, Any]] = []
    for j in range(x.shape[1]):
        column = x[:, j]
        present = column[~np.isnan(column)]
        if categorical[j]:
            edges = None
            k = int(present.max()) + 1 if present.size else 0
        else:
            quantiles = np.linspace(0, 1, NB_BINS + 1)[1:-1]
            edges = np.unique(np.quantile(present, quantiles)) if present.size else np.empty(0)
            k = edges.size + 1
        index = _nb_index(column, edges, k)
        pos = np.bincount(index[won], minlength=k + 1).astype(float)
        neg = np.bincount(index[~won], minlength=k + 1).astype(float)
        width = NB_ALPHA * (k + 1)
        ratio = np.log((pos + NB_ALPHA) / (n_won + width)) - np.log(
            (neg + NB_ALPHA) / (n_lost + width)
        )
        columns.append({"edges": edges, "k": k, "ratio": ratio})
    return {"prior": float(np.log(max(n_won, 1) / max(n_lost, 1))), "columns": columns}


def _nb_index(column: np.ndarray, edges: np.ndarray | None, k: int) -> np.ndarray:
    missing = np.isnan(column)
    if edges is None:
        index = np.where(missing, k, np.nan_to_num(column, nan=0.0)).astype(int)
        index[(index < 0) | (index > k)] = k  # unseen codes count as missing
        return np.asarray(index)
    index = np.searchsorted(edges, np.nan_to_num(column, nan=0.0), side="right")
    return np.asarray(np.where(missing, k, index))


def nb_logit(state: dict[str, Any], x: np.ndarray) -> np.ndarray:
    z = np.full(x.shape[0], state["prior"])
    for j, column in enumerate(state["columns"]):
        z += column["ratio"][_nb_index(x[:, j], column["edges"], column["k"])]
    return z


def part_logit(part: dict[str, Any], x: np.ndarray) -> np.ndarray:
    if part["kind"] == "naive_bayes":
        return nb_logit(part["estimator"], x)
    return np.asarray(part["estimator"].decision_function(x), dtype=float)


def model_logit(model: Model, x: np.ndarray) -> np.ndarray:
    z = np.zeros(x.shape[0])
    for weight, part in zip(model["weights"], model["parts"], strict=True):
        z += weight * part_logit(part, x)
    if model["calibration"] is not None:
        a, b = model["calibration"]
        z = a * z + b
    return z


def model_proba(model: Model, x: np.ndarray) -> np.ndarray:
    with one_thread():
        return sigmoid(model_logit(model, x))


def platt(z: np.ndarray, y: np.ndarray) -> list[float]:
    """Sigmoid calibration a * z + b fitted by (barely penalised) logistic regression; a is
    never negative (a reversed score is no score: the base rate instead)."""
    fitted = LogisticRegression(C=1e4, max_iter=1000).fit(z.reshape(-1, 1), y)
    a, b = float(fitted.coef_[0, 0]), float(fitted.intercept_[0])
    if a <= 0:
        rate = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
        return [0.0, float(np.log(rate / (1 - rate)))]
    return [a, b]


def _apply(calibration: list[float], z: np.ndarray) -> np.ndarray:
    return calibration[0] * z + calibration[1]


@dataclass
class Selection:
    """The fitted models (each a `Model`), the one to ship and how the choice was made."""

    models: dict[str, Model]
    chosen: str
    inner: dict[str, Any]
    params: dict[str, Any]


def select_and_train(
    x: np.ndarray, y: np.ndarray, categorical: np.ndarray, *, seed: int, tick: Tick
) -> Selection:
    """Tune and choose on inner folds of these rows, then fit every model on all of them."""
    with one_thread():
        return _select_and_train(x, y, categorical, seed=seed, tick=tick)


def _select_and_train(
    x: np.ndarray, y: np.ndarray, categorical: np.ndarray, *, seed: int, tick: Tick
) -> Selection:
    n = x.shape[0]
    high = high_cardinality(x, categorical)
    gbm_oof = np.zeros((len(GBM_GRID), n))
    lr_oof = np.zeros((len(LOGISTIC_C), n))
    nb_oof = np.zeros(n)
    folds = StratifiedKFold(INNER_FOLDS, shuffle=True, random_state=seed)
    for fold, (train, test) in enumerate(folds.split(x, y), start=1):
        for g, params in enumerate(GBM_GRID):
            gbm = make_gbm(params, categorical, seed, train.size, high).fit(x[train], y[train])
            gbm_oof[g, test] = gbm.decision_function(x[test])
            tick(f"inner fold {fold}: boosted trees {g + 1}/{len(GBM_GRID)}")
        for c, value in enumerate(LOGISTIC_C):
            lr = make_logistic(value, categorical).fit(x[train], y[train])
            lr_oof[c, test] = lr.decision_function(x[test])
            tick(f"inner fold {fold}: logistic regression C={value}")
        nb_oof[test] = nb_logit(nb_fit(x[train], y[train], categorical), x[test])
        tick(f"inner fold {fold}: naive Bayes")
    gbm_cal = [platt(z, y) for z in gbm_oof]
    gbm_loss = [log_loss(y, _apply(cal, z)) for cal, z in zip(gbm_cal, gbm_oof, strict=True)]
    g_best = int(np.argmin(gbm_loss))
    lr_loss = [log_loss(y, z) for z in lr_oof]
    c_best = int(np.argmin(lr_loss))
    blends = []
    for w in BLEND_WEIGHTS:
        z = w * gbm_oof[g_best] + (1 - w) * lr_oof[c_best]
        cal = platt(z, y)
        blends.append((log_loss(y, _apply(cal, z)), w, cal))
    blend_loss, blend_w, blend_cal = min(blends, key=lambda item: item[0])
    losses = {
        "gbm": gbm_loss[g_best],
        "logistic": lr_loss[c_best],
        "naive_bayes": log_loss(y, nb_oof),
        "blend": blend_loss,
    }
    chosen = min(losses, key=lambda name: losses[name])
    gbm = make_gbm(GBM_GRID[g_best], categorical, seed, n, high).fit(x, y)
    tick("boosted trees on all training rows")
    lr = make_logistic(LOGISTIC_C[c_best], categorical).fit(x, y)
    tick("logistic regression on all training rows")
    nb = nb_fit(x, y, categorical)
    tick("naive Bayes on all training rows")
    gbm_part = {"kind": "gbm", "estimator": gbm}
    lr_part = {"kind": "logistic", "estimator": lr}
    models: dict[str, Model] = {
        "gbm": {"parts": [gbm_part], "weights": [1.0], "calibration": gbm_cal[g_best]},
        "logistic": {"parts": [lr_part], "weights": [1.0], "calibration": None},
        "naive_bayes": {
            "parts": [{"kind": "naive_bayes", "estimator": nb}],
            "weights": [1.0],
            "calibration": None,
        },
    }
    if chosen == "blend":
        models["blend"] = {
            "parts": [gbm_part, lr_part],
            "weights": [blend_w, 1 - blend_w],
            "calibration": blend_cal,
        }
    settings: dict[str, Any] = {
        "gbm": dict(GBM_GRID[g_best]),
        "logistic_c": LOGISTIC_C[c_best],
        "blend_weight": blend_w,
    }
    inner = {"log_loss": losses, "folds": INNER_FOLDS}
    return Selection(models=models, chosen=chosen, inner=inner, params=settings)


def refit(
    selection: Selection, x: np.ndarray, y: np.ndarray, categorical: np.ndarray, *, seed: int
) -> Model:
    """The chosen model fitted again on these rows with the same settings and calibration."""
    with one_thread():
        return _refit(selection, x, y, categorical, seed=seed)


def _refit(
    selection: Selection, x: np.ndarray, y: np.ndarray, categorical: np.ndarray, *, seed: int
) -> Model:
    chosen = selection.models[selection.chosen]
    parts: list[dict[str, Any]] = []
    for part in chosen["parts"]:
        if part["kind"] == "gbm":
            params = selection.params["gbm"]
            high = high_cardinality(x, categorical)
            estimator: Any = make_gbm(params, categorical, seed, x.shape[0], high).fit(x, y)
        elif part["kind"] == "logistic":
            estimator = make_logistic(selection.params["logistic_c"], categorical).fit(x, y)
        else:
            estimator = nb_fit(x, y, categorical)
        parts.append({"kind": part["kind"], "estimator": estimator})
    return {
        "parts": parts,
        "weights": list(chosen["weights"]),
        "calibration": chosen["calibration"],
    }
