"""Diagnosing a network: bias or variance, saturated and dead units, gradient flow, per-class errors.

- :func:`bias_variance` reads the training and dev (validation) errors against an estimate of the Bayes
  (optimal) error, as in Ng, *Improving Deep Neural Networks*, week 1, "Bias / Variance" and "Basic recipe
  for machine learning": avoidable bias = train error - Bayes error, variance = dev error - train error;
  high bias first calls for a bigger network or longer training, high variance for more data or
  regularization.
- :func:`saturation` measures, per hidden layer, how many sigmoid/tanh outputs sit near an asymptote,
  where sigma'(z) ~ 0 and the neuron learns slowly (Nielsen ch.3, "The cross-entropy cost function":
  the learning slowdown of saturated neurons; ch.3 "Weight initialization": large weights saturate the
  hidden layer), and how many ReLU units are dead (output 0 on every example, so no gradient ever
  reaches their weights).
- :func:`gradient_norms` measures ||dC/dW|| layer by layer on a batch: gradients that shrink (or grow)
  geometrically towards the input are Nielsen's "vanishing gradient problem" (ch.5, "Why are deep neural
  networks hard to train?": in a deep sigmoid network the early layers learn far more slowly than the
  later ones) and its opposite, exploding gradients.
- :func:`confusion_matrix` and :func:`classification_report`: per-class precision, recall, F1 and support.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .network import INFERENCE_CHUNK, Network
from .validation import check_features, check_positive_float, check_targets

__all__ = [
    "BIAS_REMEDIES",
    "VARIANCE_REMEDIES",
    "BiasVariance",
    "LayerGradient",
    "LayerSaturation",
    "bias_variance",
    "classification_report",
    "confusion_matrix",
    "gradient_norms",
    "gradient_verdict",
    "saturation",
]

#: Ng week 1, "Basic recipe for machine learning": what to try when the training error is too high.
BIAS_REMEDIES: tuple[str, ...] = (
    "a bigger network (more hidden units or more layers)",
    "train longer, or with a better optimizer (momentum, RMSprop, Adam)",
    "a different network architecture",
)
#: Ng week 1, "Basic recipe for machine learning": what to try when the dev error is much above the training error.
VARIANCE_REMEDIES: tuple[str, ...] = (
    "more training data (or data augmentation)",
    "regularization (L2, dropout, early stopping)",
    "a different network architecture",
)


def _check_error(value: object, name: str) -> float:
    value = check_positive_float(value, name, allow_zero=True)
    if value > 1.0:
        raise ValueError(f"{name} must be an error rate in [0, 1] (e.g. 0.05 for 5%), got {value}")
    return value


@dataclass(frozen=True)
class BiasVariance:
    """The outcome of :func:`bias_variance` (errors as fractions in [0, 1])."""

    train_error: float
    dev_error: float
    bayes_error: float
    tolerance: float
    avoidable_bias: float
    variance: float
    high_bias: bool
    high_variance: bool
    verdict: str
    remedies: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {"train_error": self.train_error, "dev_error": self.dev_error, "bayes_error": self.bayes_error,
                "tolerance": self.tolerance, "avoidable_bias": self.avoidable_bias, "variance": self.variance,
                "high_bias": self.high_bias, "high_variance": self.high_variance, "verdict": self.verdict,
                "remedies": list(self.remedies)}

    def __str__(self) -> str:
        lines = [
            f"train error {self.train_error:.2%}  dev error {self.dev_error:.2%}  Bayes error {self.bayes_error:.2%}",
            f"avoidable bias {self.avoidable_bias:+.2%}  variance {self.variance:+.2%}  -> {self.verdict}",
        ]
        lines += [f"  try: {remedy}" for remedy in self.remedies]
        return "\n".join(lines)


def bias_variance(train_error: float, dev_error: float, bayes_error: float = 0.0,
                  tolerance: float = 0.02) -> BiasVariance:
    """Ng's bias/variance diagnosis (week 1, "Bias / Variance"; "Basic recipe for machine learning").

    avoidable bias = train_error - bayes_error and variance = dev_error - train_error. Each counts as high
    when it exceeds ``tolerance`` (an absolute error rate; default 0.02, two percentage points). Ng's
    examples with a Bayes error near 0: train 1% / dev 11% is high variance, 15% / 16% high bias,
    15% / 30% high bias and high variance, 0.5% / 1% a good fit. With a Bayes error of 15% (blurry
    images), 15% / 16% is a good fit instead.

    Args:
        train_error: error rate on the training set, in [0, 1].
        dev_error: error rate on the dev (validation) set, in [0, 1].
        bayes_error: the lowest achievable error, e.g. human-level error as a proxy; default 0.
        tolerance: how large a gap counts as high; default 0.02.

    Returns:
        :class:`BiasVariance` with ``verdict`` one of ``"high bias"``, ``"high variance"``,
        ``"high bias and high variance"``, ``"good fit"``, and the course's ``remedies`` (bias first:
        Ng's recipe fixes the training error before the dev error).
    """
    train_error = _check_error(train_error, "train_error")
    dev_error = _check_error(dev_error, "dev_error")
    bayes_error = _check_error(bayes_error, "bayes_error")
    tolerance = check_positive_float(tolerance, "tolerance", allow_zero=True)
    avoidable_bias = train_error - bayes_error
    variance = dev_error - train_error
    high_bias = avoidable_bias > tolerance
    high_variance = variance > tolerance
    if high_bias and high_variance:
        verdict = "high bias and high variance"
        remedies = BIAS_REMEDIES + VARIANCE_REMEDIES[:2]
    elif high_bias:
        verdict, remedies = "high bias", BIAS_REMEDIES
    elif high_variance:
        verdict, remedies = "high variance", VARIANCE_REMEDIES
    else:
        verdict, remedies = "good fit", ()
    return BiasVariance(train_error, dev_error, bayes_error, tolerance, avoidable_bias, variance, high_bias,
                        high_variance, verdict, remedies)


# ------------------------------------------------------------------------------------------ saturation
_SATURATING = ("sigmoid", "tanh")
_RECTIFIED = ("relu", "leaky_relu")


@dataclass(frozen=True)
class LayerSaturation:
    """Saturation of one hidden layer's outputs on a set of examples.

    For sigmoid and tanh, ``saturated`` is the fraction of (example, unit) outputs within ``threshold`` of
    an asymptote (sigmoid: a < t or a > 1 - t; tanh: |a| > 1 - t) and ``stuck_units`` the fraction of units
    saturated on every example. For ReLU and leaky ReLU, ``saturated`` is the fraction of outputs with
    z <= 0 (inactive) and ``stuck_units`` the fraction of dead units, inactive on every example.
    """

    layer: int
    name: str
    activation: str
    units: int
    saturated: float
    stuck_units: float

    @property
    def problem(self) -> str | None:
        """A one-line warning when most outputs are saturated or at least a tenth of the units are stuck."""
        if self.activation in _RECTIFIED:
            if self.stuck_units >= 0.1:
                return f"{self.stuck_units:.0%} of the units are dead (never active): no gradient reaches them"
            return None
        if self.stuck_units >= 0.1:
            return f"{self.stuck_units:.0%} of the units are saturated on every example: they barely learn"
        if self.saturated >= 0.5:
            return f"{self.saturated:.0%} of the outputs are saturated: learning slows down (sigma'(z) ~ 0)"
        return None

    def as_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "name": self.name, "activation": self.activation, "units": self.units,
                "saturated": self.saturated, "stuck_units": self.stuck_units, "problem": self.problem}


def _layer_name(index: int, layer: Any) -> str:
    act = layer.activation_fn
    suffix = f", {act.name}" if act is not None and act.name != "identity" else ""
    return f"{index}: {type(layer).__name__}({layer.n_out}{suffix})"


def saturation(network: Network, X: Any, threshold: float = 0.01) -> list[LayerSaturation]:
    """Per hidden layer with a sigmoid, tanh, ReLU or leaky-ReLU activation, how saturated (or dead) its
    units are on the inputs ``X`` (inference mode: dropout off, BatchNorm running statistics).

    Nielsen ch.3: a sigmoid neuron whose output is near 0 or 1 has sigma'(z) ~ 0, so the gradients of its
    incoming weights are tiny and it learns slowly; weights initialized too large (N(0, 1) with many
    inputs) saturate most hidden neurons from the start. A ReLU unit whose pre-activation is negative on
    every example is dead: its gradient is always 0. The output layer is not included.

    Args:
        network: the network.
        X: inputs, shape (m, n_features).
        threshold: distance to an asymptote that counts as saturated, in (0, 0.5); default 0.01.
    """
    threshold = check_positive_float(threshold, "threshold")
    if threshold >= 0.5:
        raise ValueError(f"threshold must be in (0, 0.5), got {threshold}")
    X = check_features(X, "X", n_features=network.input_dim, dtype=network.dtype)
    watched = [i for i, layer in enumerate(network.layers[:-1])
               if layer.activation_fn is not None and layer.activation_fn.name in _SATURATING + _RECTIFIED]
    counts = {i: 0 for i in watched}
    per_unit = {i: np.zeros(network.layers[i].n_out, dtype=np.int64) for i in watched}
    last = max(watched, default=-1)
    for start in range(0, X.shape[0], INFERENCE_CHUNK):
        out = X[start:start + INFERENCE_CHUNK]
        for i, layer in enumerate(network.layers[:last + 1]):
            with np.errstate(over="ignore"):  # a saturated sigmoid's e^-z overflows to inf, its right limit
                out = layer.forward(out, False)
            if i not in counts:
                continue
            name = layer.activation_fn.name
            if name == "sigmoid":
                mask = (out < threshold) | (out > 1.0 - threshold)
            elif name == "tanh":
                mask = np.abs(out) > 1.0 - threshold
            else:  # relu, leaky relu: inactive when the output is not positive
                mask = out <= 0
            counts[i] += int(np.count_nonzero(mask))
            per_unit[i] += np.count_nonzero(mask, axis=0)
    m = X.shape[0]
    result = []
    for i in watched:
        layer = network.layers[i]
        result.append(LayerSaturation(
            layer=i, name=_layer_name(i, layer), activation=layer.activation_fn.name, units=layer.n_out,
            saturated=counts[i] / (m * layer.n_out), stuck_units=float(np.mean(per_unit[i] == m)),
        ))
    return result


# ------------------------------------------------------------------------------------ gradient norms
@dataclass(frozen=True)
class LayerGradient:
    """Gradient of the (unregularized) mean cost with respect to one layer's weights, on one batch.

    ``gradient_norm`` = ||dC/dW||_F, ``weight_norm`` = ||W||_F, ``bias_gradient_norm`` = ||dC/db|| (Nielsen
    ch.5's ||delta^l||, "the speed of learning" of the layer), ``rms`` = ||dC/dW|| / sqrt(size of W), which
    compares layers of different sizes.
    """

    layer: int
    name: str
    weight_norm: float
    gradient_norm: float
    bias_gradient_norm: float | None
    size: int

    @property
    def ratio(self) -> float:
        """||dW|| / ||W||: the relative change one step of size 1 would make."""
        return self.gradient_norm / self.weight_norm if self.weight_norm else math.inf

    @property
    def rms(self) -> float:
        return self.gradient_norm / math.sqrt(self.size)

    def as_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "name": self.name, "weight_norm": self.weight_norm,
                "gradient_norm": self.gradient_norm, "bias_gradient_norm": self.bias_gradient_norm,
                "ratio": self.ratio, "rms": self.rms}


def gradient_norms(network: Network, X: Any, y: Any, *, seed: int = 0) -> list[LayerGradient]:
    """Per-layer gradient norms of the mean cost on the batch (X, y), from the first layer to the last.

    Nielsen ch.5 ("The vanishing gradient problem") trains [784, 30, 30, 30, 30, 10] sigmoid networks and
    finds ||delta^l|| about 100 times smaller in the first hidden layer than in the last: each layer
    multiplies the backpropagated error by w sigma'(z), and with |w| < 1 and sigma' <= 1/4 the product
    shrinks geometrically (with large weights it can grow instead: exploding gradients).

    The computation runs on a float64 copy of the network (the network itself is not touched: no
    BatchNorm statistics move) in training mode, without the regularization term, so the norms are those
    of the backpropagated cost alone. Dropout masks come from ``seed``.

    Returns one :class:`LayerGradient` per layer that has a weight matrix ``W``.
    """
    net = network.astype(np.float64)
    net.regularizer = None
    for layer in net.layers:
        layer.regularizer = None
    X = check_features(X, "X", n_features=net.input_dim, dtype=np.float64)
    Y = check_targets(y, X.shape[0], net.output_dim, "y", dtype=np.float64)
    net.training_rng = np.random.default_rng(seed)
    try:
        net.compute_gradients(X, Y)
    finally:
        net.training_rng = None
    result = []
    for i, layer in enumerate(net.layers):
        if "W" not in layer.params:
            continue
        weights, grad = layer.params["W"], layer.grads["W"]
        bias_grad = layer.grads.get("b")
        result.append(LayerGradient(
            layer=i, name=_layer_name(i, layer), weight_norm=float(np.linalg.norm(weights)),
            gradient_norm=float(np.linalg.norm(grad)),
            bias_gradient_norm=None if bias_grad is None else float(np.linalg.norm(bias_grad)), size=weights.size,
        ))
    return result


def gradient_verdict(layers: Sequence[LayerGradient], factor: float = 10.0) -> str:
    """One line comparing the RMS weight gradient of the first layer with that of the last.

    "vanishing gradients" when the first is more than ``factor`` times smaller (Nielsen ch.5), "exploding
    gradients" when more than ``factor`` times larger, otherwise "gradients of similar size in every layer".
    """
    factor = check_positive_float(factor, "factor")
    if len(layers) < 2:
        return "one weight layer: nothing to compare"
    first, last = layers[0].rms, layers[-1].rms
    if first == 0 and last == 0:
        return "all gradients are 0: the network is not learning from this batch"
    ratio = first / last if last else math.inf
    if ratio < 1.0 / factor:
        return (f"vanishing gradients: the first layer's gradients are {1 / ratio:.3g} times smaller than the last "
                "layer's, so early layers learn slowly (try ReLU, He/Xavier initialization, batch norm)")
    if ratio > factor:
        return (f"exploding gradients: the first layer's gradients are {ratio:.3g} times larger than the last "
                "layer's (try a smaller learning rate or smaller initial weights)")
    return f"gradients of similar size in every layer (first/last RMS ratio {ratio:.3g})"


# ----------------------------------------------------------------------------------- per-class report
def confusion_matrix(y_true: Any, y_pred: Any, n_classes: int | None = None) -> np.ndarray:
    """Counts C[i, j] of examples of true class i predicted as class j (rows: truth, columns: prediction)."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.ndim != 1 or y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must be 1-D of the same length, got {y_true.shape} and {y_pred.shape}")
    for name, values in (("y_true", y_true), ("y_pred", y_pred)):
        if values.size and (not np.issubdtype(values.dtype, np.integer) or values.min() < 0):
            raise ValueError(f"{name} must hold class indices 0, 1, 2, ...")
    if n_classes is None:
        n_classes = int(max(y_true.max(initial=-1), y_pred.max(initial=-1))) + 1
    if y_true.size and max(y_true.max(), y_pred.max()) >= n_classes:
        raise ValueError(f"class indices must be below n_classes={n_classes}")
    flat = np.bincount(y_true.astype(np.int64) * n_classes + y_pred, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes)


def classification_report(cm: np.ndarray) -> dict[str, Any]:
    """Precision, recall, F1 and support per class from a confusion matrix, with macro and weighted averages.

    precision_k = C[k, k] / sum_i C[i, k] (of the examples predicted k, the fraction that are k),
    recall_k = C[k, k] / sum_j C[k, j], F1 = 2 p r / (p + r); a ratio with a zero denominator is 0 (as
    scikit-learn's ``zero_division=0``). Returns ``{"per_class": [...], "macro avg": {...},
    "weighted avg": {...}, "accuracy": float}``.
    """
    cm = np.asarray(cm, dtype=np.int64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"cm must be a square matrix, got shape {cm.shape}")
    tp = np.diag(cm).astype(np.float64)
    predicted = cm.sum(axis=0).astype(np.float64)
    support = cm.sum(axis=1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    total = support.sum()
    per_class = [{"class": k, "precision": float(precision[k]), "recall": float(recall[k]), "f1": float(f1[k]),
                  "support": int(support[k])} for k in range(cm.shape[0])]
    weights = support / total if total else np.zeros_like(support)

    def avg(w: np.ndarray) -> dict[str, float]:
        return {"precision": float(precision @ w), "recall": float(recall @ w), "f1": float(f1 @ w),
                "support": int(total)}

    return {"per_class": per_class, "macro avg": avg(np.full(cm.shape[0], 1.0 / cm.shape[0])),
            "weighted avg": avg(weights), "accuracy": float(tp.sum() / total) if total else 0.0}
