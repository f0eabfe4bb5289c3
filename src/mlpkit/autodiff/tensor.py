"""The :class:`Tensor`, the graph it records and the reverse pass over it; the array operations behind its methods.

Reverse-mode automatic differentiation (the backpropagation of Nielsen ch.2 and Ng course 1 week 3, done by the
machine): every operation on tensors that need a gradient records a node holding its inputs (``parents``), its
name (``op``) and its backward rule. ``backward()`` sorts the graph topologically with an explicit stack (no
recursion, so a graph thousands of operations deep is fine), then visits the nodes from the output down: each
node hands its gradient to its rule, which returns the gradient of every input (the chain rule,
dL/dx = dL/dy dy/dx, one Jacobian-vector product per node, never a Jacobian).

Broadcasting (NumPy's rules, on every binary operation): an input that was stretched along an axis gets the
gradient summed over that axis, in :func:`unbroadcast`, the one place that does it.

Each backward rule is a module-level function whose docstring gives its formula; ``g`` is dL/d(output).
The functions keep NumPy's names (``sum``, ``max``, ``min``, ``abs``: ``ad.sum``), so in this module those names
are the tensor operations, not Python's builtins.

dtypes: float32 and float64 are kept; a Python number next to a float tensor takes the tensor's dtype, so
float32 in gives float32 out; a gradient is cast to its input's dtype, so a float32 parameter used with float64
data still gets a float32 gradient. Integer and boolean tensors are constants: they have no gradient.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np


class AutodiffError(ValueError):
    """A misuse of automatic differentiation (shapes that do not fit an operation, a gradient that does not exist);
    the message is one line naming the operation and the shapes involved."""


# ------------------------------------------------------------------------------------------------ grad mode
class _GradMode(threading.local):
    """Whether operations record the graph, per thread (a web request under no_grad leaves the others alone)."""

    enabled = True


_MODE = _GradMode()


def is_grad_enabled() -> bool:
    """True unless inside :class:`no_grad` (in this thread)."""
    return _MODE.enabled


def set_grad_enabled(enabled: bool) -> bool:
    """Turn graph recording on or off in this thread; returns the previous setting."""
    previous, _MODE.enabled = _MODE.enabled, bool(enabled)
    return previous


class no_grad:  # lower case, like the function it stands for (as in PyTorch)
    """``with no_grad(): ...`` computes values only: no graph is recorded, results need no gradient (inference,
    optimizer updates, evaluation). Nests; applies to the current thread."""

    __slots__ = ("_previous",)

    def __enter__(self) -> no_grad:
        self._previous = set_grad_enabled(False)
        return self

    def __exit__(self, *exc_info: object) -> None:
        set_grad_enabled(self._previous)


# ------------------------------------------------------------------------------------------------ the tensor
Backward = Callable[[np.ndarray, "Tensor"], tuple["np.ndarray | None", ...]]


class Tensor:
    """An ndarray that records the operations applied to it, so that gradients can flow back through them.

    Args:
        data: anything ``np.asarray`` takes (an ndarray is used as is, not copied). float32/float64 are kept,
            Python floats become float64, integers and booleans stay integers and booleans (constants: no
            gradient).
        requires_grad: whether gradients with respect to this tensor are wanted (a variable, a parameter);
            only float tensors can.
        name: a label for printing and for drawing the graph.

    Attributes: ``data`` (the ndarray), ``grad`` (the gradient after ``backward``, else None), ``requires_grad``,
    ``name``, ``op`` ("" for a leaf, else the name of the operation that made it) and ``parents`` (its inputs).
    """

    __slots__ = ("_backward", "_ctx", "data", "grad", "name", "op", "parents", "requires_grad")
    # NumPy defers to Tensor's reflected operators: ndarray + Tensor is a Tensor, not an object array
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False, name: str | None = None) -> None:
        array = np.asarray(data.data if isinstance(data, Tensor) else data)
        if array.dtype.kind not in "fiub":
            raise AutodiffError(f"Tensor data must be numbers, got dtype {array.dtype}")
        if requires_grad and array.dtype.kind != "f":
            raise AutodiffError(f"a {array.dtype} tensor cannot require a gradient: only float32 and float64 "
                                f"tensors have gradients")
        self.data = array
        self.grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        self.name = name
        self.op = ""
        self.parents: tuple[Tensor, ...] = ()
        self._backward: Backward | None = None
        self._ctx: Any = None

    # -------------------------------------------------------------------------------------- array facts
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    def __len__(self) -> int:
        return len(self.data)

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.data.item())

    def __repr__(self) -> str:
        extra = f", op={self.op!r}" if self.op else (", requires_grad=True" if self.requires_grad else "")
        name = f", name={self.name!r}" if self.name else ""
        return f"Tensor({np.array2string(self.data, threshold=20, precision=4)}, dtype={self.dtype}{extra}{name})"

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def numpy(self) -> np.ndarray:
        """The data (the same array, not a copy)."""
        return self.data

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number."""
        return self.data.item()

    def detach(self) -> Tensor:
        """The same data as a constant: gradients do not flow back through it."""
        return _constant(self.data)

    def zero_grad(self) -> None:
        """Forget the gradient (``backward`` accumulates into a leaf's existing ``grad``)."""
        self.grad = None

    # -------------------------------------------------------------------------------------- the reverse pass
    def backward(self, seed: Any = None) -> None:
        """Fill ``grad`` of every tensor of the graph below this one that requires a gradient: intermediates get
        d(self)/d(node) (weighted by ``seed``), leaves add it to the ``grad`` they already have.

        Args:
            seed: dL/d(self), shaped like this tensor; needed unless it has one element (then it is 1).
        """
        if not self.requires_grad:
            raise AutodiffError("backward: this tensor does not depend on any tensor with requires_grad=True "
                                "(or it was computed under no_grad())")
        if seed is None:
            if self.data.size != 1:
                raise AutodiffError(f"backward of a non-scalar tensor of shape {self.shape} needs a seed gradient "
                                    f"of that shape: call backward(seed)")
            seed = np.ones(self.data.shape, dtype=self.data.dtype)
        else:
            seed = np.asarray(seed.data if isinstance(seed, Tensor) else seed, dtype=self.dtype)
            if seed.shape != self.shape:
                raise AutodiffError(f"backward: seed of shape {seed.shape} does not match the tensor's shape "
                                    f"{self.shape}")
        # keyed by the nodes themselves: Tensor keeps object identity for == and hashing
        pending: dict[Tensor, np.ndarray] = {self: seed}
        for current in reversed(_topological(self, only_grad=True)):
            g = pending.pop(current, None)
            if g is None:  # no path from the output reaches it with a gradient (e.g. a where() condition)
                continue
            if current._backward is None:  # a leaf: accumulate (a copy: g may be a view shared with other nodes)
                current.grad = g.copy() if current.grad is None else current.grad + g
                continue
            current.grad = g
            for parent, parent_grad in zip(current.parents, current._backward(g, current), strict=True):
                if parent_grad is None or not parent.requires_grad:
                    continue
                if parent_grad.dtype != parent.data.dtype:
                    parent_grad = parent_grad.astype(parent.data.dtype)
                previous = pending.get(parent)
                pending[parent] = parent_grad if previous is None else previous + parent_grad

    # -------------------------------------------------------------------------------------- operators
    def __add__(self, other: Any) -> Tensor:
        return add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return subtract(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return subtract(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return multiply(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return multiply(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return divide(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return divide(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return power(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return power(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return matmul(other, self)

    def __neg__(self) -> Tensor:
        return negative(self)

    def __getitem__(self, index: Any) -> Tensor:
        return getitem(self, index)

    # comparisons give boolean constants (for where(), masks, accuracy); == and != keep identity semantics
    def __lt__(self, other: Any) -> Tensor:
        return _compare(np.less, self, other)

    def __le__(self, other: Any) -> Tensor:
        return _compare(np.less_equal, self, other)

    def __gt__(self, other: Any) -> Tensor:
        return _compare(np.greater, self, other)

    def __ge__(self, other: Any) -> Tensor:
        return _compare(np.greater_equal, self, other)

    # -------------------------------------------------------------------------------------- methods
    @property
    def T(self) -> Tensor:
        return transpose(self)

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return sum(self, axis, keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return mean(self, axis, keepdims)

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return max(self, axis, keepdims)

    def min(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return min(self, axis, keepdims)

    def argmax(self, axis: int | None = None) -> Tensor:
        """Index of the largest entry (an integer constant: not differentiable)."""
        return _constant(np.asarray(np.argmax(self.data, axis=axis)))

    def reshape(self, *shape: int | tuple[int, ...]) -> Tensor:
        return reshape(self, shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape)

    def transpose(self, *axes: int | tuple[int, ...]) -> Tensor:
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return transpose(self, axes or None)

    def astype(self, dtype: Any) -> Tensor:
        return astype(self, dtype)

    def exp(self) -> Tensor:
        return exp(self)

    def log(self) -> Tensor:
        return log(self)

    def sqrt(self) -> Tensor:
        return sqrt(self)

    def abs(self) -> Tensor:
        return abs(self)

    def square(self) -> Tensor:
        return square(self)


# ------------------------------------------------------------------------------------------------ graph helpers
def _constant(data: np.ndarray) -> Tensor:
    """A leaf that needs no gradient, built without the checks of ``Tensor()`` (data is already an ndarray)."""
    out = Tensor.__new__(Tensor)
    out.data, out.grad, out.requires_grad, out.name = data, None, False, None
    out.op, out.parents, out._backward, out._ctx = "", (), None, None
    return out


def node(data: Any, op: str, parents: tuple[Tensor, ...], backward: Backward, ctx: Any = None) -> Tensor:
    """The result of operation ``op`` on ``parents``: a graph node when any parent requires a gradient (and
    recording is on), else a constant. ``backward(g, out)`` returns one gradient (or None) per parent; it may
    read ``out.data``, ``out.parents`` and ``out._ctx`` (what the forward pass saved) and must not modify ``g``.
    Non-float results (integer, boolean) are always constants."""
    if type(data) is not np.ndarray:  # NumPy returns scalars from 0-d operations
        data = np.asarray(data)
    out = Tensor.__new__(Tensor)
    out.data, out.grad, out.name = data, None, None
    for parent in parents:
        if parent.requires_grad:
            if _MODE.enabled and data.dtype.kind == "f":
                out.requires_grad, out.op, out.parents, out._backward, out._ctx = True, op, parents, backward, ctx
                return out
            break
    out.requires_grad, out.op, out.parents, out._backward, out._ctx = False, "", (), None, None
    return out


def as_tensor(value: Any, like: Tensor | None = None) -> Tensor:
    """``value`` as a Tensor: a Tensor as is; a Python number next to a float tensor ``like`` in that tensor's
    dtype (so that 2 * x keeps x float32); anything else through ``np.asarray`` (a constant)."""
    if isinstance(value, Tensor):
        return value
    if like is not None and isinstance(value, (int, float)) and like.data.dtype.kind == "f":
        return _constant(np.asarray(value, dtype=like.data.dtype))
    array = np.asarray(value)
    if array.dtype.kind not in "fiub":
        raise AutodiffError(f"cannot use {type(value).__name__} of dtype {array.dtype} as a tensor")
    return _constant(array)


def unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum the gradient ``g`` of a broadcast result back to an input's ``shape``: over the leading axes the
    input did not have, and over the axes where it had length 1 (the reverse of NumPy's broadcasting)."""
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra:
        g = np.add.reduce(g, axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = np.add.reduce(g, axis=stretched, keepdims=True)
    return g


def _topological(root: Tensor, *, only_grad: bool) -> list[Tensor]:
    """Every node below ``root`` (itself included), inputs before the operations that use them: an iterative
    depth-first post-order (an explicit stack, so the depth of the graph is not limited by Python's recursion).
    ``only_grad`` keeps to the nodes that require a gradient (the rest get none)."""
    order: list[Tensor] = []
    seen = {root}
    stack: list[tuple[Tensor, Iterator[Tensor]]] = [(root, iter(root.parents))]
    while stack:
        current, pending = stack[-1]
        for parent in pending:
            if parent not in seen and (parent.requires_grad or not only_grad):
                seen.add(parent)
                stack.append((parent, iter(parent.parents)))
                break
        else:
            stack.pop()
            order.append(current)
    return order


def nodes(root: Tensor) -> list[Tensor]:
    """Every tensor of the graph that produced ``root`` (constants included), inputs first, ``root`` last."""
    if not isinstance(root, Tensor):
        raise TypeError(f"nodes() takes a Tensor, got {type(root).__name__}")
    return _topological(root, only_grad=False)


def _shapes_error(op: str, *tensors: Tensor) -> AutodiffError:
    shapes = " and ".join(str(t.shape) for t in tensors)
    return AutodiffError(f"{op}: shapes {shapes} cannot be broadcast together")


def _pair(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    if not isinstance(a, Tensor):
        a = as_tensor(a, b if isinstance(b, Tensor) else None)
    if not isinstance(b, Tensor):
        b = as_tensor(b, a)
    return a, b


def _compare(ufunc: np.ufunc, a: Any, b: Any) -> Tensor:
    a, b = _pair(a, b)
    try:
        return _constant(np.asarray(ufunc(a.data, b.data)))
    except ValueError:
        raise _shapes_error(ufunc.__name__, a, b) from None


# ------------------------------------------------------------------------------------------------ arithmetic
def add(a: Any, b: Any) -> Tensor:
    """a + b, with broadcasting."""
    a, b = _pair(a, b)
    try:
        data = a.data + b.data
    except ValueError:
        raise _shapes_error("add", a, b) from None
    return node(data, "add", (a, b), _add_backward)


def _add_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """d(a + b) = da + db: both get g (summed back to their shapes)."""
    a, b = out.parents
    return (unbroadcast(g, a.data.shape) if a.requires_grad else None,
            unbroadcast(g, b.data.shape) if b.requires_grad else None)


def subtract(a: Any, b: Any) -> Tensor:
    """a - b, with broadcasting."""
    a, b = _pair(a, b)
    try:
        data = a.data - b.data
    except ValueError:
        raise _shapes_error("subtract", a, b) from None
    return node(data, "subtract", (a, b), _subtract_backward)


def _subtract_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """d(a - b) = da - db: a gets g, b gets -g."""
    a, b = out.parents
    return (unbroadcast(g, a.data.shape) if a.requires_grad else None,
            unbroadcast(-g, b.data.shape) if b.requires_grad else None)


def multiply(a: Any, b: Any) -> Tensor:
    """a * b elementwise, with broadcasting."""
    a, b = _pair(a, b)
    try:
        data = a.data * b.data
    except ValueError:
        raise _shapes_error("multiply", a, b) from None
    return node(data, "multiply", (a, b), _multiply_backward)


def _multiply_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """d(a b) = b da + a db: a gets g b, b gets g a."""
    a, b = out.parents
    return (unbroadcast(g * b.data, a.data.shape) if a.requires_grad else None,
            unbroadcast(g * a.data, b.data.shape) if b.requires_grad else None)


def divide(a: Any, b: Any) -> Tensor:
    """a / b elementwise, with broadcasting."""
    a, b = _pair(a, b)
    try:
        data = a.data / b.data
    except ValueError:
        raise _shapes_error("divide", a, b) from None
    return node(data, "divide", (a, b), _divide_backward)


def _divide_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """d(a / b) = da / b - (a / b^2) db: a gets g / b, b gets -g (a / b) / b."""
    a, b = out.parents
    return (unbroadcast(g / b.data, a.data.shape) if a.requires_grad else None,
            unbroadcast(-g * out.data / b.data, b.data.shape) if b.requires_grad else None)


def power(a: Any, b: Any) -> Tensor:
    """a ** b elementwise, with broadcasting (a number exponent keeps a float32 base float32)."""
    a, b = _pair(a, b)
    try:
        data = a.data ** b.data
    except ValueError:
        raise _shapes_error("power", a, b) from None
    return node(data, "power", (a, b), _power_backward)


def _power_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """d(a^b) = b a^(b-1) da + a^b ln(a) db."""
    a, b = out.parents
    return (unbroadcast(g * b.data * a.data ** (b.data - 1), a.data.shape) if a.requires_grad else None,
            unbroadcast(g * out.data * np.log(a.data), b.data.shape) if b.requires_grad else None)


def negative(a: Any) -> Tensor:
    """-a."""
    a = as_tensor(a)
    return node(-a.data, "negative", (a,), _negative_backward)


def _negative_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """d(-a) = -da."""
    return (-g,)


def matmul(a: Any, b: Any) -> Tensor:
    """The matrix product a @ b (NumPy's rules: 1-D operands are vectors, leading axes are batch axes)."""
    a, b = _pair(a, b)
    try:
        data = a.data @ b.data
    except ValueError:
        raise AutodiffError(f"matmul: shapes {a.shape} and {b.shape} do not align (the last axis of the first "
                            f"must match the second-to-last axis of the second)") from None
    return node(data, "matmul", (a, b), _matmul_backward)


def _matmul_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """C = A B: dL/dA = G B^T, dL/dB = A^T G (Ng course 1 week 4: dW = dZ A_prev^T / m is this with the 1/m in
    G). A vector operand is a one-row (A) or one-column (B) matrix; batch axes are summed back by unbroadcast."""
    a, b = out.parents
    x, y = a.data, b.data
    if x.ndim == 2 and y.ndim == 2:  # the common case, without the reshaping below
        return (g @ y.T if a.requires_grad else None, x.T @ g if b.requires_grad else None)
    if x.ndim == 1 and y.ndim == 1:  # the inner product x . y: each vector gets g times the other
        return (g * y if a.requires_grad else None, g * x if b.requires_grad else None)
    x2 = x[None, :] if x.ndim == 1 else x
    y2 = y[:, None] if y.ndim == 1 else y
    g2 = g
    if x.ndim == 1:
        g2 = np.expand_dims(g2, -2)
    if y.ndim == 1:
        g2 = np.expand_dims(g2, -1)
    grad_a = grad_b = None
    if a.requires_grad:
        grad_a = unbroadcast(g2 @ np.swapaxes(y2, -1, -2), x2.shape).reshape(x.shape)
    if b.requires_grad:
        grad_b = unbroadcast(np.swapaxes(x2, -1, -2) @ g2, y2.shape).reshape(y.shape)
    return grad_a, grad_b


# ------------------------------------------------------------------------------------------------ elementwise
def exp(x: Any) -> Tensor:
    """e^x."""
    x = as_tensor(x)
    return node(np.exp(x.data), "exp", (x,), _exp_backward)


def _exp_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """d e^x = e^x dx (the output itself)."""
    return (g * out.data,)


def log(x: Any) -> Tensor:
    """The natural logarithm ln x."""
    x = as_tensor(x)
    return node(np.log(x.data), "log", (x,), _log_backward)


def _log_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """d ln x = dx / x."""
    return (g / out.parents[0].data,)


def sqrt(x: Any) -> Tensor:
    """The square root."""
    x = as_tensor(x)
    return node(np.sqrt(x.data), "sqrt", (x,), _sqrt_backward)


def _sqrt_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """d sqrt(x) = dx / (2 sqrt(x))."""
    return (g / (2 * out.data),)


def square(x: Any) -> Tensor:
    """x^2 elementwise."""
    x = as_tensor(x)
    return node(np.square(x.data), "square", (x,), _square_backward)


def _square_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """d x^2 = 2 x dx."""
    return (g * (2 * out.parents[0].data),)


def abs(x: Any) -> Tensor:  # NumPy's name (ad.abs); shadows the builtin in this module only
    """|x| elementwise."""
    x = as_tensor(x)
    return node(np.abs(x.data), "abs", (x,), _abs_backward)


def _abs_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """d|x| = sign(x) dx (0 at x = 0, the subgradient PyTorch also takes)."""
    return (g * np.sign(out.parents[0].data),)


def astype(x: Any, dtype: Any) -> Tensor:
    """x converted to ``dtype``. Between float types the gradient flows back (cast to x's dtype); a cast to an
    integer or boolean type gives a constant."""
    x = as_tensor(x)
    return node(x.data.astype(dtype, copy=False), "astype", (x,), _astype_backward)


def _astype_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """The identity: the reverse pass casts g back to the input's dtype."""
    return (g,)


# ------------------------------------------------------------------------------------------------ reductions
AxisArg = int | tuple[int, ...] | None


def _axes(axis: AxisArg, ndim: int) -> tuple[int, ...]:
    """``axis`` as non-negative axes (None: all of them); the forward pass has checked that they exist."""
    if axis is None:
        return tuple(range(ndim))
    return tuple(a % ndim for a in ((axis,) if isinstance(axis, (int, np.integer)) else axis))


def _reduce(ufunc: np.ufunc, op: str, x: Tensor, axis: AxisArg, keepdims: bool) -> tuple[np.ndarray, tuple]:
    """``ufunc.reduce`` over ``axis`` (np.sum and friends add microseconds of Python around it), and the input's
    shape with the reduced axes as length 1 (the shape the gradient is reshaped to)."""
    try:
        data = ufunc.reduce(x.data, axis=axis, keepdims=keepdims)
    except (ValueError, TypeError) as exc:
        raise AutodiffError(f"{op}: cannot reduce a tensor of shape {x.shape} over axis {axis!r} ({exc})") from None
    if axis is None:
        return data, (1,) * x.data.ndim
    axes = _axes(axis, x.data.ndim)
    return data, tuple(1 if i in axes else n for i, n in enumerate(x.data.shape))


def _spread(g: np.ndarray, x: np.ndarray, kept: tuple[int, ...]) -> np.ndarray:
    """The gradient of a reduction, ``g`` (reshaped to the kept shape), copied to every entry of the input."""
    grad = np.empty(x.shape, dtype=g.dtype)
    grad[...] = g.reshape(kept)
    return grad


def sum(x: Any, axis: AxisArg = None, keepdims: bool = False) -> Tensor:
    """The sum over ``axis`` (all axes when None)."""
    x = as_tensor(x)
    data, kept = _reduce(np.add, "sum", x, axis, keepdims)
    return node(data, "sum", (x,), _sum_backward, kept)


def _sum_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """d(sum_i x_i) = sum_i dx_i: every summed entry gets g."""
    return (_spread(g, out.parents[0].data, out._ctx),)


def mean(x: Any, axis: AxisArg = None, keepdims: bool = False) -> Tensor:
    """The mean over ``axis`` (all axes when None)."""
    x = as_tensor(x)
    data, kept = _reduce(np.add, "mean", x, axis, keepdims)
    count = x.data.size // math.prod(kept) if x.data.size else 1
    return node(data / count, "mean", (x,), _mean_backward, (kept, count))


def _mean_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """d(mean of n entries) = (sum_i dx_i) / n: every entry gets g / n."""
    kept, count = out._ctx
    return (_spread(g / count, out.parents[0].data, kept),)


def max(x: Any, axis: AxisArg = None, keepdims: bool = False) -> Tensor:
    """The largest entry over ``axis`` (all axes when None)."""
    x = as_tensor(x)
    data, kept = _reduce(np.maximum, "max", x, axis, keepdims)
    return node(data, "max", (x,), _extreme_backward, kept)


def min(x: Any, axis: AxisArg = None, keepdims: bool = False) -> Tensor:
    """The smallest entry over ``axis`` (all axes when None)."""
    x = as_tensor(x)
    data, kept = _reduce(np.minimum, "min", x, axis, keepdims)
    return node(data, "min", (x,), _extreme_backward, kept)


def _extreme_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """d max_i x_i = dx_k for the k that attains it; tied entries share g equally (as PyTorch's amax)."""
    x = out.parents[0].data
    kept = out._ctx
    hits = x == out.data.reshape(kept)
    ties = np.add.reduce(hits, axis=tuple(i for i, n in enumerate(kept) if n == 1), keepdims=True, dtype=g.dtype)
    return (hits * (g.reshape(kept) / ties),)


# ------------------------------------------------------------------------------------------------ shape
def reshape(x: Any, shape: int | tuple[int, ...]) -> Tensor:
    """x with a new shape holding the same entries (one axis may be -1)."""
    x = as_tensor(x)
    try:
        data = x.data.reshape(shape)
    except (ValueError, TypeError):
        raise AutodiffError(f"reshape: cannot reshape a tensor of shape {x.shape} into {shape}") from None
    return node(data, "reshape", (x,), _reshape_backward)


def _reshape_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """The entries do not move: g reshaped back."""
    return (g.reshape(out.parents[0].data.shape),)


def transpose(x: Any, axes: tuple[int, ...] | None = None) -> Tensor:
    """x with its axes permuted (reversed when ``axes`` is None, the matrix transpose for 2-D)."""
    x = as_tensor(x)
    try:
        data = x.data.transpose(axes)
    except (ValueError, TypeError):
        raise AutodiffError(f"transpose: axes {axes} do not fit a tensor of shape {x.shape}") from None
    return node(data, "transpose", (x,), _transpose_backward, axes)


def _transpose_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """The inverse permutation applied to g."""
    axes = out._ctx
    return (g.transpose(None if axes is None else np.argsort(axes)),)


def _plain_index(index: Any) -> Any:
    """An index with Tensors replaced by their data (integer or boolean arrays)."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


def _is_basic(index: Any) -> bool:
    """Whether ``index`` is basic indexing (integers, slices, None, ...): then no entry is picked twice."""
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice)) for i in items)


def getitem(x: Any, index: Any) -> Tensor:
    """x[index]: basic indexing (integers, slices, None, ...) and integer-array or boolean indexing."""
    x = as_tensor(x)
    index = _plain_index(index)
    return node(x.data[index], "getitem", (x,), _getitem_backward, index)


def _getitem_backward(g: np.ndarray, out: Tensor) -> tuple[np.ndarray | None, ...]:
    """Each picked entry gets its g, the others 0; an entry picked several times (integer arrays with repeats)
    gets the sum of its g's (``np.add.at``, which does not lose repeated indices as ``+=`` would)."""
    x = out.parents[0]
    index = out._ctx
    grad = np.zeros_like(x.data)
    if _is_basic(index):
        grad[index] = g
    else:
        np.add.at(grad, index, g)
    return (grad,)
