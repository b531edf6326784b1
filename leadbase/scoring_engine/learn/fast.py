"""The fitted models as plain numpy, for predicting a few rows at a time (a rescore predicts
one lead on every event).

scikit-learn's `decision_function` validates its input, wraps pipelines, column transformers
and thread pools on every call: about 6 ms for one row of the blend, nearly all of it overhead.
`compile_model` reads the fitted estimators once and returns a function computing the same
logit with a few numpy operations:

- imputers, one-hot, ordinal and target encoders, scalers and the signed log as array lookups
  and arithmetic, in the order scikit-learn applies them; the logistic regression as a dot
  product;
- the boosted trees flattened into one node table and walked for every (row, tree) pair at
  once, one level per step, with scikit-learn's rules for missing values, categorical splits
  (bitsets) and unknown categories; the leaves summed in the trees' order.

Nothing is stored: the compiled form is rebuilt from the artefact's estimators when a predictor
is first used. An estimator this module does not know raises `NotCompilable` and the caller
uses scikit-learn (the general path); a test checks that both agree to 1e-12.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from leadbase.scoring_engine.learn.models import Model, _signed_log, nb_logit

Transform = Callable[[np.ndarray], np.ndarray]


class NotCompilable(TypeError):
    """An estimator without a numpy equivalent here: predict with scikit-learn instead."""


def compile_model(model: Model) -> Transform:
    """x (encoded rows) -> the model's logit, as `models.model_logit` computes it."""
    parts = [(float(w), _compile_part(p)) for w, p in zip(model["weights"], model["parts"],
                                                         strict=True)]  # fmt: skip
    calibration = model["calibration"]

    def logit(x: np.ndarray) -> np.ndarray:
        z = np.zeros(x.shape[0])
        for weight, part in parts:
            z += weight * part(x)
        if calibration is not None:
            z = calibration[0] * z + calibration[1]
        return z

    return logit


def _compile_part(part: dict[str, Any]) -> Transform:
    if part["kind"] == "naive_bayes":
        state = part["estimator"]
        return lambda x: nb_logit(state, x)
    return _compile_classifier(part["estimator"])


def _name(estimator: object) -> str:
    return type(estimator).__name__


def _compile_classifier(estimator: Any) -> Transform:
    if _name(estimator) == "Pipeline":
        steps = [_compile_transform(t) for _, t in estimator.steps[:-1]]
        final = _compile_classifier(estimator.steps[-1][1])

        def pipeline(x: np.ndarray) -> np.ndarray:
            for step in steps:
                x = step(x)
            return final(x)

        return pipeline
    if _name(estimator) == "LogisticRegression":
        coef = np.asarray(estimator.coef_, dtype=float)[0]
        intercept = float(estimator.intercept_[0])
        return lambda x: np.asarray(x @ coef + intercept, dtype=float)
    if _name(estimator) == "HistGradientBoostingClassifier":
        return _compile_trees(estimator)
    raise NotCompilable(_name(estimator))


def _compile_transform(transformer: Any) -> Transform:
    name = _name(transformer)
    if isinstance(transformer, str):
        if transformer == "passthrough":
            return lambda x: x
        raise NotCompilable(transformer)
    if name == "Pipeline":
        steps = [_compile_transform(t) for _, t in transformer.steps]
        return functools.reduce(lambda f, g: lambda x: g(f(x)), steps, lambda x: x)
    if name == "ColumnTransformer":
        return _compile_columns(transformer)
    if name == "SimpleImputer":
        return _compile_imputer(transformer)
    if name == "StandardScaler":
        mean = None if transformer.mean_ is None else np.asarray(transformer.mean_, dtype=float)
        scale = None if transformer.scale_ is None else np.asarray(transformer.scale_, dtype=float)
        return lambda x: _scale(x, mean, scale)
    if name == "FunctionTransformer":
        return _compile_function(transformer)
    if name == "OneHotEncoder":
        return _compile_one_hot(transformer)
    if name == "OrdinalEncoder":
        return _compile_ordinal(transformer)
    if name == "TargetEncoder":
        return _compile_target(transformer)
    raise NotCompilable(name)


def _scale(x: np.ndarray, mean: np.ndarray | None, scale: np.ndarray | None) -> np.ndarray:
    out = np.array(x, dtype=float)
    if mean is not None:
        out -= mean
    if scale is not None:
        out /= scale
    return out


def _columns(spec: Any, width: int) -> np.ndarray:
    index = np.asarray(spec)
    if index.dtype == bool:
        return np.flatnonzero(index)
    if index.dtype.kind not in "iu":
        raise NotCompilable("columns given by name")
    return np.arange(width)[index].ravel()


def _compile_columns(transformer: Any) -> Transform:
    width = int(transformer.n_features_in_)
    blocks: list[tuple[np.ndarray, Transform]] = []
    for _, inner, spec in transformer.transformers_:
        index = _columns(spec, width)
        if (isinstance(inner, str) and inner == "drop") or index.size == 0:
            continue
        blocks.append((index, _compile_transform(inner)))

    def stack(x: np.ndarray) -> np.ndarray:
        return np.hstack([np.asarray(f(x[:, c]), dtype=float) for c, f in blocks])

    return stack


def _compile_imputer(imputer: Any) -> Transform:
    if not (isinstance(imputer.missing_values, float) and np.isnan(imputer.missing_values)):
        raise NotCompilable("an imputer for values other than NaN")
    statistics = np.asarray(imputer.statistics_, dtype=float)
    keep = (
        np.arange(statistics.size)
        if imputer.keep_empty_features
        else np.flatnonzero(~np.isnan(statistics))
    )
    fill = statistics[keep]
    indicator = getattr(imputer, "indicator_", None) if imputer.add_indicator else None
    flagged = None if indicator is None else np.asarray(indicator.features_)

    def impute(x: np.ndarray) -> np.ndarray:
        missing = np.isnan(x)
        out = np.where(missing[:, keep], fill, x[:, keep])
        if flagged is None:
            return out
        return np.hstack([out, missing[:, flagged].astype(float)])

    return impute


def _compile_function(transformer: Any) -> Transform:
    func = transformer.func
    if transformer.validate or transformer.kw_args:
        raise NotCompilable("a function transformer with validation or arguments")
    if func is None:  # a column transformer's "passthrough"
        return lambda x: x
    if func is _signed_log:
        return _signed_log  # type: ignore[no-any-return]
    if isinstance(func, functools.partial) and func.func.__name__ == "check_array":
        return lambda x: np.asarray(x, dtype=np.float64)  # the trees' own validation
    raise NotCompilable(f"function {func!r}")


def _lookup(categories: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index of each value among the fitted categories, whether it is one of them); NaN
    matches a NaN category (scikit-learn sorts it last)."""
    missing = np.isnan(x)
    nan_last = bool(categories.size) and bool(np.isnan(categories[-1]))
    present = categories[:-1] if nan_last else categories
    if present.size:
        index = np.searchsorted(present, np.where(missing, 0.0, x))
        index = np.minimum(index, present.size - 1)
        found = present[index] == x  # never for NaN
    else:
        index, found = np.zeros(x.shape, dtype=np.intp), np.zeros(x.shape, dtype=bool)
    if nan_last:
        index, found = np.where(missing, present.size, index), found | missing
    return index, found


def _compile_one_hot(encoder: Any) -> Transform:
    if encoder.drop_idx_ is not None or getattr(encoder, "_infrequent_enabled", False):
        raise NotCompilable("a one-hot encoder with dropped or infrequent categories")
    if encoder.handle_unknown != "ignore":
        raise NotCompilable("a one-hot encoder that errors on unknown categories")
    categories = [np.asarray(c, dtype=float) for c in encoder.categories_]
    offsets = np.concatenate([[0], np.cumsum([c.size for c in categories])])

    def one_hot(x: np.ndarray) -> np.ndarray:
        out = np.zeros((x.shape[0], int(offsets[-1])))
        rows = np.arange(x.shape[0])
        for j, cats in enumerate(categories):
            index, found = _lookup(cats, x[:, j])
            out[rows[found], offsets[j] + index[found]] = 1.0
        return out

    return one_hot


def _compile_ordinal(encoder: Any) -> Transform:
    if not (np.isnan(encoder.unknown_value) and np.isnan(encoder.encoded_missing_value)):
        raise NotCompilable("an ordinal encoder with other codes for unknown or missing")
    categories = [np.asarray(c, dtype=float) for c in encoder.categories_]

    def ordinal(x: np.ndarray) -> np.ndarray:
        out = np.full(x.shape, np.nan)
        for j, cats in enumerate(categories):
            index, found = _lookup(cats, x[:, j])
            out[:, j] = np.where(found & ~np.isnan(x[:, j]), index, np.nan)
        return out

    return ordinal


def _compile_target(encoder: Any) -> Transform:
    if encoder.target_type_ != "binary":
        raise NotCompilable("a target encoder for a non-binary target")
    categories = [np.asarray(c, dtype=float) for c in encoder.categories_]
    encodings = [np.asarray(e, dtype=float) for e in encoder.encodings_]
    mean = float(encoder.target_mean_)

    def target(x: np.ndarray) -> np.ndarray:
        out = np.empty(x.shape)
        for j, cats in enumerate(categories):
            index, found = _lookup(cats, x[:, j])
            out[:, j] = np.where(found, encodings[j][index], mean)
        return out

    return target


def _compile_trees(model: Any) -> Transform:
    """Every tree in one node table; each step moves every (row, tree) one level down."""
    if model.n_trees_per_iteration_ != 1:
        raise NotCompilable("boosted trees for more than two classes")
    prepare = (
        (lambda x: x) if model._preprocessor is None else _compile_transform(model._preprocessor)
    )
    known_bits, feature_map = model._bin_mapper.make_known_categories_bitsets()
    trees = [predictors[0] for predictors in model._predictors]
    roots, node_offset, bitset_offset = [], 0, 0
    feature, threshold, left, right, value, go_missing, categorical, bitset = ([] for _ in range(8))
    bitsets = []
    depth = 0
    for tree in trees:
        nodes = tree.nodes
        leaf = nodes["is_leaf"].astype(bool)
        here = np.arange(nodes.size) + node_offset
        roots.append(node_offset)
        feature.append(np.where(leaf, 0, nodes["feature_idx"]))
        threshold.append(nodes["num_threshold"])
        left.append(np.where(leaf, here, nodes["left"].astype(np.intp) + node_offset))
        right.append(np.where(leaf, here, nodes["right"].astype(np.intp) + node_offset))
        value.append(nodes["value"])
        go_missing.append(nodes["missing_go_to_left"].astype(bool))
        categorical.append(nodes["is_categorical"].astype(bool) & ~leaf)
        bitset.append(nodes["bitset_idx"].astype(np.intp) + bitset_offset)
        bitsets.append(np.asarray(tree.raw_left_cat_bitsets, dtype=np.uint32).reshape(-1, 8))
        node_offset += nodes.size
        bitset_offset += bitsets[-1].shape[0]
        depth = max(depth, int(nodes["depth"].max()))
    table = {
        "feature": np.concatenate(feature).astype(np.intp),
        "threshold": np.concatenate(threshold).astype(float),
        "left": np.concatenate(left).astype(np.intp),
        "right": np.concatenate(right).astype(np.intp),
        "value": np.concatenate(value).astype(float),
        "missing_left": np.concatenate(go_missing),
        "categorical": np.concatenate(categorical),
        "bitset": np.concatenate(bitset),
    }
    left_bits = np.concatenate([*bitsets, np.zeros((1, 8), dtype=np.uint32)])
    known = np.asarray(known_bits, dtype=np.uint32).reshape(-1, 8)
    known = np.concatenate([known, np.zeros((1, 8), dtype=np.uint32)])
    feature_map = np.asarray(feature_map, dtype=np.intp)
    any_categorical = bool(table["categorical"].any())
    start = np.asarray(roots, dtype=np.intp)
    baseline = float(np.asarray(model._baseline_prediction).ravel()[0])

    def raw(x: np.ndarray) -> np.ndarray:
        data = prepare(x)
        rows = np.arange(data.shape[0])[:, None]
        node = np.broadcast_to(start, (data.shape[0], start.size))
        for _ in range(depth):
            f = table["feature"][node]
            v = data[rows, f]
            missing = np.isnan(v)
            go_left = v <= table["threshold"][node]
            if any_categorical:
                is_cat = table["categorical"][node] & ~missing
                code = np.where(is_cat & (v >= 0), v, 0).astype(np.intp) & 255
                word, bit = code >> 5, (code & 31).astype(np.uint32)
                in_left = ((left_bits[table["bitset"][node], word] >> bit) & 1).astype(bool)
                in_known = ((known[feature_map[f], word] >> bit) & 1).astype(bool)
                unknown = is_cat & ((v < 0) | ~(in_left | in_known))
                go_left = np.where(is_cat, in_left, go_left)
                missing = missing | unknown
            go_left = np.where(missing, table["missing_left"][node], go_left)
            node = np.where(go_left, table["left"][node], table["right"][node])
        leaves = np.vstack([np.full((1, data.shape[0]), baseline), table["value"][node].T])
        return np.asarray(np.add.reduce(leaves, axis=0), dtype=float)

    return raw
