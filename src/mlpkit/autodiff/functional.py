"""Neural-network functions on tensors: selections, activations, softmax and the costs computed from logits.

Each is one graph node with its backward rule written once (formula in the docstring; ``g`` is dL/d(output)),
in the numerically stable form of the hand-written code in :mod:`mlpkit.activations` and :mod:`mlpkit.losses`:
softmax, log-softmax and log-sum-exp subtract the maximum first, the cross-entropies work from logits, so a
logit of 1000 gives a finite cost and a finite gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import AutodiffError, AxisArg, Tensor, _axes, _pair, as_tensor, node, unbroadcast


# ------------------------------------------------------------------------------------------------ selection
def where(condition: Any, a: Any, b: Any) -> Tensor:
    """a where ``condition`` holds, else b (with broadcasting); the condition is a constant (not differentiated)."""
    a, b = _pair(a, b)
    cond = as_tensor(condition)
    try:
        data = np.where(cond.data, a.data, b.data)
    except ValueError:
        raise AutodiffError(f"where: shapes {cond.shape}, {a.shape} and {b.shape} cannot be broadcast "
                            f"together") from None
    return node(data, "where", (cond, a, b), _where_backward)


def _where_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """a gets g where the condition holds, b where it does not."""
    cond, a, b = out.parents
    zero = np.zeros((), dtype=g.dtype)
    return (None,
            unbroadcast(np.where(cond.data, g, zero), a.data.shape) if a.requires_grad else None,
            unbroadcast(np.where(cond.data, zero, g), b.data.shape) if b.requires_grad else None)


def maximum(a: Any, b: Any) -> Tensor:
    """The elementwise larger of a and b (with broadcasting)."""
    return _pick(np.maximum, np.greater, "maximum", a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """The elementwise smaller of a and b (with broadcasting)."""
    return _pick(np.minimum, np.less, "minimum", a, b)


def _pick(function: np.ufunc, wins: np.ufunc, op: str, a: Any, b: Any) -> Tensor:
    a, b = _pair(a, b)
    try:
        data = function(a.data, b.data)
    except ValueError:
        raise AutodiffError(f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together") from None
    return node(data, op, (a, b), _pick_backward, wins)


def _pick_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """The chosen input gets g; on a tie each gets g / 2 (as PyTorch)."""
    a, b = out.parents
    wins = out._ctx
    a_share = wins(a.data, b.data) + 0.5 * (a.data == b.data)
    return (unbroadcast(g * a_share, a.data.shape) if a.requires_grad else None,
            unbroadcast(g * (1 - a_share), b.data.shape) if b.requires_grad else None)


def clip(x: Any, low: float | None, high: float | None) -> Tensor:
    """x limited to [low, high] (None: no limit on that side)."""
    x = as_tensor(x)
    if low is None and high is None:
        raise AutodiffError("clip: give low, high or both")
    return node(np.clip(x.data, low, high), "clip", (x,), _clip_backward, (low, high))


def _clip_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """d clip(x) = dx inside [low, high] (bounds included, as PyTorch's clamp), 0 outside."""
    x = out.parents[0].data
    low, high = out._ctx
    inside = np.ones(x.shape, dtype=bool)
    if low is not None:
        inside &= x >= low
    if high is not None:
        inside &= x <= high
    return (g * inside,)


def concatenate(tensors: Any, axis: int = 0) -> Tensor:
    """The tensors joined along ``axis``."""
    parts = tuple(as_tensor(t) for t in tensors)
    if not parts:
        raise AutodiffError("concatenate: needs at least one tensor")
    try:
        data = np.concatenate([t.data for t in parts], axis=axis)
    except ValueError:
        shapes = ", ".join(str(t.shape) for t in parts)
        raise AutodiffError(f"concatenate: shapes {shapes} cannot be joined along axis {axis}") from None
    return node(data, "concatenate", parts, _concatenate_backward, axis)


def _concatenate_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """Each input gets its own slice of g."""
    axis = out._ctx
    ends = np.cumsum([t.data.shape[axis] for t in out.parents])[:-1]
    return tuple(np.split(g, ends, axis=axis))


# ------------------------------------------------------------------------------------------------ not differentiable
def sign(x: Any) -> Tensor:
    """-1, 0 or 1 by the sign of x. Not differentiable: a gradient through it is an error (use ``x.detach()``)."""
    x = as_tensor(x)
    return node(np.sign(x.data), "sign", (x,), _not_differentiable)


def round(x: Any, decimals: int = 0) -> Tensor:  # NumPy's name (ad.round); shadows the builtin here only
    """x rounded to ``decimals``. Not differentiable: a gradient through it is an error (use ``x.detach()``)."""
    x = as_tensor(x)
    return node(np.round(x.data, decimals), "round", (x,), _not_differentiable)


def _not_differentiable(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """Piecewise constant: the derivative is 0 where it exists and undefined at the steps, no use for learning."""
    raise AutodiffError(f"cannot differentiate through {out.op!r}: it is piecewise constant; apply it to "
                        f"x.detach() to use its value as a constant")


# ------------------------------------------------------------------------------------------------ activations
#: e^88 fits in float32 (and float64): below -88, e^-x may overflow
_EXP_SAFE = 88.0


def sigmoid(x: Any) -> Tensor:
    """sigma(x) = 1 / (1 + e^-x) (Nielsen eq. (3)), as :mod:`mlpkit.activations` computes it: e^-x may overflow
    to infinity for very negative x, which gives the right 0 (the overflow warning is silenced only then:
    ``np.errstate`` costs more than the whole operation on a small array)."""
    x = as_tensor(x)
    if x.data.size and np.minimum.reduce(x.data, axis=None) < -_EXP_SAFE:
        with np.errstate(over="ignore"):
            data = 1 / (1 + np.exp(-x.data))
    else:
        data = 1 / (1 + np.exp(-x.data))
    return node(data, "sigmoid", (x,), _sigmoid_backward)


def _sigmoid_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """sigma' = sigma (1 - sigma) (Nielsen ch.1)."""
    s = out.data
    return (g * s * (1 - s),)


def tanh(x: Any) -> Tensor:
    """The hyperbolic tangent."""
    x = as_tensor(x)
    return node(np.tanh(x.data), "tanh", (x,), _tanh_backward)


def _tanh_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """tanh' = 1 - tanh^2 (Ng course 1 week 3)."""
    return (g * (1 - np.square(out.data)),)


def relu(x: Any) -> Tensor:
    """max(0, x) (Ng course 1 week 3)."""
    x = as_tensor(x)
    return node(np.maximum(x.data, 0), "relu", (x,), _relu_backward)


def _relu_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """relu' = 1 where x > 0, else 0 (0 at x = 0, as PyTorch)."""
    return (g * (out.data > 0),)


def _top(op: str, x: np.ndarray, axis: AxisArg) -> np.ndarray:
    """The maximum of x over ``axis`` (kept as length 1), 0 where it is not finite: subtracted before exp()."""
    try:
        top = np.maximum.reduce(x, axis=axis, keepdims=True)
    except ValueError:
        raise AutodiffError(f"{op}: cannot reduce a tensor of shape {x.shape} over axis {axis!r}") from None
    return np.where(np.isfinite(top), top, 0)


def _log_sum_exp(shifted: np.ndarray, axis: AxisArg) -> np.ndarray:
    with np.errstate(divide="ignore"):  # a row of -inf: log 0 = -inf, the right answer
        return np.log(np.add.reduce(np.exp(shifted), axis=axis, keepdims=True))


def softmax(x: Any, axis: int = -1) -> Tensor:
    """e^{x_j} / sum_k e^{x_k} over ``axis`` (Nielsen eq. (78)), computed from x - max x."""
    x = as_tensor(x)
    e = np.exp(x.data - _top("softmax", x.data, axis))
    return node(e / np.sum(e, axis=axis, keepdims=True), "softmax", (x,), _softmax_backward, axis)


def _softmax_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """ds_j/dx_k = s_j (delta_jk - s_k), so dL/dx = s (g - sum_k g_k s_k), without forming the Jacobian."""
    s = out.data
    return (s * (g - np.sum(g * s, axis=out._ctx, keepdims=True)),)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """ln softmax(x) = x - max x - ln sum_k e^{x_k - max x} over ``axis``: finite for any finite x."""
    x = as_tensor(x)
    shifted = x.data - _top("log_softmax", x.data, axis)
    return node(shifted - _log_sum_exp(shifted, axis), "log_softmax", (x,), _log_softmax_backward, axis)


def _log_softmax_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """d(ln s_j)/dx_k = delta_jk - s_k, so dL/dx = g - s sum_k g_k."""
    return (g - np.exp(out.data) * np.sum(g, axis=out._ctx, keepdims=True),)


def logsumexp(x: Any, axis: AxisArg = -1, keepdims: bool = False) -> Tensor:
    """ln sum_k e^{x_k} over ``axis`` (all axes when None), computed as max x + ln sum_k e^{x_k - max x}."""
    x = as_tensor(x)
    top = _top("logsumexp", x.data, axis)
    data = _log_sum_exp(x.data - top, axis) + top
    if not keepdims:
        data = np.squeeze(data, axis=axis)
    return node(data, "logsumexp", (x,), _logsumexp_backward, (_axes(axis, x.ndim), keepdims))


def _logsumexp_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """d logsumexp(x) / dx_k = softmax(x)_k."""
    x = out.parents[0].data
    axes, keepdims = out._ctx
    total = out.data if keepdims else np.expand_dims(out.data, axes)
    return ((g if keepdims else np.expand_dims(g, axes)) * np.exp(x - total),)


# ------------------------------------------------------------------------------------------------ costs
def _check_targets(op: str, z: Tensor, y: Tensor, expected: str) -> None:
    if z.shape != y.shape:
        raise AutodiffError(f"{op}: logits of shape {z.shape} and targets of shape {y.shape} must have the same "
                            f"shape ({expected})")


def binary_cross_entropy_with_logits(z: Any, y: Any) -> Tensor:
    """The cross-entropy of sigmoid(z) against targets y in [0, 1], summed over the outputs and averaged over the
    rows (a 1-D z: one logit per example; Nielsen eq. (57); Ng course 1 week 2's J), from the logits z in the
    stable form max(z, 0) - z y + ln(1 + e^-|z|), which never takes the log of 0 nor overflows."""
    z, y = _pair(z, y)
    _check_targets("binary_cross_entropy_with_logits", z, y, "a target in [0, 1] per logit")
    m = z.shape[0] if z.ndim else 1
    data = np.sum(np.maximum(z.data, 0) - z.data * y.data + np.log1p(np.exp(-np.abs(z.data)))) / m
    return node(data, "binary_cross_entropy_with_logits", (z, y), _bce_backward, m)


def _bce_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """dJ/dz = (sigma(z) - y) / m (Nielsen eq. (61): the sigma' cancels); dJ/dy = -z / m."""
    z, y = out.parents
    m = out._ctx
    grad_z = grad_y = None
    if z.requires_grad:
        e = np.exp(-np.abs(z.data))  # sigma(z) = 1 / (1 + e) for z >= 0, e / (1 + e) below: no overflow
        s = np.where(z.data >= 0, 1, e) / (1 + e)
        grad_z = (g / m) * (s - y.data)
    if y.requires_grad:
        grad_y = (g / m) * -z.data
    return grad_z, grad_y


def cross_entropy_with_logits(z: Any, y_onehot: Any) -> Tensor:
    """The categorical cross-entropy -sum_j y_j ln softmax(z)_j averaged over the rows (Nielsen eq. (80); Ng
    course 2 week 3's softmax cost), with the log-probabilities from :func:`log_softmax`'s stable form. Rows are
    examples, columns classes (a 1-D z is one example); ``y_onehot`` has z's shape (one-hot rows, or any
    distribution over the classes)."""
    z, y = _pair(z, y_onehot)
    _check_targets("cross_entropy_with_logits", z, y, "one-hot rows, one column per class")
    m = z.size // z.shape[-1] if z.ndim and z.shape[-1] else 1
    shifted = z.data - _top("cross_entropy_with_logits", z.data, -1)
    log_p = shifted - _log_sum_exp(shifted, -1)
    return node(-np.sum(y.data * log_p) / m, "cross_entropy_with_logits", (z, y), _cross_entropy_backward,
                (m, log_p))


def _cross_entropy_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """dJ/dz = (softmax(z) sum_j y_j - y) / m, which is (a - y) / m for one-hot rows (Nielsen eq. (84));
    dJ/dy = -ln softmax(z) / m."""
    z, y = out.parents
    m, log_p = out._ctx
    grad_z = grad_y = None
    if z.requires_grad:
        grad_z = (g / m) * (np.exp(log_p) * np.sum(y.data, axis=-1, keepdims=True) - y.data)
    if y.requires_grad:
        grad_y = (g / m) * -log_p
    return grad_z, grad_y

