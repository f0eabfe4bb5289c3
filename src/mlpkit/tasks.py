"""What a network predicts: its task, the targets each task trains on, and how outputs become predictions.

Four tasks (``TASKS``), each an output layer, a cost and a decision rule:

- ``"classification"``: one of k classes. Softmax output, one unit per class, categorical cross-entropy
  (Nielsen eq. (78)-(80)); prediction argmax_j a_j. A sigmoid output of k > 1 units is a classifier too
  (network2's networks: Nielsen ch.1-3 read the digit off the largest output).
- ``"binary"``: yes or no. One sigmoid unit a = P(y = 1), binary cross-entropy (Nielsen eq. (57));
  prediction 1 when a >= threshold.
- ``"multilabel"``: any subset of k labels. k independent sigmoid units, each a yes/no question, binary
  cross-entropy summed over them (Nielsen eq. (63), y a 0/1 vector); prediction a_j >= threshold per label.
- ``"regression"``: k real values. Identity output, the quadratic cost (Nielsen eq. (6)), ``"mae"`` or
  ``"huber"``; prediction the output itself, mapped back to the target units by the :class:`TargetScaler`.

Targets of a regression network are standardized for training, y' = (y - mu) / s per output (the usual
practice for least-squares networks: LeCun et al. 1998, "Efficient BackProp", sec. 4.3, says the same of
inputs; with a unit-scale target the default initializations and learning rates fit any target range).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .validation import one_hot, real_array

TASKS: tuple[str, ...] = ("classification", "binary", "multilabel", "regression")
#: the output activation of a network built from sizes for each task (``Network(sizes, task=...)``)
OUTPUT_ACTIVATIONS: dict[str, str] = {"classification": "softmax", "binary": "sigmoid", "multilabel": "sigmoid",
                                      "regression": "identity"}
#: the tasks whose targets are classes, which class weights apply to
CLASS_TASKS: tuple[str, ...] = ("classification", "binary")
_CROSS_ENTROPIES = ("binary_crossentropy", "categorical_crossentropy")
#: how far from 1 the sum of a classification target row (one-hot or probabilities) may be: float32
#: probabilities (a softmax's outputs used as soft targets) sum to 1 within a few units of 1e-7 per column
ROW_SUM_TOLERANCE = 1e-4


def check_task(task: object) -> str:
    """``task`` if it is one of ``TASKS``, else a one-line ValueError."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    return str(task)


def task_of_output(activation: str, units: int) -> str:
    """The task a network with no explicit task has: softmax -> classification; sigmoid with one unit ->
    binary; sigmoid with k > 1 units -> classification (network2's argmax); anything else -> regression."""
    if activation == "softmax" or (activation == "sigmoid" and units > 1):
        return "classification"
    return "binary" if activation == "sigmoid" else "regression"


def check_task_fits(task: str, activation: str, units: int, loss: str) -> None:
    """Raise a one-line ValueError when ``task`` cannot be served by an output layer of ``units`` units with
    ``activation`` trained with the cost named ``loss``."""
    problem = None
    if task == "classification" and (activation not in ("softmax", "sigmoid") or units < 2):
        problem = "a softmax (or sigmoid) output layer of at least 2 units, one per class"
    elif task == "binary" and (activation != "sigmoid" or units != 1):
        problem = "one sigmoid output unit"
    elif task == "multilabel" and activation != "sigmoid":
        problem = "a sigmoid output layer, one unit per label"
    elif task == "regression" and (activation in ("softmax", "sigmoid") or loss in _CROSS_ENTROPIES):
        problem = "an output layer without softmax or sigmoid (identity) and a regression cost (quadratic, mae, huber)"
    if problem is not None:
        raise ValueError(f"task {task!r} needs {problem}; this network has {units} {activation} output unit(s) "
                         f"and the {loss} cost")


def _first_bad_row(arr: np.ndarray) -> int:
    bad = ~np.isfinite(arr)
    return int(np.flatnonzero(bad.reshape(bad.shape[0], -1).any(axis=1))[0])


def _numeric(y: object, name: str) -> np.ndarray:
    arr = real_array(y, name)
    if arr.ndim == 0 or arr.shape[0] == 0:
        raise ValueError(f"{name} is empty or not an array (shape {arr.shape})")
    if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
        raise ValueError(f"{name} has a NaN or infinite value in row {_first_bad_row(arr)}; expected finite targets")
    return arr


def _whole(arr: np.ndarray) -> bool:
    return not np.issubdtype(arr.dtype, np.floating) or bool(np.array_equal(arr, np.round(arr)))


def infer_task(y: object) -> str:
    """The task targets ``y`` call for: float values that are not whole numbers -> ``"regression"``; a 2-D 0/1
    matrix whose rows are not all one-hot -> ``"multilabel"``; 1-D integer labels or one-hot rows ->
    ``"classification"`` (two classes too: a two-unit softmax is the same model as one sigmoid unit, so
    ``"binary"`` is only chosen explicitly). NaN or infinity -> ValueError naming the first bad row."""
    arr = _numeric(y, "y")
    if arr.ndim > 2:
        raise ValueError(f"y must be 1-D labels or a 2-D target matrix, got shape {arr.shape}")
    if not _whole(arr):
        return "regression"
    if arr.ndim == 1 or arr.shape[1] == 1:
        return "classification"
    if not np.isin(arr, (0, 1)).all():
        return "regression"
    return "classification" if bool((arr.sum(axis=1) == 1).all()) else "multilabel"


def encode_targets(task: str, y: object, n_samples: int, n_outputs: int, name: str = "y",
                   dtype: Any = np.float32) -> np.ndarray:
    """The (n, n_outputs) target matrix a network of ``task`` trains on, in ``dtype``; one-line errors.

    - classification: integer labels 0..k-1 (n,) (one-hot encoded here) or (n, k) rows (one-hot or
      probabilities); non-integer 1-D values are refused (they are regression targets).
    - binary: 0/1 labels (n,) or (n, 1).
    - multilabel: a 0/1 indicator matrix (n, k).
    - regression: values (n,) for one output or (n, k); 1-D integer labels with k > 1 outputs are still
      one-hot encoded (a network with e.g. a tanh output trained on classes, as before tasks existed).
    """
    arr = _numeric(y, name)
    if arr.shape[0] != n_samples:
        raise ValueError(f"{name} has {arr.shape[0]} rows but X has {n_samples} samples")
    if arr.ndim > 2:
        raise ValueError(f"{name} must be 1-D or 2-D, got shape {arr.shape}")
    if task == "regression":
        if arr.ndim == 1 and n_outputs == 1:
            return arr.astype(dtype).reshape(-1, 1)
        if arr.ndim == 1 and _whole(arr):
            return one_hot(arr.astype(np.int64), n_outputs, dtype=dtype, name=name)
    elif task != "classification" or arr.ndim == 1:
        if not _whole(arr):
            row = int(np.flatnonzero((arr != np.round(arr)).reshape(arr.shape[0], -1).any(axis=1))[0])
            value = arr.reshape(arr.shape[0], -1)[row]
            shown = value[value != np.round(value)][0]
            raise ValueError(f"{name} holds the non-integer value {shown:g} (row {row}); a {task} network expects "
                             f"integer class labels (use task='regression' for numeric targets)")
        if task in ("binary", "multilabel") and arr.size and not np.isin(arr, (0, 1)).all():
            raise ValueError(f"{name} must be 0/1 for a {task} network, got values {arr.min():g}..{arr.max():g}")
        if arr.ndim == 1:
            if n_outputs == 1:
                if arr.min() < 0 or arr.max() > 1:
                    raise ValueError(f"{name} must be 0/1 for a network with one output, got "
                                     f"{arr.min():g}..{arr.max():g}")
                return arr.astype(dtype).reshape(-1, 1)
            if task == "multilabel":
                raise ValueError(f"{name} of a multilabel network must be a 0/1 matrix ({n_samples}, {n_outputs}), "
                                 f"got 1-D labels")
            return one_hot(arr.astype(np.int64), n_outputs, dtype=dtype, name=name)
    if arr.ndim != 2 or arr.shape[1] != n_outputs:
        expected = f"({n_samples}, {n_outputs})" if task != "classification" else \
            f"integer classes of shape ({n_samples},) or an array of shape ({n_samples}, {n_outputs})"
        raise ValueError(f"{name} must be {expected}, got shape {arr.shape}")
    if task == "classification":
        _check_class_rows(arr, name)
    return np.ascontiguousarray(arr, dtype=dtype)


def _check_class_rows(arr: np.ndarray, name: str) -> None:
    """Refuse (n, k) classification targets that are not distributions over the k classes: every entry in
    [0, 1] and every row summing to 1 (within ``ROW_SUM_TOLERANCE``). Cross-entropy of a row of 7s or of
    negative values has no meaning, and training on it moves the outputs somewhere arbitrary."""
    values = arr.astype(np.float64, copy=False)
    outside = (values < 0) | (values > 1)
    if outside.any():
        row, column = (int(i) for i in np.argwhere(outside)[0])
        raise ValueError(f"{name}[{row}, {column}] is {values[row, column]:g}; classification target rows are one-hot "
                         f"(or class probabilities) with every entry in [0, 1]")
    sums = values.sum(axis=1)
    off = np.abs(sums - 1.0) > ROW_SUM_TOLERANCE
    if off.any():
        row = int(np.flatnonzero(off)[0])
        raise ValueError(f"{name} row {row} sums to {sums[row]:g}; classification target rows are one-hot (or class "
                         f"probabilities) summing to 1 (for several labels per example use task='multilabel')")


def check_classes(task: str, Y: np.ndarray, name: str = "y") -> None:
    """Refuse training targets ``Y`` (a target matrix of :func:`encode_targets`) of a classification or binary
    task in which every row is of the same class: a classifier needs examples of at least two classes to
    learn anything (it would learn to answer that class whatever the input)."""
    if task not in CLASS_TASKS or Y.shape[0] == 0:
        return
    classes = class_indices(task, Y)
    if (classes == classes[0]).all():
        raise ValueError(f"{name} needs at least 2 classes, found only class {int(classes[0])!r}")


def class_indices(task: str, Y: np.ndarray) -> np.ndarray:
    """The class of each row of a classification or binary target matrix (argmax; 0/1 for one column)."""
    if Y.shape[1] == 1:
        return (Y[:, 0] > 0.5).astype(np.int64)
    return Y.argmax(axis=1)


def class_weight_vector(class_weight: object, task: str, Y: np.ndarray) -> np.ndarray:
    """Per-row weights w_i = class_weight[c_i] (float64) for targets ``Y`` of a classification/binary task.

    ``class_weight`` is ``"balanced"`` (w_c = n / (k n_c) over the k classes present, scikit-learn's
    ``compute_class_weight`` rule, King and Zeng 2001) or a mapping {class index: weight >= 0}; classes the
    mapping leaves out weigh 1.
    """
    if task not in CLASS_TASKS:
        raise ValueError(f"class_weight applies to classification and binary tasks, not to a {task} network; "
                         "use sample_weight")
    classes = class_indices(task, Y)
    n_classes = max(Y.shape[1], 2)
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(f"class_weight must be 'balanced' or a mapping {{class: weight}}, got {class_weight!r}")
        counts = np.bincount(classes, minlength=n_classes).astype(np.float64)
        present = counts > 0
        table = np.ones(n_classes)
        table[present] = classes.shape[0] / (np.count_nonzero(present) * counts[present])
        return table[classes]
    if not isinstance(class_weight, dict):
        raise TypeError(f"class_weight must be 'balanced' or a dict {{class: weight}}, got {class_weight!r}")
    table = np.ones(n_classes)
    for key, value in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, (int, np.integer)) or not 0 <= key < n_classes:
            raise ValueError(f"class_weight names the class {key!r}; the network's classes are 0..{n_classes - 1}")
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
                or not np.isfinite(value) or value < 0:
            raise ValueError(f"class_weight[{key!r}] must be a finite number >= 0, got {value!r}")
        table[int(key)] = float(value)
    return table[classes]


def check_sample_weight(sample_weight: object, n_samples: int, name: str = "sample_weight") -> np.ndarray:
    """``sample_weight`` as a float64 vector (n,): finite, >= 0, not all zero; else a one-line ValueError."""
    w = real_array(sample_weight, name, f"of {n_samples} weights").astype(np.float64)
    if w.shape != (n_samples,):
        raise ValueError(f"{name} has shape {w.shape}; expected one weight per example, shape ({n_samples},)")
    if not np.isfinite(w).all():
        raise ValueError(f"{name} has a NaN or infinite weight at row {int(np.flatnonzero(~np.isfinite(w))[0])}")
    if (w < 0).any():
        row = int(np.flatnonzero(w < 0)[0])
        raise ValueError(f"{name} has the negative weight {w[row]:g} at row {row}; weights must be >= 0")
    if not w.any():
        raise ValueError(f"{name} is all zero; at least one example must have a weight > 0")
    return w


def row_weights(task: str, Y: np.ndarray, sample_weight: object = None, class_weight: object = None,
                name: str = "sample_weight") -> np.ndarray | None:
    """The weight of each row, sample_weight_i * class_weight[y_i] (float64), or None when both are None."""
    if sample_weight is None and class_weight is None:
        return None
    w = np.ones(Y.shape[0]) if sample_weight is None else check_sample_weight(sample_weight, Y.shape[0], name)
    if class_weight is not None:
        w = w * class_weight_vector(class_weight, task, Y)
        if not w.any():
            raise ValueError("the class weights give every example the weight 0; at least one must be > 0")
    return w


def decode_outputs(task: str, outputs: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Predictions from output activations: class index (n,) int64 (classification: argmax), 0/1 (n,) int64
    (binary: a >= threshold), 0/1 indicator (n, k) int64 (multilabel: a_j >= threshold), and the outputs
    themselves for regression (scaled back by the caller)."""
    if task == "classification":
        return outputs.argmax(axis=1)
    if task == "binary":
        return (outputs[:, 0] >= threshold).astype(np.int64)
    if task == "multilabel":
        return (outputs >= threshold).astype(np.int64)
    return outputs


def check_threshold(threshold: object) -> float:
    """The decision threshold of sigmoid outputs: a number strictly between 0 and 1."""
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number)) \
            or not 0.0 < float(threshold) < 1.0:
        raise ValueError(f"threshold must be a number between 0 and 1 (exclusive), got {threshold!r}")
    return float(threshold)


class TargetScaler:
    """Per-output standardization of regression targets: y' = (y - mean) / scale, y = y' scale + mean.

    ``mean`` and ``scale`` are float64 arrays of length k (one per output). :meth:`fit` takes the (weighted)
    mean and standard deviation of the training targets, mu = sum_i w_i y_i / sum_i w_i and
    s = sqrt(sum_i w_i (y_i - mu)^2 / sum_i w_i); a constant output (s = 0) gets scale 1 (scikit-learn's
    ``StandardScaler`` rule). Saved in the network's config as ``{"mean": [...], "scale": [...]}``.
    """

    def __init__(self, mean: Any, scale: Any) -> None:
        mean = np.asarray(mean, dtype=np.float64).reshape(-1)
        scale = np.asarray(scale, dtype=np.float64).reshape(-1)
        if mean.shape != scale.shape or mean.size == 0:
            raise ValueError(f"a target scaler needs mean and scale of one equal length, got {mean.size} and "
                             f"{scale.size} values")
        if not np.isfinite(mean).all() or not np.isfinite(scale).all() or (scale <= 0).any():
            raise ValueError("a target scaler needs finite means and finite scales > 0")
        self.mean, self.scale = mean, scale

    @classmethod
    def fit(cls, Y: np.ndarray, sample_weight: np.ndarray | None = None) -> TargetScaler:
        """The scaler of targets ``Y`` (n, k), weighted by ``sample_weight`` (n,) when given."""
        Y = np.asarray(Y, dtype=np.float64)
        w = np.ones(Y.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        mean = w @ Y / w.sum()
        std = np.sqrt(w @ (Y - mean) ** 2 / w.sum())
        return cls(mean, np.where(std > 0, std, 1.0))

    def transform(self, Y: np.ndarray, dtype: Any = None) -> np.ndarray:
        """(Y - mean) / scale, computed in float64 and returned in ``dtype`` (default Y's)."""
        out = (np.asarray(Y, dtype=np.float64) - self.mean) / self.scale
        return np.ascontiguousarray(out, dtype=np.asarray(Y).dtype if dtype is None else dtype)

    def inverse_transform(self, Y: np.ndarray, dtype: Any = None) -> np.ndarray:
        """Y scale + mean (back to the target units), in ``dtype`` (default Y's)."""
        out = np.asarray(Y, dtype=np.float64) * self.scale + self.mean
        return np.ascontiguousarray(out, dtype=np.asarray(Y).dtype if dtype is None else dtype)

    def get_config(self) -> dict[str, list[float]]:
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_config(cls, config: object) -> TargetScaler:
        if not isinstance(config, dict) or set(config) != {"mean", "scale"}:
            raise ValueError(f"a target scaler config is {{'mean': [...], 'scale': [...]}}, got {config!r}")
        return cls(config["mean"], config["scale"])

    def __repr__(self) -> str:
        return f"TargetScaler(mean={self.mean.tolist()}, scale={self.scale.tolist()})"
