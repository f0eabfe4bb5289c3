"""Weight penalties added to the cost, and their gradients.

``n`` is the size of the training set (Nielsen's n, Ng's m), so the penalty per weight does not depend on
the mini-batch size. Only weights are penalized, never biases (Nielsen ch.3, "Regularization").

- L2:  C = C0 + (lmbda / 2n) sum_w w^2        (Nielsen eq. (85); Ng: lambda/(2m) ||W||_F^2)
       dC/dw = dC0/dw + (lmbda / n) w, so plain SGD gives w <- (1 - eta lmbda / n) w - eta dC0/dw
       (Nielsen eq. (93), network2's update_mini_batch: "weight decay").
- L1:  C = C0 + (lmbda / n) sum_w |w|          (Nielsen eq. (95))
       dC/dw = dC0/dw + (lmbda / n) sgn(w), sgn(0) = 0 (Nielsen eq. (96)-(97)).
"""

from __future__ import annotations

import numpy as np

from .validation import check_positive_float


class Regularizer:
    """A penalty on a flat vector of weights: ``penalty(w, n)`` and ``add_gradient(w, grad, n)``."""

    name: str = ""

    def __init__(self, lmbda: float) -> None:
        self.lmbda = check_positive_float(lmbda, "lmbda", allow_zero=True)

    def penalty(self, weights: np.ndarray, n: int) -> float:
        raise NotImplementedError

    def add_gradient(self, weights: np.ndarray, grad: np.ndarray, n: int) -> None:
        """grad += d(penalty)/dw, in place."""
        raise NotImplementedError

    def sgd_decay(self, weights: np.ndarray, rate: float, n: int, scratch: np.ndarray) -> float:
        """The penalty's part of a plain SGD step with learning rate ``rate``, for a step that applies the
        cost's part itself, as w <- beta w - rate dC0/dw inside the product that forms dC0/dw
        (:mod:`mlpkit.fast`). Returns that beta, after taking w <- w - rate d(penalty)/dw in place on
        ``weights`` if the penalty cannot be folded into beta (``scratch``: a work array shaped like
        ``weights``). Either way the step is w - rate (dC0/dw + d(penalty)/dw), up to rounding.

        This generic form works for any penalty through :meth:`add_gradient`; :class:`L2` folds its decay into
        beta instead."""
        scratch.fill(0)
        self.add_gradient(weights, scratch, n)
        scratch *= rate
        weights -= scratch
        return 1.0

    def get_config(self) -> dict:
        return {"name": self.name, "lmbda": self.lmbda}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lmbda={self.lmbda})"


class L2(Regularizer):
    """L2 weight decay (Nielsen eq. (85) and (93))."""

    name = "l2"

    def penalty(self, weights: np.ndarray, n: int) -> float:
        return 0.5 * self.lmbda / n * float(np.dot(weights, weights))

    def add_gradient(self, weights: np.ndarray, grad: np.ndarray, n: int) -> None:
        if self.lmbda:
            grad += (self.lmbda / n) * weights

    def decay_factor(self, rate: float, n: int) -> float:
        """1 - eta lmbda / n: what a plain SGD step with learning rate eta multiplies the weights by before
        subtracting eta times the cost gradient (Nielsen eq. (93))."""
        return 1.0 - rate * self.lmbda / n

    def sgd_decay(self, weights: np.ndarray, rate: float, n: int, scratch: np.ndarray) -> float:
        """beta = 1 - eta lmbda / n: the decay rides on the gradient product, nothing is applied here."""
        return self.decay_factor(rate, n)


class L1(Regularizer):
    """L1 penalty (Nielsen eq. (95)-(97)); its gradient uses sgn(w) with sgn(0) = 0."""

    name = "l1"

    def penalty(self, weights: np.ndarray, n: int) -> float:
        return self.lmbda / n * float(np.abs(weights).sum())

    def add_gradient(self, weights: np.ndarray, grad: np.ndarray, n: int) -> None:
        if self.lmbda:
            grad += (self.lmbda / n) * np.sign(weights)


_REGULARIZERS: dict[str, type[Regularizer]] = {"l2": L2, "l1": L1}


def get_regularizer(spec: str | dict | Regularizer | None) -> Regularizer | None:
    """Build a regularizer from ``None``, an instance, or a config dict ``{"name": "l2", "lmbda": 5.0}``."""
    if spec is None or isinstance(spec, Regularizer):
        return spec
    if isinstance(spec, dict):
        params = dict(spec)
        name = str(params.pop("name", "")).lower()
        if name not in _REGULARIZERS:
            raise ValueError(f"unknown regularizer {name!r}; expected one of {', '.join(_REGULARIZERS)}")
        return _REGULARIZERS[name](**params)
    raise TypeError(f"regularizer must be None, L2(lmbda), L1(lmbda) or a config dict, got {spec!r}")
