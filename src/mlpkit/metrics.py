"""Evaluation metrics for every task, with optional sample weights (NumPy only).

scikit-learn computes all of these too, but it is an optional dependency of mlpkit and ``Network.evaluate``
must work without it; each function here is tested against its ``sklearn.metrics`` namesake to 1e-12.
With weights w_i, every mean over examples becomes the weighted mean sum_i w_i v_i / sum_i w_i, so a
weight of 2 counts a row twice (scikit-learn's convention).

- accuracy: weighted fraction of correct predictions.
- balanced accuracy: the mean over the classes present in ``y_true`` of the recall
  sum_{i: y_i = c} w_i [yhat_i = c] / sum_{i: y_i = c} w_i (Brodersen et al. 2010; scikit-learn's definition).
- log-loss: the mean cross-entropy -sum_j y_j ln p_j (Nielsen eq. (80)), probabilities clipped to
  [eps, 1 - eps] with eps the float64 machine epsilon; for independent sigmoid outputs (binary, multi-label)
  the mean binary cross-entropy -[y ln p + (1 - y) ln(1 - p)] (Nielsen eq. (57)) over examples and labels.
- ROC AUC: the area under the curve of true-positive rate against false-positive rate, traced over every
  distinct score threshold (tied scores form one step, i.e. count one half; Fawcett 2006); multi-class
  one-vs-rest and multi-label as the unweighted (macro) mean over the classes for which it is defined.
- subset accuracy: the weighted fraction of rows whose whole label set is right; Hamming loss: the weighted
  fraction of wrong labels.
- mean squared error, mean absolute error and R^2 = 1 - SS_res / SS_tot, averaged uniformly over the
  outputs; an output with constant targets scores R^2 = 1 when predicted exactly, else 0 (scikit-learn).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "GREATER_IS_BETTER", "METRIC_NAMES", "accuracy", "balanced_accuracy", "hamming_loss", "log_loss",
    "mean_absolute_error", "mean_squared_error", "r2_score", "roc_auc", "subset_accuracy", "task_metrics",
]

#: the metrics ``task_metrics`` reports for each task (a metric undefined on the data is left out)
METRIC_NAMES: dict[str, tuple[str, ...]] = {
    "classification": ("accuracy", "balanced_accuracy", "log_loss", "roc_auc"),
    "binary": ("accuracy", "balanced_accuracy", "log_loss", "roc_auc"),
    "multilabel": ("accuracy", "subset_accuracy", "hamming_loss", "log_loss", "roc_auc"),
    "regression": ("mse", "mae", "r2"),
}
#: whether a larger value of the metric is better (for early stopping, searches and reports)
GREATER_IS_BETTER: dict[str, bool] = {
    "loss": False, "accuracy": True, "balanced_accuracy": True, "log_loss": False, "roc_auc": True,
    "subset_accuracy": True, "hamming_loss": False, "mse": False, "mae": False, "r2": True,
}

_EPS = float(np.finfo(np.float64).eps)


def _weights(sample_weight: Any, n: int) -> np.ndarray:
    """The weights as a float64 vector of length n (all ones when None), checked."""
    if sample_weight is None:
        return np.ones(n)
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"sample_weight must have shape ({n},), one weight per example, got {w.shape}")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("sample_weight must be finite and >= 0")
    if w.sum() <= 0:
        raise ValueError("sample_weight must not be all zero")
    return w


def _pair(y_true: Any, y_pred: Any, ndim: int) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(y_true), np.asarray(y_pred)
    if a.shape != b.shape and not (ndim == 2 and a.ndim == 1 and b.ndim == 1):
        raise ValueError(f"y_true has shape {a.shape} and y_pred {b.shape}; they must be equal")
    if a.ndim != ndim:
        raise ValueError(f"expected {ndim}-D targets, got shape {a.shape}")
    if a.shape[0] == 0:
        raise ValueError("no examples to score")
    return a, b


def accuracy(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
    """Weighted fraction of examples with ``y_pred == y_true`` (1-D labels)."""
    y, yhat = _pair(y_true, y_pred, 1)
    w = _weights(sample_weight, y.shape[0])
    return float(np.dot(w, y == yhat) / w.sum())


def balanced_accuracy(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
    """Mean recall over the classes present in ``y_true`` (weighted)."""
    y, yhat = _pair(y_true, y_pred, 1)
    w = _weights(sample_weight, y.shape[0])
    classes, index = np.unique(y, return_inverse=True)
    support = np.bincount(index, weights=w, minlength=classes.size)
    hits = np.bincount(index, weights=w * (y == yhat), minlength=classes.size)
    present = support > 0
    return float(np.mean(hits[present] / support[present]))


def log_loss(y_true: Any, proba: Any, sample_weight: Any = None, *, independent: bool = False) -> float:
    """Mean cross-entropy of probabilities ``proba`` (n, k) against targets ``y_true`` (n, k).

    By default the outputs are one distribution per row (softmax): one-hot ``y_true``, ``proba`` renormalized
    to sum to 1, -sum_j y_j ln p_j. With ``independent=True`` each output is its own probability (sigmoid
    units: binary, multi-label): the binary cross-entropy averaged over the k outputs.
    """
    y, p = _pair(y_true, proba, 2)
    y, p = y.astype(np.float64), p.astype(np.float64)
    w = _weights(sample_weight, y.shape[0])
    if independent:
        p = np.clip(p, _EPS, 1.0 - _EPS)
        per_example = -(y * np.log(p) + (1.0 - y) * np.log1p(-p)).mean(axis=1)
    else:
        totals = p.sum(axis=1, keepdims=True)
        p = np.divide(p, totals, out=np.full_like(p, 1.0 / p.shape[1]), where=totals > 0)
        per_example = -(y * np.log(np.clip(p, _EPS, 1.0 - _EPS))).sum(axis=1)
    return float(np.dot(w, per_example) / w.sum())


def _binary_auc(positive: np.ndarray, scores: np.ndarray, w: np.ndarray) -> float | None:
    """Area under the ROC curve of 0/1 ``positive`` ranked by ``scores``; None when one class is absent."""
    order = np.argsort(-scores, kind="mergesort")
    s, t, ww = scores[order], positive[order].astype(np.float64), w[order]
    ends = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]  # last index of each run of tied scores
    tps = np.cumsum(t * ww)[ends]
    fps = np.cumsum((1.0 - t) * ww)[ends]
    if tps[-1] <= 0 or fps[-1] <= 0:
        return None
    tpr = np.r_[0.0, tps / tps[-1]]
    fpr = np.r_[0.0, fps / fps[-1]]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def _auc(y_true: Any, scores: Any, sample_weight: Any) -> float | None:
    y = np.asarray(y_true)
    s = np.asarray(scores, dtype=np.float64)
    if y.ndim != 1 or y.shape[0] != s.shape[0] or s.ndim not in (1, 2):
        raise ValueError(f"roc_auc takes labels (n,) and scores (n,) or (n, k), got {y.shape} and {s.shape}")
    w = _weights(sample_weight, y.shape[0])
    if s.ndim == 1:
        return _binary_auc(y == 1, s, w)
    if s.shape[1] == 2:  # two classes: the score of class 1
        return _binary_auc(y == 1, s[:, 1], w)
    areas = [_binary_auc(y == c, s[:, c], w) for c in range(s.shape[1])]
    defined = [a for a in areas if a is not None]
    return float(np.mean(defined)) if defined else None


def roc_auc(y_true: Any, scores: Any, sample_weight: Any = None) -> float:
    """ROC AUC: binary labels (n,) with scores (n,), or class indices (n,) with probabilities (n, k)
    (one-vs-rest, macro mean over the classes present); ValueError when it is undefined (one class only)."""
    area = _auc(y_true, scores, sample_weight)
    if area is None:
        raise ValueError("ROC AUC is undefined: y_true holds only one class")
    return area


def subset_accuracy(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
    """Weighted fraction of rows of a label-indicator matrix predicted exactly (every label right)."""
    Y, Yhat = _pair(y_true, y_pred, 2)
    w = _weights(sample_weight, Y.shape[0])
    return float(np.dot(w, (Y == Yhat).all(axis=1)) / w.sum())


def hamming_loss(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
    """Weighted fraction of wrong labels of a label-indicator matrix."""
    Y, Yhat = _pair(y_true, y_pred, 2)
    w = _weights(sample_weight, Y.shape[0])
    return float(np.dot(w, (Y != Yhat).mean(axis=1)) / w.sum())


def _regression_pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    y, yhat = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    if y.shape != yhat.shape:
        raise ValueError(f"y_true has shape {y.shape} and y_pred {yhat.shape}; they must be equal")
    if y.ndim not in (1, 2) or y.shape[0] == 0:
        raise ValueError(f"expected targets of shape (n,) or (n, k) with n > 0, got {y.shape}")
    return (y[:, None], yhat[:, None]) if y.ndim == 1 else (y, yhat)


def mean_squared_error(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
    """Weighted mean of (y - yhat)^2, averaged over the outputs."""
    y, yhat = _regression_pair(y_true, y_pred)
    w = _weights(sample_weight, y.shape[0])
    return float(np.mean(np.dot(w, (y - yhat) ** 2) / w.sum()))


def mean_absolute_error(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
    """Weighted mean of |y - yhat|, averaged over the outputs."""
    y, yhat = _regression_pair(y_true, y_pred)
    w = _weights(sample_weight, y.shape[0])
    return float(np.mean(np.dot(w, np.abs(y - yhat)) / w.sum()))


def r2_score(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
    """Coefficient of determination 1 - sum w (y - yhat)^2 / sum w (y - ybar_w)^2 per output, uniform mean."""
    y, yhat = _regression_pair(y_true, y_pred)
    w = _weights(sample_weight, y.shape[0])
    mean = np.dot(w, y) / w.sum()
    residual = np.dot(w, (y - yhat) ** 2)
    total = np.dot(w, (y - mean) ** 2)
    scores = np.where(total > 0, 1.0 - residual / np.where(total > 0, total, 1.0),
                      np.where(residual > 0, 0.0, 1.0))
    return float(np.mean(scores))


def task_metrics(task: str, targets: Any, outputs: Any, predictions: Any,
                 sample_weight: Any = None) -> dict[str, float]:
    """The metrics of ``task`` (see ``METRIC_NAMES``) for a network's targets, outputs and predictions.

    Args:
        task: ``"classification"``, ``"binary"``, ``"multilabel"`` or ``"regression"``.
        targets: the network's target matrix: one-hot rows (classification), (n, 1) 0/1 (binary), (n, k) 0/1
            (multi-label) or (n, k) values in the original units (regression).
        outputs: the output activations (class probabilities; ignored for regression).
        predictions: ``Network.predict``'s result: class indices (n,), 0/1 (n,), an indicator (n, k), values.
        sample_weight: optional weights (n,).
    """
    if task not in METRIC_NAMES:
        raise ValueError(f"unknown task {task!r}; expected one of {', '.join(METRIC_NAMES)}")
    Y = np.asarray(targets)
    if Y.ndim != 2:
        raise ValueError(f"targets must be a 2-D target matrix, got shape {Y.shape}")
    if task == "regression":
        yhat = np.asarray(predictions, dtype=np.float64).reshape(Y.shape)
        return {"mse": mean_squared_error(Y, yhat, sample_weight), "mae": mean_absolute_error(Y, yhat, sample_weight),
                "r2": r2_score(Y, yhat, sample_weight)}
    P = np.asarray(outputs, dtype=np.float64)
    if task == "multilabel":
        Yhat = np.asarray(predictions).reshape(Y.shape)
        result = {"accuracy": subset_accuracy(Y, Yhat, sample_weight)}
        result["subset_accuracy"] = result["accuracy"]
        result["hamming_loss"] = hamming_loss(Y, Yhat, sample_weight)
        result["log_loss"] = log_loss(Y, P, sample_weight, independent=True)
        w = _weights(sample_weight, Y.shape[0])
        areas = [_binary_auc(Y[:, j] > 0.5, P[:, j], w) for j in range(Y.shape[1])]
        defined = [a for a in areas if a is not None]
        if defined:
            result["roc_auc"] = float(np.mean(defined))
        return result
    if task == "binary":
        labels = (Y[:, 0] > 0.5).astype(np.int64)
        scores = P[:, 0]
        proba_log_loss = log_loss(Y[:, :1], P[:, :1], sample_weight, independent=True)
    else:
        labels = Y.argmax(axis=1)
        scores = P
        proba_log_loss = log_loss(Y, P, sample_weight)
    yhat = np.asarray(predictions).reshape(-1)
    result = {"accuracy": accuracy(labels, yhat, sample_weight),
              "balanced_accuracy": balanced_accuracy(labels, yhat, sample_weight),
              "log_loss": proba_log_loss}
    area = _auc(labels, scores, sample_weight)
    if area is not None:
        result["roc_auc"] = area
    return result
