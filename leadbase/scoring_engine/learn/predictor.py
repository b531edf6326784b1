"""A trained model ready to predict and explain, and its safe storage (skops, no pickle).

Stored bytes: `LBM1` + the SHA-256 of the rest + a skops archive of plain data (the schema, the
encoder's state, the model's parts). `loads` checks the digest (a corrupted or altered blob is
refused), then lists the archive's types with `skops.io.get_untrusted_types` and refuses any
type outside `ALLOWED_TYPES` before anything is built. The digest guards against corruption;
the allow-list is what keeps a crafted artefact from running code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import skops.io as sio

from leadbase.scoring_engine.learn.encoding import Encoder
from leadbase.scoring_engine.learn.fast import NotCompilable, compile_model
from leadbase.scoring_engine.learn.models import Model, model_proba, sigmoid
from leadbase.scoring_engine.learn.schema import Schema, as_text, is_missing
from leadbase.scoring_engine.learn.table import table_length

MAGIC = b"LBM1"
FORMAT = 1
FAST_ROWS = 64  # up to this many rows: the compiled numpy path (fast.py); more: scikit-learn

# Types skops does not trust by default that a Leadbase artefact holds; anything else is refused.
ALLOWED_TYPES = frozenset(
    {
        "functools.partial",  # its function is checked on its own (the next entry)
        "sklearn.utils.validation.check_array",
        "leadbase.scoring_engine.learn.models._signed_log",
        "numpy.dtype",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.model_selection._split.StratifiedKFold",  # a TargetEncoder's folds
    }
)


class ArtefactRefused(ValueError):
    """The bytes are not a Leadbase model this code may load (corrupted, altered, or holding a
    type outside the allow-list)."""


@dataclass(frozen=True)
class Factor:
    """One reason for a prediction: this feature's value moved the probability by `delta`
    (e.g. +0.12: twelve points) against the training data's typical value."""

    feature: str
    label: str
    value: str
    delta: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Predictor:
    """Predicts the probability of the positive outcome for rows of a table and explains it."""

    def __init__(self, state: dict[str, Any]) -> None:
        self._state = state
        self.encoder = Encoder(state["encoder"])
        self.model: Model = state["model"]
        self.kind: str = state["kind"]
        self.seed: int = int(state["seed"])
        self.schema = Schema.from_dict(state["schema"])
        self.features: list[str] = self.schema.features
        self._fast: Callable[[np.ndarray], np.ndarray] | None = None
        self._compiled = False

    @classmethod
    def build(
        cls, *, encoder: Encoder, model: Model, kind: str, seed: int, schema: Schema
    ) -> Predictor:
        return cls(
            {
                "format": FORMAT,
                "encoder": encoder.state,
                "model": model,
                "kind": kind,
                "seed": seed,
                "schema": schema.to_dict(),
            }
        )

    def state(self) -> dict[str, Any]:
        return self._state

    def predict_proba(self, table: Mapping[str, Sequence[object]]) -> np.ndarray:
        """The probability of the positive class for every row (missing columns and values,
        and categories never seen in training, are handled as missing or "other")."""
        if table_length(table) == 0:
            return np.zeros(0)
        return self._proba(self.encoder.transform(table))

    def _proba(self, x: np.ndarray) -> np.ndarray:
        """Few rows: the compiled numpy model (same numbers, none of scikit-learn's per-call
        overhead); many rows, or a model fast.py cannot compile: scikit-learn."""
        if x.shape[0] <= FAST_ROWS:
            fast = self.fast()
            if fast is not None:
                return sigmoid(fast(x))
        return model_proba(self.model, x)

    def general_proba(self, table: Mapping[str, Sequence[object]]) -> np.ndarray:
        """The probabilities through scikit-learn whatever the number of rows (tests)."""
        return model_proba(self.model, self.encoder.transform(table))

    def fast(self) -> Callable[[np.ndarray], np.ndarray] | None:
        """The model's logit compiled to numpy (built on first use), None if not compilable."""
        if not self._compiled:
            try:
                self._fast = compile_model(self.model)
            except (NotCompilable, AttributeError, KeyError, ValueError):
                self._fast = None  # unknown estimator or scikit-learn internals: the general path
            self._compiled = True
        return self._fast

    def top_factors(
        self, table_one_row: Mapping[str, Sequence[object]], k: int = 5
    ) -> list[Factor]:
        """The k features that move this row's probability most, each with its signed effect:
        the probability minus the probability with that feature set to its typical training
        value (the median, or the most frequent category). Features at their typical value
        move nothing and are left out."""
        if table_length(table_one_row) != 1:
            raise ValueError("top_factors explains one row at a time")
        row = self.encoder.transform(table_one_row)
        sources = self.encoder.sources
        names = list(dict.fromkeys(sources))
        variants = np.repeat(row, len(names) + 1, axis=0)
        reference = self.encoder.reference
        for i, name in enumerate(names, start=1):
            positions = [j for j, s in enumerate(sources) if s == name]
            variants[i, positions] = reference[positions]
        p = self._proba(variants)
        factors: list[Factor] = []
        labels = {c.name: c.label for c in self.schema.columns}
        for i, name in enumerate(names, start=1):
            delta = float(p[0] - p[i])
            if abs(delta) < 1e-9:
                continue
            raw = table_one_row.get(name, [None])[0]
            value = "missing" if is_missing(raw) else as_text(raw)
            factors.append(Factor(name, labels.get(name, name), value, delta))
        factors.sort(key=lambda f: (-abs(f.delta), f.feature))
        return factors[:k]


def dumps(predictor: Predictor) -> bytes:
    """The predictor as bytes for storage (see the module's docstring for the format)."""
    payload: bytes = sio.dumps(predictor.state())
    return MAGIC + hashlib.sha256(payload).digest() + payload


def loads(data: bytes) -> Predictor:
    """A predictor back from `dumps`'s bytes; ArtefactRefused for anything else."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ArtefactRefused("a model artefact is bytes")
    data = bytes(data)
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 32:
        raise ArtefactRefused("not a Leadbase model artefact (unknown header)")
    digest, payload = data[len(MAGIC) : len(MAGIC) + 32], data[len(MAGIC) + 32 :]
    if hashlib.sha256(payload).digest() != digest:
        raise ArtefactRefused("the model artefact is corrupted or was altered (digest mismatch)")
    try:
        untrusted = set(sio.get_untrusted_types(data=payload))
    except Exception as exc:  # a malformed archive fails in many ways: all mean "refuse"
        raise ArtefactRefused(f"the model artefact cannot be read: {exc}") from exc
    refused = sorted(untrusted - ALLOWED_TYPES)
    if refused:
        raise ArtefactRefused(f"the model artefact holds types that are not allowed: {refused}")
    try:
        state = sio.loads(payload, trusted=sorted(untrusted))
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise ArtefactRefused("the model artefact has an unknown format")
        return Predictor(state)
    except ArtefactRefused:
        raise
    except Exception as exc:
        raise ArtefactRefused(f"the model artefact cannot be read: {exc}") from exc
