"""Reverse-mode automatic differentiation over NumPy arrays.

Write the forward computation with :class:`Tensor` operations and get the gradient from ``backward()`` or
:func:`grad`; the machine does the backpropagation that :mod:`mlpkit.layers` writes by hand (Ng course 2 week 3:
"with a framework you only write the forward pass")::

    import mlpkit.autodiff as ad
    from mlpkit import SGD

    w = ad.Tensor(0.0, requires_grad=True)
    cost = w ** 2 - 10 * w + 25          # the course's J(w) = w^2 - 10 w + 25
    cost.backward()                      # w.grad == dJ/dw = 2 w - 10 = -10
    ad.grad(lambda w: w ** 2 - 10 * w + 25)(0.0)   # the same, as a function of arrays: -10.0

    SGD(0.1).minimize(lambda: w ** 2 - 10 * w + 25, [w])   # w -> 5 (see Optimizer.minimize)

Operations broadcast as NumPy does and keep the dtype (float32 in, float32 gradients out); ``no_grad()`` computes
values without recording the graph. Misuse (shapes that do not fit, a gradient that does not exist) raises
:class:`AutodiffError`, a ``ValueError`` with a one-line message naming the operation and the shapes.

Modules: :mod:`.tensor` (the Tensor, the graph, the reverse pass, array operations), :mod:`.functional`
(activations, softmax, costs from logits), :mod:`.transforms` (grad, value_and_grad).
"""

from .functional import (
    binary_cross_entropy_with_logits,
    clip,
    concatenate,
    cross_entropy_with_logits,
    log_softmax,
    logsumexp,
    maximum,
    minimum,
    relu,
    round,
    sigmoid,
    sign,
    softmax,
    tanh,
    where,
)
from .tensor import (
    AutodiffError,
    Tensor,
    abs,
    add,
    as_tensor,
    astype,
    divide,
    exp,
    getitem,
    is_grad_enabled,
    log,
    matmul,
    max,
    mean,
    min,
    multiply,
    negative,
    no_grad,
    nodes,
    power,
    reshape,
    set_grad_enabled,
    sqrt,
    square,
    subtract,
    sum,
    transpose,
    unbroadcast,
)
from .transforms import grad, value_and_grad

__all__ = [
    "AutodiffError",
    "Tensor",
    "abs",
    "add",
    "as_tensor",
    "astype",
    "binary_cross_entropy_with_logits",
    "clip",
    "concatenate",
    "cross_entropy_with_logits",
    "divide",
    "exp",
    "getitem",
    "grad",
    "is_grad_enabled",
    "log",
    "log_softmax",
    "logsumexp",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "multiply",
    "negative",
    "no_grad",
    "nodes",
    "power",
    "relu",
    "reshape",
    "round",
    "set_grad_enabled",
    "sigmoid",
    "sign",
    "softmax",
    "sqrt",
    "square",
    "subtract",
    "sum",
    "tanh",
    "transpose",
    "unbroadcast",
    "value_and_grad",
    "where",
]
