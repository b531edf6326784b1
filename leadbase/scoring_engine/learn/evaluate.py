"""`evaluate`: the training pipeline measured on any table, on held-out rows only.

Without a time column: stratified k-fold cross-validation (5 folds by default); in each fold the
whole of `fit`'s work (encoding, tuning, choosing, calibrating) is done on the training folds,
and the held-out fold is only predicted. The metrics are computed on the pooled out-of-fold
predictions (each model's ROC AUC per fold is given too, to show the spread). With a time
column: one split, the earliest 80 % train, the latest 20 % test.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold

from leadbase.scoring_engine.learn.metrics import metrics, spread
from leadbase.scoring_engine.learn.models import NAMES, STEPS, model_proba
from leadbase.scoring_engine.learn.schema import (
    as_text,
    date_format,
    infer_schema,
    is_missing,
    parse_datetime,
    parse_number,
)
from leadbase.scoring_engine.learn.table import table_length, take
from leadbase.scoring_engine.learn.training import (
    MIN_EACH_TRAINING,
    check_enough,
    split,
    train_part,
)

Progress = Callable[[int, int, str], None]
POSITIVE_WORDS = ("1", "yes", "true")


def _outcome_text(value: object) -> str:
    """The value as text, numbers written plainly ("1.0" -> "1")."""
    number = parse_number(value) if not isinstance(value, bool) else None
    return as_text(number) if number is not None else as_text(value)


def outcomes_from(values: Sequence[object], *, target: str, positive: str | None) -> np.ndarray:
    """1 where the target equals the positive value (case-insensitive), else 0; -1 where the
    target is missing. ValueError listing the target's values when none is positive."""
    texts = ["" if is_missing(v) else _outcome_text(v) for v in values]
    lowered = [t.lower() for t in texts]
    present = sorted({t for t in texts if t})
    if positive is not None:
        wanted = {_outcome_text(positive).lower()}
    else:
        wanted = {w for w in POSITIVE_WORDS if w in set(lowered)}
    if not wanted or not (wanted & set(lowered)):
        shown = ", ".join(repr(v) for v in present[:20]) + (" ..." if len(present) > 20 else "")
        asked = f"{positive!r} does not occur" if positive is not None else "none is 1/yes/true"
        raise ValueError(
            f"column {target!r}: {asked} among its values ({shown}); "
            "pass the value that means converted with --positive"
        )
    return np.array([-1 if not t else int(t in wanted) for t in lowered], dtype=int)


def evaluate(
    table: Mapping[str, Sequence[object]],
    *,
    target: str,
    positive: str | None = None,
    time_column: str | None = None,
    drop: Collection[str] = (),
    seed: int = 0,
    folds: int = 5,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The three models and the one Leadbase would ship, measured on held-out rows."""
    missing_columns = [c for c in (target, time_column, *drop) if c and c not in table]
    if missing_columns:
        raise ValueError(
            f"no column named {', '.join(map(repr, missing_columns))}; the columns are: "
            + ", ".join(repr(c) for c in table)
        )
    if table_length(table) == 0:  # the columns agree in length
        raise ValueError("the data has a header but no rows")
    y_all = outcomes_from(table[target], target=target, positive=positive)
    keep = y_all >= 0
    notes: list[str] = []
    if not keep.all():
        notes.append(f"{int((~keep).sum())} rows without a target value left out")
    times: np.ndarray | None = None
    if time_column is not None:
        form = date_format(table[time_column])
        moments = [parse_datetime(v, form) for v in table[time_column]]
        stamps = np.array([m.timestamp() if m else np.nan for m in moments])
        if np.isnan(stamps[keep]).all():
            raise ValueError(f"column {time_column!r} holds no date or time")
        lost = keep & np.isnan(stamps)
        if lost.any():
            notes.append(f"{int(lost.sum())} rows without a time left out")
        keep &= ~np.isnan(stamps)
        times = stamps[keep]
    rows = np.flatnonzero(keep)
    data = take(table, rows)
    y = y_all[rows]
    check_enough(y)
    schema = infer_schema(data, target=target, drop=drop, time_column=time_column)
    if not schema.columns:
        raise ValueError(f"no usable feature: every column was skipped ({schema.skipped})")

    if times is not None:
        train, test, text = split(y, times, seed)
        plan = [(train, test)]
        validation = text.replace("validated", "tested")
    else:
        splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
        plan = list(splitter.split(np.zeros(y.size), y))
        validation = (
            f"stratified {folds}-fold cross-validation (shuffled, seed {seed}); metrics on the "
            "pooled out-of-fold predictions; tuning and model choice inside each training fold"
        )
    total = len(plan) * STEPS
    done = 0

    def tick(what: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(min(done, total), total, what)

    tested = np.concatenate([test for _, test in plan])
    predictions = {name: np.full(y.size, np.nan) for name in (*NAMES, "chosen")}
    choices: list[str] = []
    for fold, (train, test) in enumerate(plan, start=1):
        check_enough(y[train], need=MIN_EACH_TRAINING, where=f"training rows of fold {fold}: ")
        prefix = f"fold {fold}/{len(plan)}: " if len(plan) > 1 else ""
        encoder, _, selection = train_part(
            take(data, train),
            y[train],
            schema,
            seed=seed,
            tick=lambda what, prefix=prefix: tick(prefix + what),  # type: ignore[misc]
        )
        x_test = encoder.transform(take(data, test))
        for name in NAMES:
            predictions[name][test] = model_proba(selection.models[name], x_test)
        predictions["chosen"][test] = model_proba(selection.models[selection.chosen], x_test)
        choices.append(selection.chosen)

    y_test = y[tested]

    def measured(name: str) -> dict[str, Any]:
        p = predictions[name]
        by_fold = [metrics(y[test], p[test])["roc_auc"] for _, test in plan]
        return metrics(y_test, p[tested]) | {
            "spread": spread(p[tested]),
            "roc_auc_by_fold": by_fold,
        }

    models = {name: measured(name) for name in NAMES}
    counts = Counter(choices)
    chosen = max(counts, key=lambda name: (counts[name], -choices.index(name)))
    chosen_metrics = measured("chosen") | {"choices": dict(counts)}
    if notes:
        validation += "; " + "; ".join(notes)
    return {
        "rows": int(y.size),
        "positive_rate": float(y.mean()),
        "validation": validation,
        "models": models,
        "chosen": chosen,
        "chosen_metrics": chosen_metrics,
        "features": schema.features,
        "skipped": dict(schema.skipped),
    }
