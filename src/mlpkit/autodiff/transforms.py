"""``grad`` and ``value_and_grad``: the gradient of a Python function of arrays, as a function of arrays.

``grad(f)(x)`` wraps ``x`` in a Tensor that requires a gradient, calls ``f`` (which computes with tensor
operations and returns a scalar tensor), runs the reverse pass and returns dL/dx as an ndarray shaped like ``x``.
``argnums`` picks the arguments to differentiate (an int, or a tuple for several: then a tuple of gradients);
the other arguments are passed through unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from .tensor import AutodiffError, Tensor, set_grad_enabled

Argnums = int | tuple[int, ...]


def _check_argnums(argnums: Argnums) -> tuple[int, ...]:
    numbers = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not numbers or any(isinstance(i, bool) or not isinstance(i, int) or i < 0 for i in numbers):
        raise AutodiffError(f"argnums must be an int >= 0 or a non-empty tuple of them, got {argnums!r}")
    if len(set(numbers)) != len(numbers):
        raise AutodiffError(f"argnums must not repeat an argument, got {argnums!r}")
    return numbers


def _variable(value: Any, position: int) -> Tensor:
    """A fresh leaf that requires a gradient, holding the value of positional argument ``position``: float
    numbers, all finite (the gradient at a NaN or infinite point is NaN, or meaningless)."""
    try:
        data = np.asarray(value.data if isinstance(value, Tensor) else value)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise AutodiffError(f"grad: argument {position} is not an array of numbers: {' '.join(str(exc).split())}") \
            from exc
    if data.dtype.kind != "f":
        raise AutodiffError(f"grad: argument {position} has dtype {data.dtype}; only float32 and float64 "
                            f"arguments have gradients (write 3.0, not 3)")
    if not np.isfinite(data).all():
        bad = int(np.count_nonzero(~np.isfinite(data)))
        raise AutodiffError(f"grad: argument {position} has {bad} NaN or infinite value(s); a gradient is taken at "
                            f"a finite point")
    return Tensor(data, requires_grad=True)


def value_and_grad(f: Callable[..., Tensor], argnums: Argnums = 0) -> Callable[..., tuple[float, Any]]:
    """A function that returns (f(*args) as a float, the gradient of f with respect to the ``argnums`` arguments:
    an ndarray, or a tuple of them when ``argnums`` is a tuple). ``f`` must return a one-element Tensor.
    The graph is recorded even inside :class:`no_grad`."""
    if not callable(f):
        raise TypeError(f"grad: f must be a function of arrays that returns a one-element Tensor, got {f!r}")
    numbers = _check_argnums(argnums)

    @functools.wraps(f)
    def evaluate(*args: Any, **kwargs: Any) -> tuple[float, Any]:
        if max(numbers) >= len(args):
            raise AutodiffError(f"grad: argnums {argnums!r} asks for argument {max(numbers)} but f got "
                                f"{len(args)} positional arguments")
        args_list = list(args)
        variables = []
        for i in numbers:
            args_list[i] = _variable(args_list[i], i)
            variables.append(args_list[i])
        previous = set_grad_enabled(True)
        try:
            out = f(*args_list, **kwargs)
        finally:
            set_grad_enabled(previous)
        if not isinstance(out, Tensor) or out.size != 1:
            what = f"a tensor of shape {out.shape}" if isinstance(out, Tensor) else type(out).__name__
            raise AutodiffError(f"grad: f must return a one-element Tensor (the cost), got {what}")
        if out.requires_grad:
            out.backward()
        grads = tuple(v.grad if v.grad is not None else np.zeros_like(v.data) for v in variables)
        return out.item(), grads[0] if isinstance(argnums, int) else grads

    return evaluate


def grad(f: Callable[..., Tensor], argnums: Argnums = 0) -> Callable[..., Any]:
    """A function that returns the gradient of the scalar ``f`` with respect to its ``argnums`` arguments
    (ndarrays shaped like them; a tuple when ``argnums`` is a tuple). Example: ``grad(lambda w: w ** 2)(3.0)``
    is ``6.0``."""
    with_value = value_and_grad(f, argnums)

    @functools.wraps(f)
    def gradient(*args: Any, **kwargs: Any) -> Any:
        return with_value(*args, **kwargs)[1]

    return gradient
