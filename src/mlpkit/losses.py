"""Cost functions, their gradients, and the fused output-layer errors that make learning fast.

All costs are per-example sums over the output units, averaged over the examples of a batch
(Nielsen's C = (1/n) sum_x C_x; Ng's J = (1/m) sum_i L(yhat_i, y_i)).

Each cost gets both the output layer's pre-activation ``z`` and its activation ``a`` (network2's
``fn(a, y)`` / ``delta(z, a, y)`` pair), so it can evaluate itself in the stable form: from logits where
a logarithm of a probability is needed (no log(0), no overflow), from ``a`` elsewhere.

``delta`` is the output error dL/dz of the last layer, already divided by the batch size ``m``:
- quadratic, any output activation g:  (a - y) g'(z)                       Nielsen eq. (BP1) with (6)
- binary cross-entropy over sigmoid:   a - y  (the sigma' cancels)        Nielsen eq. (66)
- categorical cross-entropy (log-likelihood) over softmax:  a - y          Nielsen eq. (81)-(84); Ng
When the output activation is not the one the cancellation needs, the error is formed the long way,
dL/da then through g', which is slower but still exact.

Sample weights (``weights=w``, one per row, >= 0, not all zero) turn the batch mean into the weighted mean
C = sum_i w_i C_i / sum_i w_i, and the output error of row i into w_i dC_i/dz / sum_i w_i (scikit-learn's
``sample_weight`` convention: a weight of 2 counts a row twice). Without weights both are the plain mean,
computed exactly as before.
"""

from __future__ import annotations

import copy
import inspect

import numpy as np

from .activations import ActivationFunction, Sigmoid, Softmax
from .validation import check_positive_float

_TINY = 1e-12


def _softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|)."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


class Loss:
    """Base class: ``value`` (mean cost), ``delta`` (dL/dz / m), ``check_output`` (compatibility)."""

    name: str = ""
    #: output activation classes for which dL/dz = a - y exactly
    fused_with: tuple[type[ActivationFunction], ...] = ()
    #: the output layer's activation, set by ``bind``
    activation: ActivationFunction | None = None

    def per_example(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Cost of each example (shape (m,))."""
        raise NotImplementedError

    def value(self, z: np.ndarray, a: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> float:
        """Mean cost over the batch; with ``weights`` (m,), the weighted mean sum_i w_i C_i / sum_i w_i."""
        if weights is None:
            return float(np.mean(self.per_example(z, a, y)))
        return float(np.dot(weights, self.per_example(z, a, y)) / weights.sum())

    def grad_output(self, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """dC_x/da for each example (not averaged)."""
        raise NotImplementedError

    def bind(self, activation: ActivationFunction) -> Loss:
        """Return a copy of this cost attached to the output activation; raise if they do not fit."""
        self.check_output(activation)
        bound = copy.copy(self)
        bound.activation = activation
        return bound

    def delta(self, z: np.ndarray, a: np.ndarray, y: np.ndarray, out: np.ndarray,
              weights: np.ndarray | None = None) -> np.ndarray:
        """Output error dL/dz of the batch mean cost, i.e. per-example dC_x/dz divided by m, into ``out``;
        with ``weights`` (m,), row i's dC_i/dz times w_i / sum_i w_i (the error of the weighted mean)."""
        activation = self.activation
        scale = 1.0 / a.shape[0] if weights is None else (weights / weights.sum()).astype(a.dtype, copy=False)[:, None]
        if isinstance(activation, self.fused_with):
            np.subtract(a, y, out=out)
            out *= scale
            return out
        grad = self.grad_output(a, y)
        grad *= scale
        return activation.backward(grad, a, out)

    def check_output(self, activation: ActivationFunction) -> None:
        """Raise ValueError when this cost cannot be used on top of ``activation``."""

    def get_config(self) -> dict:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Quadratic(Loss):
    """Quadratic cost C_x = 1/2 ||y - a||^2 (Nielsen eq. (6)); works with any output activation."""

    name = "quadratic"

    def per_example(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        diff = a - y
        return 0.5 * np.einsum("ij,ij->i", diff, diff)

    def grad_output(self, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        return a - y


class BinaryCrossEntropy(Loss):
    """Cross-entropy C_x = -sum_j [y_j ln a_j + (1 - y_j) ln(1 - a_j)] (Nielsen eq. (57)/(63); network2's
    CrossEntropyCost). Needs outputs in (0, 1): sigmoid (fused, evaluated from logits as
    y softplus(-z) + (1 - y) softplus(z)) or softmax (evaluated from ``a``, clipped away from 0 and 1).
    """

    name = "binary_crossentropy"
    fused_with = (Sigmoid,)

    def per_example(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        if isinstance(self.activation, Sigmoid):
            terms = y * _softplus(-z) + (1.0 - y) * _softplus(z)
        else:
            clipped = np.clip(a, _TINY, 1.0 - _TINY)
            terms = -(y * np.log(clipped) + (1.0 - y) * np.log1p(-clipped))
        return terms.sum(axis=1)

    def grad_output(self, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        clipped = np.clip(a, _TINY, 1.0 - _TINY)
        return (clipped - y) / (clipped * (1.0 - clipped))

    def check_output(self, activation: ActivationFunction) -> None:
        if not isinstance(activation, (Sigmoid, Softmax)):
            raise ValueError(
                f"binary_crossentropy needs outputs in (0, 1): use a sigmoid (or softmax) output layer, "
                f"not {activation.name}"
            )


class CategoricalCrossEntropy(Loss):
    """Log-likelihood / categorical cross-entropy C_x = -sum_j y_j ln a_j over a softmax output
    (Nielsen eq. (80) with one-hot y; Ng: L(yhat, y) = -sum_j y_j log yhat_j), evaluated from logits as
    -sum_j y_j (z_j - logsumexp(z)), so that a probability that underflows to 0 never gives log(0).
    """

    name = "categorical_crossentropy"
    fused_with = (Softmax,)

    def per_example(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        shift = z.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(z - shift).sum(axis=1, keepdims=True)) + shift
        return -np.einsum("ij,ij->i", y, z - log_norm)

    def grad_output(self, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        return -y / np.maximum(a, _TINY)

    def check_output(self, activation: ActivationFunction) -> None:
        if not isinstance(activation, Softmax):
            raise ValueError(
                f"categorical_crossentropy needs a softmax output layer, not {activation.name}; "
                "use binary_crossentropy for sigmoid outputs"
            )


class MeanAbsoluteError(Loss):
    """Absolute-error (L1) cost C_x = sum_j |a_j - y_j| for regression: the median-unbiased counterpart of the
    quadratic cost (Nielsen eq. (6)), so an outlier pulls on the weights with a constant force. Its
    (sub)gradient is dC_x/da_j = sign(a_j - y_j), 0 where a_j = y_j (the convention of
    ``torch.nn.functional.l1_loss``, whose ``reduction="sum"`` over one row is this C_x)."""

    name = "mae"

    def per_example(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.abs(a - y).sum(axis=1)

    def grad_output(self, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.sign(a - y)


class Huber(Loss):
    """Huber cost (Huber 1964, "Robust estimation of a location parameter"), per output unit with residual
    r = a - y and threshold delta:

        h(r) = r^2 / 2                  if |r| <= delta
        h(r) = delta (|r| - delta / 2)  otherwise,          C_x = sum_j h(r_j)

    the quadratic cost near the target and linear beyond delta (``torch.nn.functional.huber_loss``'s
    definition). dh/dr = clip(r, -delta, delta). Evaluated as q^2 / 2 + delta (|r| - q), q = min(|r|, delta).

    Args:
        delta: the residual beyond which the cost is linear (> 0); default 1. Saved in ``get_config()`` as
            ``"delta"`` and kept as ``self.threshold`` (``delta`` is the output-error method of every cost).
        threshold: another name for ``delta``, read from files saved when ``"huber"`` named the autodiff
            example (``mlpkit.autodiff.custom.Huber``, now ``"autodiff_huber"``); give one of the two.
    """

    name = "huber"

    def __init__(self, delta: float = 1.0, *, threshold: float | None = None) -> None:
        self.threshold = check_positive_float(delta if threshold is None else threshold, "the Huber delta")

    def per_example(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        distance = np.abs(a - y)
        inner = np.minimum(distance, self.threshold)
        return (0.5 * inner * inner + self.threshold * (distance - inner)).sum(axis=1)

    def grad_output(self, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.clip(a - y, -self.threshold, self.threshold)

    def get_config(self) -> dict:
        return {"name": self.name, "delta": self.threshold}

    def __repr__(self) -> str:
        return f"Huber(delta={self.threshold!r})"


_LOSSES: dict[str, type[Loss]] = {
    "quadratic": Quadratic,
    "mse": Quadratic,
    "mae": MeanAbsoluteError,
    "l1": MeanAbsoluteError,
    "huber": Huber,
    "binary_crossentropy": BinaryCrossEntropy,
    "cross_entropy": BinaryCrossEntropy,  # Nielsen's CrossEntropyCost
    "bce": BinaryCrossEntropy,
    "categorical_crossentropy": CategoricalCrossEntropy,
    "log_likelihood": CategoricalCrossEntropy,  # Nielsen ch.3 "softmax + log-likelihood"
    "softmax_crossentropy": CategoricalCrossEntropy,
    "cce": CategoricalCrossEntropy,
}
LOSS_NAMES = tuple(_LOSSES)


def accepts_weights(loss: Loss) -> bool:
    """True when ``loss``'s ``value`` and ``delta`` take sample weights (``weights=``): the built-in costs and
    subclasses that keep the base signatures; a cost that overrides them without it cannot be weighted."""
    return all("weights" in inspect.signature(getattr(loss, method)).parameters for method in ("value", "delta"))


def register_loss(cls: type[Loss]) -> type[Loss]:
    """Make a cost class known to :func:`get_loss` and to the safe loader (by its ``name``, the key its
    ``get_config()`` saves); usable as a decorator. Its constructor takes the rest of that config."""
    if not isinstance(cls, type) or not issubclass(cls, Loss):
        raise TypeError(f"register_loss takes a Loss subclass, got {cls!r}")
    key = cls.name.lower().replace("-", "_") if isinstance(cls.name, str) else ""
    if not key:
        raise ValueError(f"{cls.__name__} needs a name (the key it is saved under) to be registered")
    _LOSSES[key] = cls
    return cls


def get_loss(spec: str | dict | Loss) -> Loss:
    """Build a cost from a name (see ``LOSS_NAMES``; registered custom costs too), a config dict
    (``get_config()`` output: the name and the constructor's arguments) or an instance."""
    if isinstance(spec, Loss):
        return spec
    params: dict = {}
    if isinstance(spec, dict):
        params = {k: v for k, v in spec.items() if k != "name"}
        spec = spec.get("name", "")
    if not isinstance(spec, str):
        raise TypeError(f"loss must be a name or a Loss instance, got {spec!r}")
    key = spec.lower().replace("-", "_")
    if key not in _LOSSES:
        raise ValueError(f"unknown loss {spec!r}; expected one of {', '.join(_LOSSES)} (a custom Loss class is "
                         "known once registered with @register_loss)")
    try:
        return _LOSSES[key](**params)
    except TypeError as exc:
        raise ValueError(f"bad parameters for the {key!r} loss: {exc}") from exc
