"""The training step of a plain stack of Dense layers, with its bookkeeping done once instead of per step.

``Network._train_step`` walks the layers, and each layer looks up its buffers, parameters and options on
every call. On a small batch that bookkeeping is a sixth of the step (a [784, 30, 10] step at batch 10:
about 120 us against 98 us for the same NumPy and BLAS calls written out flat). A :class:`DenseStackPlan`
resolves all of it once per batch shape (the buffers, the parameter views, the activation functions, the
penalties) and keeps only the calls. It runs exactly the
operations of the layer-by-layer step, in the same order, so the two give bit-identical results.

It serves networks made of :class:`~mlpkit.layers.Dense` layers (network2's and the course's networks),
optionally after input layers without parameters (``Standardize``, input ``Dropout``), which run as usual;
anything else takes the general step. ``fit`` builds a plan for each epoch, so a callback that
changes the penalties between epochs is honoured.

The step itself (Nielsen ch.2 BP1-BP4; Ng week 1 forward and backward propagation), for layers l = 1..L
with a^0 = x:  z^l = a^{l-1} W^l + b^l, a^l = g(z^l); delta^L from the cost; then from l = L down,
dz^l = delta^l * g'(z^l) (l < L), dL/da^{l-1} = dz^l W^l^T and, either

- fused (plain SGD, see ``Dense.backward_sgd``): W^l <- decay W^l - eta a^{l-1}^T dz^l, b^l <- b^l - eta 1^T dz^l
  with decay = 1 - eta lmbda / n for L2 (Nielsen eq. (93)), or
- not fused: dW^l = a^{l-1}^T dz^l, db^l = 1^T dz^l, the penalty gradients added, then ``optimizer.step``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ._blas import add_column_sums, add_outer_product, ones
from .layers import Dense
from .regularizers import L2, Regularizer

if TYPE_CHECKING:
    from .network import Network
    from .optimizers import Optimizer


class _LayerSteps(NamedTuple):
    """Everything one Dense layer's part of a step touches, for one batch shape."""

    W: np.ndarray
    W_T: np.ndarray           # W^T, for dL/dx = dz W^T
    b: np.ndarray | None
    z: np.ndarray
    a: np.ndarray
    forward: object           # the activation's forward(z, out)
    backward: object          # the activation's backward(grad_a, a, out, scratch)
    slope: np.ndarray
    dx: np.ndarray | None     # dL/dx buffer (None for the first layer)
    grad_W: np.ndarray
    grad_b: np.ndarray | None
    regularizer: Regularizer | None


class DenseStackPlan:
    """The step of ``network`` (see :meth:`applies_to`), built for one epoch: ``step(X, Y, optimizer, n_train)``.

    Args:
        network: the network; see :meth:`applies_to`.
        fused: apply plain SGD inside the backward products when the optimizer and penalties allow it
            (``fit`` asks for it when the BLAS runs on one thread, see ``mlpkit.threads``).
    """

    def __init__(self, network: Network, fused: bool) -> None:
        if not self.applies_to(network):
            raise ValueError("a DenseStackPlan needs a network of Dense layers (after input layers without "
                             "parameters)")
        self.network = network
        first = network._first_trainable
        self._inputs = network.layers[:first]
        self._dense = network.layers[first:]
        self.fused = fused
        self._shapes: dict[int, list[_LayerSteps]] = {}
        self._ranges = [(reg, network.flat_parameters[start:stop], network.flat_gradients[start:stop])
                        for reg, start, stop in network._regularized_ranges()]
        regularizers = [layer.regularizer if layer.regularizer is not None else network.regularizer
                        for layer in self._dense]
        self._regularizers = regularizers
        self._l2_only = all(reg is None or type(reg) is L2 for reg in regularizers)

    @staticmethod
    def applies_to(network: Network) -> bool:
        """True for a network of Dense layers (exactly Dense: a subclass may change the maths), optionally
        after input layers without parameters."""
        trainable = network.layers[network._first_trainable:]
        return bool(trainable) and all(type(layer) is Dense for layer in trainable)

    def _layers_for(self, rows: int) -> list[_LayerSteps]:
        steps = self._shapes.get(rows)
        if steps is not None:
            return steps
        if len(self._shapes) >= 4:  # the batch size and the last partial batch; never grow without bound
            self._shapes.clear()
        dtype = self.network.dtype
        steps = []
        for i, (layer, reg) in enumerate(zip(self._dense, self._regularizers, strict=True)):
            shape = (rows, layer.units)
            z = layer._buffer("z", shape, dtype)
            a = layer._buffer("a", shape, dtype) if layer.keep_preactivation else z
            dx = layer._buffer("dx", (rows, layer.n_in), dtype) if i > 0 else None
            W = layer.params["W"]
            steps.append(_LayerSteps(
                W=W, W_T=W.T, b=layer.params.get("b"), z=z, a=a,
                forward=layer.activation.forward, backward=layer.activation.backward,
                slope=layer._buffer("slope", shape, dtype), dx=dx,
                grad_W=layer.grads["W"], grad_b=layer.grads.get("b"), regularizer=reg))
        self._shapes[rows] = steps
        return steps

    def step(self, X: np.ndarray, Y: np.ndarray, optimizer: Optimizer, n_train: int) -> None:
        """One mini-batch step (trusted, C-contiguous X and Y of the network's dtype; overflow ignored by the
        caller, as in ``fit``)."""
        rows = X.shape[0]
        layers = self._layers_for(rows)
        for layer in self._inputs:
            X = layer.forward(X, True)
        x = X
        for s in layers:
            np.dot(x, s.W, out=s.z)
            if s.b is not None:
                np.add(s.z, s.b, out=s.z)
            s.forward(s.z, s.a)
            x = s.a
        delta = self.network.layers[-1]._buffer("delta", x.shape, x.dtype)
        self.network.loss.delta(None, x, Y, out=delta)
        rate = optimizer.plain_step_rate() if self.fused and self._l2_only else None
        self._backward(layers, X, delta, rate, n_train)
        if rate is None:
            for reg, weights, grads in self._ranges:
                reg.add_gradient(weights, grads, n_train)
            optimizer.step(self.network.flat_parameters, self.network.flat_gradients)
        else:
            optimizer.iterations += 1

    def _backward(self, layers: list[_LayerSteps], X: np.ndarray, delta: np.ndarray, rate: float | None,
                  n_train: int) -> None:
        """Backpropagate ``delta``; with ``rate``, take the fused SGD step instead of writing the gradients.
        dL/dx is computed first, from the weights of this step."""
        grad = delta
        last = len(layers) - 1
        for i in range(last, -1, -1):
            s = layers[i]
            if i < last:
                s.backward(grad, s.a, grad, s.slope)
            if i:
                np.dot(grad, s.W_T, out=s.dx)
            x = layers[i - 1].a if i else X
            if rate is None:
                np.matmul(x.T, grad, out=s.grad_W)
                if s.grad_b is not None:
                    np.dot(ones(grad.shape[0], grad.dtype), grad, out=s.grad_b)
            else:
                decay = 1.0 if s.regularizer is None else s.regularizer.decay_factor(rate, n_train)
                add_outer_product(s.W, x, grad, -rate, decay)
                if s.b is not None:
                    add_column_sums(s.b, grad, -rate)
            if i:
                grad = s.dx
