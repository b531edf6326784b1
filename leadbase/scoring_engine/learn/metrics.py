"""How good predicted probabilities are: the numbers and the charts' data, JSON-ready.

Top decile: the ceil(n / 10) rows with the highest probability (ties in row order); its lift is
its conversion rate divided by the base rate. A metric that is undefined (ROC AUC with one class
only, lift with no positives) is None.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

EPS = 1e-15
UNDEFINED_WHEN_EMPTY = ("roc_auc", "pr_auc", "log_loss", "brier", "top_decile_lift",
                        "top_decile_conversion_rate", "base_rate")  # fmt: skip
POINTS = 101


def _arrays(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float).ravel()
    p = np.asarray(p, dtype=float).ravel()
    if y.shape != p.shape:
        raise ValueError(f"y has {y.size} values and p has {p.size}")
    return y, p


def top_decile(p: np.ndarray) -> np.ndarray:
    """Positions of the ceil(n / 10) highest probabilities (earlier rows first among ties)."""
    k = math.ceil(p.size / 10)
    return np.argsort(-p, kind="stable")[:k]


def metrics(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """ROC AUC, PR AUC (average precision), log loss, Brier score, top-decile lift and
    conversion rate, base rate, n and positives of probabilities `p` for outcomes `y` (0/1)."""
    y, p = _arrays(y, p)
    n = int(y.size)
    positives = int(y.sum())
    both = 0 < positives < n
    if n == 0:
        return dict.fromkeys(UNDEFINED_WHEN_EMPTY) | {"n": 0, "positives": 0}
    base = positives / n
    clipped = np.clip(p, EPS, 1 - EPS)
    log_loss = float(-np.mean(y * np.log(clipped) + (1 - y) * np.log(1 - clipped)))
    top_rate = float(y[top_decile(p)].mean())
    return {
        "roc_auc": float(roc_auc_score(y, p)) if both else None,
        "pr_auc": float(average_precision_score(y, p)) if positives else None,
        "log_loss": log_loss,
        "brier": float(np.mean((p - y) ** 2)),
        "top_decile_lift": top_rate / base if positives else None,
        "top_decile_conversion_rate": top_rate,
        "base_rate": base,
        "n": n,
        "positives": positives,
    }


def calibration_table(y: np.ndarray, p: np.ndarray, *, bands: int = 10) -> list[dict[str, Any]]:
    """Predicted vs observed conversion per band of probability (0-10 %, 10-20 %, ...; only the
    bands that hold rows)."""
    y, p = _arrays(y, p)
    band = np.minimum((p * bands).astype(int), bands - 1)
    rows: list[dict[str, Any]] = []
    for b in range(bands):
        inside = band == b
        count = int(inside.sum())
        if not count:
            continue
        low, high = b / bands, (b + 1) / bands
        rows.append(
            {
                "band": f"{round(low * 100)}-{round(high * 100)} %",
                "low": low,
                "high": high,
                "predicted": float(p[inside].mean()),
                "observed": float(y[inside].mean()),
                "count": count,
            }
        )
    return rows


def roc_points(y: np.ndarray, p: np.ndarray) -> list[list[float]]:
    """The ROC curve as [false positive rate, true positive rate] at 101 evenly spaced false
    positive rates, as a step function (empty with one class only)."""
    y, p = _arrays(y, p)
    if not 0 < y.sum() < y.size:
        return []
    fpr, tpr, _ = roc_curve(y, p)
    grid = np.linspace(0.0, 1.0, POINTS)
    curve = tpr[np.searchsorted(fpr, grid, side="right") - 1]  # the best tpr at fpr <= grid
    return [[round(float(f), 4), round(float(t), 4)] for f, t in zip(grid, curve, strict=True)]


def gains_points(y: np.ndarray, p: np.ndarray) -> list[list[float]]:
    """Cumulative gains: [fraction of leads, fraction of conversions] when the leads are taken
    from the highest probability down, at 101 evenly spaced fractions (empty without any
    conversion)."""
    y, p = _arrays(y, p)
    total = y.sum()
    if total == 0:
        return []
    captured = np.concatenate([[0.0], np.cumsum(y[np.argsort(-p, kind="stable")]) / total])
    grid = np.linspace(0.0, 1.0, POINTS)
    taken = np.round(grid * y.size).astype(int)
    return [
        [round(float(f), 4), round(float(captured[k]), 4)] for f, k in zip(grid, taken, strict=True)
    ]


def spread(p: np.ndarray) -> dict[str, float]:
    """How far apart the probabilities are: min, 10th/50th/90th percentile, max, std."""
    p = np.asarray(p, dtype=float)
    if p.size == 0:
        return {}
    q = np.percentile(p, [0, 10, 50, 90, 100])
    return {
        "min": float(q[0]),
        "p10": float(q[1]),
        "median": float(q[2]),
        "p90": float(q[3]),
        "max": float(q[4]),
        "std": float(p.std()),
    }
