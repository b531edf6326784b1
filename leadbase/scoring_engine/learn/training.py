"""`fit`: learn the probability of conversion from rows with a known outcome.

The rows are split once: by time when times are given (the earliest 80 % train, the latest 20 %
validate), else a stratified random 20 % is held out. Everything that is chosen (the models'
settings, the calibration, the model to ship) is chosen on the training part only (see
`models.select_and_train`); the validation part only measures. The chosen model is then
fitted again on all rows, with the same settings, and shipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from leadbase.scoring_engine.learn.encoding import Encoder
from leadbase.scoring_engine.learn.metrics import (
    calibration_table,
    gains_points,
    metrics,
    roc_points,
    spread,
)
from leadbase.scoring_engine.learn.models import (
    STEPS,
    Model,
    Selection,
    model_proba,
    refit,
    select_and_train,
)
from leadbase.scoring_engine.learn.predictor import Predictor
from leadbase.scoring_engine.learn.schema import Column, Schema, infer_schema
from leadbase.scoring_engine.learn.table import table_length, take

Progress = Callable[[int, int, str], None]
MIN_EACH_CLASS = 30
MIN_EACH_TRAINING = 20  # in the training part (80 % of the rows) of a time split, or a fold
VALIDATION_SHARE = 0.2
IMPORTANCE_REPEATS = 3


class TooLittleData(ValueError):
    """Too few outcomes of one kind to learn from; `have` and `need` hold the numbers."""

    def __init__(
        self, positives: int, negatives: int, need: int = MIN_EACH_CLASS, where: str = ""
    ) -> None:
        self.have = {"positives": positives, "negatives": negatives}
        self.need = {"positives": need, "negatives": need}
        super().__init__(
            f"{where}{positives} converted and {negatives} not: at least {need} of each are "
            "needed to learn a probability"
        )


@dataclass
class TrainingResult:
    """What `fit` learned and how well it did on the validation rows (all JSON-ready but the
    predictor and the index).

    - `models`: per model ("gbm", "logistic", "naive_bayes", and "blend" when it is the chosen
      one) the `metrics(...)` of its probabilities on the validation rows plus their `spread`.
    - `calibration`: per band of predicted probability (0-10 %, ...) `{band, low, high,
      predicted (mean), observed (conversion rate), count}`, for the chosen model.
    - `roc`: [[false positive rate, true positive rate]]; `gains`: [[fraction of leads,
      fraction of conversions]]; 101 points each (empty when undefined).
    - `importance`: `[{feature, label, importance}]`, the drop of ROC AUC when the feature is
      shuffled on the validation rows, largest first.
    - `validation_index`: the validation rows' positions; `validation_proba`: the chosen
      model's probabilities on them (aligned), from the model fitted on the training part,
      before the refit on all rows: what a comparison on validation rows must use.
    - `summary`: `{rows, positives, positive_rate, features, skipped}`.
    - `selection`: how the choice was made inside the training part (inner log losses,
      settings).
    """

    predictor: Predictor
    chosen: str
    validation: str
    models: dict[str, dict[str, Any]]
    validation_index: np.ndarray
    validation_proba: np.ndarray
    calibration: list[dict[str, Any]]
    roc: list[list[float]]
    gains: list[list[float]]
    importance: list[dict[str, Any]]
    summary: dict[str, Any]
    seed: int
    selection: dict[str, Any] = field(default_factory=dict)


def check_enough(y: np.ndarray, *, need: int = MIN_EACH_CLASS, where: str = "") -> None:
    positives = int(np.sum(y))
    negatives = int(y.size - positives)
    if positives < need or negatives < need:
        raise TooLittleData(positives, negatives, need, where)


def as_outcomes(y: Sequence[object] | np.ndarray) -> np.ndarray:
    outcomes = np.asarray(y, dtype=float).ravel()
    if not np.isin(outcomes, (0.0, 1.0)).all():
        raise ValueError("y must hold only 0 and 1")
    return outcomes.astype(int)


def split(
    y: np.ndarray, times: Sequence[float] | np.ndarray | None, seed: int
) -> tuple[np.ndarray, np.ndarray, str]:
    """(training positions, validation positions, the split in words)."""
    n = y.size
    if times is not None:
        moments = np.asarray(times, dtype=float)
        if moments.shape != (n,) or np.isnan(moments).any():
            raise ValueError("times must hold one timestamp per row, none missing")
        order = np.argsort(moments, kind="stable")
        cut = round(n * (1 - VALIDATION_SHARE))
        text = (
            f"time split: trained on the earliest {cut:,} rows (80 %), validated on the latest "
            f"{n - cut:,} (20 %)"
        )
        return np.sort(order[:cut]), np.sort(order[cut:]), text
    train, valid = train_test_split(
        np.arange(n), test_size=VALIDATION_SHARE, stratify=y, random_state=seed
    )
    text = (
        f"stratified random holdout: trained on {train.size:,} rows (80 %), validated on "
        f"{valid.size:,} (20 %)"
    )
    return np.sort(train), np.sort(valid), text


def permutation_importance(
    model: Model, encoder: Encoder, x: np.ndarray, y: np.ndarray, *, seed: int
) -> list[dict[str, Any]]:
    """Per feature column, how much the ROC AUC on these rows drops when its values are
    shuffled across rows (mean over a few shuffles), largest first."""
    if not 0 < y.sum() < y.size:
        return []
    rng = np.random.default_rng(seed)
    base = roc_auc_score(y, model_proba(model, x))
    sources = encoder.sources
    labels = {spec["source"]: spec["label"] for spec in encoder.encoded}
    for spec in encoder.encoded:
        if "part" in spec:  # a date's month and weekday: label by the date column
            labels[spec["source"]] = spec["label"].rsplit(" (", 1)[0]
    rows: list[dict[str, Any]] = []
    for name in dict.fromkeys(sources):
        positions = [j for j, s in enumerate(sources) if s == name]
        drops = []
        for _ in range(IMPORTANCE_REPEATS):
            shuffled = x.copy()
            shuffled[:, positions] = x[rng.permutation(x.shape[0])][:, positions]
            drops.append(base - roc_auc_score(y, model_proba(model, shuffled)))
        rows.append({"feature": name, "label": labels[name], "importance": float(np.mean(drops))})
    rows.sort(key=lambda row: (-row["importance"], row["feature"]))
    return rows


def train_part(
    table: Mapping[str, Sequence[object]],
    y: np.ndarray,
    schema: Schema,
    *,
    seed: int,
    tick: Callable[[str], None],
) -> tuple[Encoder, np.ndarray, Selection]:
    """Learn the encoding and choose + fit the models on these rows only."""
    encoder = Encoder.learn(table, schema)
    x = encoder.transform(table)
    selection = select_and_train(x, y, encoder.categorical, seed=seed, tick=tick)
    return encoder, x, selection


def fit(
    table: Mapping[str, Sequence[object]],
    y: Sequence[object] | np.ndarray,
    *,
    times: Sequence[float] | np.ndarray | None = None,
    seed: int = 0,
    schema: Schema | None = None,
    labels: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> TrainingResult:
    """Train the three models on the same split, choose one inside the training part, measure
    them on the validation part, and return the chosen one fitted on all rows."""
    outcomes = as_outcomes(y)
    n = table_length(table)
    if n != outcomes.size:
        raise ValueError(f"the table has {n} rows and y has {outcomes.size} values")
    check_enough(outcomes)
    if schema is None:
        schema = infer_schema(table, labels=labels)
    elif labels:
        schema = Schema(
            columns=tuple(
                Column(c.name, c.kind, labels.get(c.name, c.label)) for c in schema.columns
            ),
            skipped=schema.skipped,
        )
    if not schema.columns:
        raise ValueError(f"no usable feature: every column was skipped ({schema.skipped})")
    total = STEPS + 3
    done = 0

    def tick(what: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(min(done, total), total, what)

    train, valid, validation = split(outcomes, times, seed)
    check_enough(
        outcomes[train], need=MIN_EACH_TRAINING, where="the training part (80 % of the rows) has "
    )
    train_table, valid_table = take(table, train), take(table, valid)
    encoder, _, selection = train_part(train_table, outcomes[train], schema, seed=seed, tick=tick)
    x_valid = encoder.transform(valid_table)
    y_valid = outcomes[valid]
    results: dict[str, dict[str, Any]] = {}
    probabilities: dict[str, np.ndarray] = {}
    for name, model in selection.models.items():
        probabilities[name] = model_proba(model, x_valid)
        results[name] = metrics(y_valid, probabilities[name]) | {
            "spread": spread(probabilities[name])
        }
    chosen_p = probabilities[selection.chosen]
    importance = permutation_importance(
        selection.models[selection.chosen], encoder, x_valid, y_valid, seed=seed
    )
    tick("feature importance on the validation rows")
    full_encoder = Encoder.learn(table, schema)
    model = refit(selection, full_encoder.transform(table), outcomes, full_encoder.categorical,
                  seed=seed)  # fmt: skip
    tick("the chosen model on all rows")
    predictor = Predictor.build(
        encoder=full_encoder, model=model, kind=selection.chosen, seed=seed, schema=schema
    )
    positives = int(outcomes.sum())
    summary = {
        "rows": n,
        "positives": positives,
        "positive_rate": positives / n,
        "features": schema.features,
        "skipped": dict(schema.skipped),
    }
    tick("done")
    return TrainingResult(
        predictor=predictor,
        chosen=selection.chosen,
        validation=validation,
        models=results,
        validation_index=valid,
        validation_proba=chosen_p,
        calibration=calibration_table(y_valid, chosen_p),
        roc=roc_points(y_valid, chosen_p),
        gains=gains_points(y_valid, chosen_p),
        importance=importance,
        summary=summary,
        seed=seed,
        selection={"inner": selection.inner, "params": selection.params},
    )
