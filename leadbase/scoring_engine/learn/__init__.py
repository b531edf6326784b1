"""Learning the probability of conversion from outcomes: feature typing, three models chosen
inside the training data, calibrated probabilities, explanations, metrics, safe storage.

Pure Python + numpy/scikit-learn/skops (no Django). The Django side builds a `Table` (column ->
raw values) and the outcomes, calls `fit`, stores `dumps(result.predictor)`, and later
`loads(...).predict_proba(table)` / `.top_factors(one_row)`. `evaluate` measures the same
pipeline on any table (the `leadbase evaluate` command). See docs/predictive-evaluation.md.
"""

from leadbase.scoring_engine.learn.evaluate import evaluate
from leadbase.scoring_engine.learn.metrics import metrics
from leadbase.scoring_engine.learn.predictor import (
    ArtefactRefused,
    Factor,
    Predictor,
    dumps,
    loads,
)
from leadbase.scoring_engine.learn.schema import Column, Schema, infer_schema
from leadbase.scoring_engine.learn.table import Table, read_csv, take
from leadbase.scoring_engine.learn.training import TooLittleData, TrainingResult, fit

__all__ = [
    "ArtefactRefused",
    "Column",
    "Factor",
    "Predictor",
    "Schema",
    "Table",
    "TooLittleData",
    "TrainingResult",
    "dumps",
    "evaluate",
    "fit",
    "infer_schema",
    "loads",
    "metrics",
    "read_csv",
    "take",
]
