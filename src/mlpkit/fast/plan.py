"""The training step of a stack of Dense layers, with its bookkeeping done once instead of per step.

``Network.train_batch`` (the reference path) walks the layers, and each layer looks up its buffers,
parameters and options on every call. On a small batch that bookkeeping is a sixth of the step. A
:class:`DenseStackPlan` resolves all of it once per run and batch shape (the buffers, the parameter views,
the activation functions, the penalties) and keeps only the NumPy and BLAS calls. It runs exactly the
operations of the reference step, in the same order, so the two give bit-identical results (tested).

It serves networks whose layers with parameters are all :class:`~mlpkit.layers.Dense` (network2's and the
course's networks), the last layer being one, with any layers without parameters before and between them
(``Standardize``, ``Dropout``, ``Activation``...), which run their own ``forward`` and ``backward``.
Anything else (``BatchNorm``, custom layers with parameters) trains through the reference step.

The step (Nielsen ch.2 BP1-BP4; Ng week 1 forward and backward propagation), for Dense layers l = 1..L
with inputs x^l: z^l = x^l W^l + b^l, a^l = g(z^l); delta^L from the cost; then from l = L down,
dz^l = dL/da^l * g'(z^l) (l < L), dL/dx^l = dz^l W^l^T and, either

- fused (plain SGD): W^l <- beta W^l - eta x^l^T dz^l as one GEMM, b^l <- b^l - eta 1^T dz^l as one GEMV
  (:mod:`mlpkit._blas`), where the penalty sets beta (1 - eta lmbda / n for L2: Nielsen eq. (93)) or takes
  its own part of the step first (``Regularizer.sgd_decay``). No gradient is written out and read back;
  dL/dx^l is computed before, from the weights of this step. Equal to the unfused step up to rounding.
- not fused: dW^l = x^l^T dz^l, db^l = 1^T dz^l, the penalty gradients added, then ``optimizer.step``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .._blas import add_column_sums, add_outer_product, ones
from ..layers import Dense, Layer
from ..regularizers import Regularizer

if TYPE_CHECKING:
    from ..network import Network
    from ..optimizers import Optimizer


class _DenseStep(NamedTuple):
    """Everything one Dense layer's part of a step touches, for one batch shape."""

    W: np.ndarray
    W_T: np.ndarray           # W^T, for dL/dx = dz W^T
    b: np.ndarray | None
    z: np.ndarray
    a: np.ndarray
    forward: object           # the activation's forward(z, out)
    backward: object          # the activation's backward(grad_a, a, out, scratch)
    slope: np.ndarray
    dx: np.ndarray | None     # dL/dx buffer (None for the first Dense layer)
    grad_W: np.ndarray
    grad_b: np.ndarray | None
    penalty: Regularizer | None
    scratch: np.ndarray | None  # W-shaped work array for the penalty's part of a fused step
    after: tuple[Layer, ...]  # the layers without parameters between this Dense layer and the next


class DenseStackPlan:
    """The step of ``network`` (see :meth:`applies_to`) with ``optimizer``: ``step(X, Y, n_train, W=None)``.

    Built once per ``fit``: the network's layers and penalties are those of the run (a penalty's strength
    may change between epochs, its object may not).

    Args:
        network: the network; see :meth:`applies_to`.
        optimizer: the optimizer of the run.
        fused: apply the step inside the backward products when ``optimizer`` is plain SGD (``fit`` asks for
            it when the BLAS threads allow, see :mod:`mlpkit.fast.threads`).
    """

    def __init__(self, network: Network, optimizer: Optimizer, fused: bool) -> None:
        if not self.applies_to(network):
            raise ValueError("a DenseStackPlan needs a network whose layers with parameters are all Dense, "
                             "ending with one")
        self.network = network
        self.optimizer = optimizer
        self.fused = bool(fused) and optimizer.plain_sgd
        first = network.layout.first_trainable
        self._inputs = network.layers[:first]
        self._groups: list[tuple[Dense, tuple[Layer, ...]]] = []
        for layer in network.layers[first:]:
            if type(layer) is Dense:
                self._groups.append((layer, ()))
            else:
                dense, after = self._groups[-1]
                self._groups[-1] = (dense, (*after, layer))
        self._penalties = [network.penalty_of(dense) for dense, _ in self._groups]
        self._ranges = [(reg, network.flat_parameters[start:stop], network.flat_gradients[start:stop])
                        for reg, start, stop in network.penalty_ranges()]
        sizes = [dense.params["W"].size for (dense, _), p in zip(self._groups, self._penalties, strict=True) if p]
        self._scratch = np.empty(max(sizes), network.dtype) if self.fused and sizes else None
        self._shapes: dict[int, list[_DenseStep]] = {}

    @staticmethod
    def applies_to(network: Network) -> bool:
        """True when every layer with parameters after the first one is exactly Dense (a subclass may change
        the maths) and the last layer is a Dense layer."""
        layers = network.layers[network.layout.first_trainable:]
        return bool(layers) and type(layers[-1]) is Dense and all(
            type(layer) is Dense or not layer.params for layer in layers)

    def _steps_for(self, rows: int) -> list[_DenseStep]:
        steps = self._shapes.get(rows)
        if steps is not None:
            return steps
        if len(self._shapes) >= 4:  # the batch size and the last partial batch; never grow without bound
            self._shapes.clear()
        dtype = self.network.dtype
        steps = []
        for i, ((layer, after), penalty) in enumerate(zip(self._groups, self._penalties, strict=True)):
            shape = (rows, layer.units)
            z = layer._buffer("z", shape, dtype)
            W = layer.params["W"]
            scratch = None
            if self._scratch is not None and penalty is not None:
                scratch = self._scratch[:W.size].reshape(W.shape)
            steps.append(_DenseStep(
                W=W, W_T=W.T, b=layer.params.get("b"), z=z,
                a=layer._buffer("a", shape, dtype) if layer.keep_preactivation else z,
                forward=layer.activation.forward, backward=layer.activation.backward,
                slope=layer._buffer("slope", shape, dtype),
                dx=layer._buffer("dx", (rows, layer.n_in), dtype) if i > 0 else None,
                grad_W=layer.grads["W"], grad_b=layer.grads.get("b"), penalty=penalty, scratch=scratch,
                after=after))
        self._shapes[rows] = steps
        return steps

    def step(self, X: np.ndarray, Y: np.ndarray, n_train: float, W: np.ndarray | None = None) -> None:
        """One mini-batch step (trusted, C-contiguous X and Y of the network's dtype; overflow ignored by the
        caller, as in ``fit``); ``n_train`` is the regularizers' n; ``W``: row weights (m,) or None (the
        output error of the weighted mean cost, :meth:`mlpkit.losses.Loss.delta`)."""
        steps = self._steps_for(X.shape[0])
        for layer in self._inputs:
            X = layer.forward(X, True)
        inputs = []
        x = X
        for s in steps:
            inputs.append(x)
            np.dot(x, s.W, out=s.z)
            if s.b is not None:
                np.add(s.z, s.b, out=s.z)
            s.forward(s.z, s.a)
            x = s.a
            for layer in s.after:
                x = layer.forward(x, True)
        delta = self.network.layers[-1]._buffer("delta", x.shape, x.dtype)
        if W is None:
            self.network.loss.delta(None, x, Y, out=delta)
        else:
            self.network.loss.delta(None, x, Y, out=delta, weights=W)
        rate = self.optimizer.take_fused_step() if self.fused else None
        self._backward(steps, inputs, delta, rate, n_train)
        if rate is None:
            for reg, weights, grads in self._ranges:
                reg.add_gradient(weights, grads, n_train)
            self.optimizer.step(self.network.flat_parameters, self.network.flat_gradients)

    @staticmethod
    def _backward(steps: list[_DenseStep], inputs: list[np.ndarray], delta: np.ndarray, rate: float | None,
                  n_train: float) -> None:
        """Backpropagate ``delta``; with ``rate``, take the fused SGD step instead of writing the gradients."""
        grad = delta
        last = len(steps) - 1
        for i in range(last, -1, -1):
            s = steps[i]
            if i < last:
                for layer in reversed(s.after):
                    grad = layer.backward(grad)
                s.backward(grad, s.a, grad, s.slope)
            if i:
                np.dot(grad, s.W_T, out=s.dx)
            x = inputs[i]
            if rate is None:
                np.matmul(x.T, grad, out=s.grad_W)
                if s.grad_b is not None:
                    np.dot(ones(grad.shape[0], grad.dtype), grad, out=s.grad_b)
            else:
                decay = 1.0 if s.penalty is None else s.penalty.sgd_decay(s.W, rate, n_train, s.scratch)
                add_outer_product(s.W, x, grad, -rate, decay)
                if s.b is not None:
                    add_column_sums(s.b, grad, -rate)
            if i:
                grad = s.dx
