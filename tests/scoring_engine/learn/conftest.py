"""Small synthetic tables for the learning pipeline's tests (plain Python, no database)."""

from __future__ import annotations

import numpy as np

from leadbase.scoring_engine.learn import Table


def sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-z)))


def leads(n: int, *, seed: int = 0) -> tuple[Table, np.ndarray, np.ndarray]:
    """A table whose outcome depends on `visits` and `channel` (not on `noise`), the outcomes
    and the true probabilities. Numbers come as text, as from a CSV file."""
    rng = np.random.default_rng(seed)
    visits = rng.poisson(3, size=n)
    channel = rng.choice(["ads", "search", "referral", "event"], size=n)
    noise = rng.normal(size=n)
    z = 0.6 * (visits - 3) + np.where(channel == "referral", 1.2, 0.0) - 0.3
    p = sigmoid(z)
    y = (rng.random(n) < p).astype(int)
    table: Table = {
        "visits": [str(v) for v in visits],
        "channel": list(channel),
        "noise": [f"{v:.3f}" for v in noise],
        "newsletter": [("yes" if v else "no") for v in rng.random(n) < 0.5],
    }
    return table, y, p
