"""Exponentially weighted averages with bias correction (Ng, *Improving Deep Neural Networks*, week 2).

The exponentially weighted (moving) average of a sequence x_1, x_2, ... is

    v_0 = 0,   v_t = beta v_{t-1} + (1 - beta) x_t                       (Ng: "exponentially weighted averages")

and averages roughly the last 1 / (1 - beta) values. Starting from v_0 = 0 biases the first values
towards 0, which the bias correction removes (Ng: "bias correction in exponentially weighted averages"):

    v_t^corrected = v_t / (1 - beta^t)

The corrected average also obeys a recurrence of its own, which is how it is updated here and in
:class:`mlpkit.layers.BatchNorm` (the running statistics), without ever storing the raw v_t:

    c_t = c_{t-1} + w_t (x_t - c_{t-1}),   w_t = (1 - beta) / (1 - beta^t)

(substitute v_t = c_t (1 - beta^t) into the first recurrence). w_1 = 1, so the first corrected value is
x_1 itself, and w_t falls to 1 - beta as t grows.

These averages back Adam and RMSprop (:mod:`mlpkit.optimizers`, where the arithmetic is inlined on the
flat parameter vector for speed), the BatchNorm running statistics, and smoothed loss curves
(:func:`ewa`).
"""

from __future__ import annotations

import numbers

import numpy as np


def check_beta(beta: object, name: str = "beta") -> float:
    """``beta`` as a float in [0, 1), or a clear error naming ``name``."""
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real):
        raise TypeError(f"{name} must be a number in [0, 1), got {beta!r} ({type(beta).__name__})")
    beta = float(beta)
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"{name} must be in [0, 1) (it weights the past in an exponential average), got {beta}")
    return beta


def correction_weight(beta: float, t: int) -> float:
    """w_t = (1 - beta) / (1 - beta^t): the weight of the t-th value (t >= 1) in the bias-corrected average
    c_t = c_{t-1} + w_t (x_t - c_{t-1}) (see the module docstring)."""
    return (1.0 - beta) / (1.0 - beta ** t)


class ExponentialMovingAverage:
    """Running exponentially weighted average of scalars or equally-shaped arrays (Ng week 2).

    ``update(x)`` folds in the next value; ``value`` is the raw average v_t = beta v_{t-1} + (1 - beta) x_t
    (v_0 = 0) and ``corrected`` the bias-corrected v_t / (1 - beta^t). Before the first update both are 0.

    Example (Ng's temperatures, beta = 0.98): after x_1 = 40 and x_2 = 49, ``value`` is
    0.0196 * 40 + 0.02 * 49 = 1.764 and ``corrected`` is 1.764 / (1 - 0.98^2) = 44.545...

    Args:
        beta: weight of the past, in [0, 1); the average spans about 1 / (1 - beta) values.
    """

    def __init__(self, beta: float = 0.9) -> None:
        self.beta = check_beta(beta)
        self.count = 0
        self._corrected: np.ndarray | None = None

    def update(self, x: float | np.ndarray) -> float | np.ndarray:
        """Fold ``x`` into the average and return the new bias-corrected value."""
        x = np.asarray(x, dtype=np.float64)
        if self._corrected is not None and x.shape != self._corrected.shape:
            raise ValueError(f"x has shape {x.shape} but this average holds shape {self._corrected.shape}")
        self.count += 1
        if self._corrected is None:
            self._corrected = x.copy()  # w_1 = 1: the first corrected value is x_1
        else:
            self._corrected += correction_weight(self.beta, self.count) * (x - self._corrected)
        return self.corrected

    @property
    def corrected(self) -> float | np.ndarray:
        """The bias-corrected average v_t / (1 - beta^t) (0 before any update)."""
        if self._corrected is None:
            return 0.0
        return self._corrected.item() if self._corrected.ndim == 0 else self._corrected.copy()

    @property
    def value(self) -> float | np.ndarray:
        """The raw average v_t, biased towards its start v_0 = 0 for small t."""
        if self._corrected is None:
            return 0.0
        raw = self._corrected * (1.0 - self.beta ** self.count)
        return raw.item() if raw.ndim == 0 else raw

    def __repr__(self) -> str:
        return f"ExponentialMovingAverage(beta={self.beta}, count={self.count})"


def ewa(series: object, beta: float = 0.9, bias_correction: bool = True) -> np.ndarray:
    """The exponentially weighted average of a 1-D series at every step, e.g. to smooth a loss curve.

    v_t = beta v_{t-1} + (1 - beta) x_t with v_0 = 0, divided by (1 - beta^t) when ``bias_correction``
    (Ng week 2). Returns an array as long as ``series``.
    """
    beta = check_beta(beta)
    values = np.asarray(series, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"series must be 1-D, got shape {values.shape}")
    out = np.empty_like(values)
    v = 0.0
    for t, x in enumerate(values):  # a recurrence over a curve's points, not over training examples
        v = beta * v + (1.0 - beta) * x
        out[t] = v
    if bias_correction:
        out /= 1.0 - beta ** np.arange(1, values.size + 1)
    return out
