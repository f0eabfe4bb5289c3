"""Layers and costs written as a forward pass alone: :mod:`mlpkit.autodiff` supplies the backward pass.

A :class:`ForwardLayer` subclass declares its parameters in ``setup`` and computes its output in
``forward_graph(x, training)`` with autodiff Tensors; a :class:`ForwardLoss` subclass computes the mean
cost of a batch in ``forward_graph(output, y)``. Either plugs into the hand-written contracts of
:mod:`mlpkit.layers` and :mod:`mlpkit.losses`, so it trains in ``Network.fit``, passes ``gradcheck``, and
(once registered with ``@register_layer`` / ``@register_loss``) saves and loads: the model file names the
class by its registry key and the loader looks it up among the registered classes only.

The backward pass is reverse-mode differentiation of the graph the forward pass recorded (Nielsen ch.2
"the backpropagation algorithm" is its special case for a stack of Dense layers): the graph is built by
the training-mode forward pass and walked backwards once, seeded with the error dL/dy that the layer
above hands down, which gives dL/dW for every parameter and dL/dx for the layer below.

Three registered examples show the pattern, each a few lines of maths:

- :class:`Huber`: the Huber cost, quadratic near the target and linear beyond ``delta``;
- :class:`FocalLoss`: Lin et al.'s focal loss over sigmoid or softmax outputs;
- :class:`Maxout`: Goodfellow et al.'s maxout units.

See ``docs/autodiff.md`` for how to write your own.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .. import autodiff as ad
from ..activations import ActivationFunction, Identity, Sigmoid, Softmax
from ..initializers import get_initializer
from ..layers import Layer, register_layer
from ..losses import Loss, register_loss
from ..validation import check_positive_float, check_positive_int


class ForwardLayer(Layer):
    """A layer defined by its forward pass; autodiff derives ``backward``.

    A subclass sets ``type_name`` (the key it is registered and saved under), and writes

    - ``setup(n_in, rng) -> n_out``: declare the parameters with :meth:`add_parameter` (in float64 or any
      float dtype: they are cast to the network's) and return the output width. The default declares none
      and keeps the width.
    - ``forward_graph(x, training) -> Tensor``: the output for a batch ``x`` (a Tensor of shape
      (m, n_in)), built from autodiff operations on ``x`` and on :meth:`param` (the parameters as Tensors).
      It must return a Tensor of shape (m, n_out) in ``x``'s dtype.
    - ``get_config()``: ``super().get_config()`` plus the constructor's arguments (JSON values).

    The layer has no activation of its own (its ``activation_fn`` is the identity): put the
    non-linearity in ``forward_graph``, or an ``Activation`` layer after it.

    Backward: the training-mode forward pass records the graph; ``backward(dL/dy)`` seeds it with the error
    from above and reads dL/dW off every parameter Tensor (into ``grads``) and dL/dx off the input. The input
    Tensor asks for its gradient only when the network used it on the previous step (the first layer with
    parameters never needs dL/dx), which saves the largest product of the first layer.
    """

    #: the input Tensor needs a gradient (kept from the last backward call; True until then)
    _input_grad: bool = True
    _tensors: dict[str, ad.Tensor] | None = None
    _input: ad.Tensor | None = None
    _output: ad.Tensor | None = None
    #: the network's dtype, for the parameters that ``setup`` declares (set by ``build``)
    _dtype: np.dtype = np.dtype(np.float64)

    def __init__(self) -> None:
        super().__init__()
        self.decayed: tuple[str, ...] = ()  # type: ignore[misc]  # per instance: set by add_parameter

    # -- construction -------------------------------------------------------------------------------
    def setup(self, n_in: int, rng: np.random.Generator) -> int:
        """Declare the parameters (:meth:`add_parameter`) and return the output width; default: none, n_in."""
        return n_in

    def add_parameter(self, name: str, value: np.ndarray, *, decayed: bool | None = None) -> None:
        """Declare a trainable parameter ``name`` with initial ``value`` (during ``setup``). ``decayed``: whether
        weight decay / the regularizer applies to it; by default a matrix (weights) is decayed and a vector
        (biases) is not (Nielsen ch.3: "we don't usually include the biases")."""
        cls = type(self).__name__
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"{cls}: a parameter name must be an identifier, got {name!r}")
        if name in self.params:
            raise ValueError(f"{cls} declares the parameter {name!r} twice")
        value = np.array(value, dtype=self._dtype)
        if value.size == 0:
            raise ValueError(f"{cls}: parameter {name!r} is empty (shape {value.shape})")
        self.params[name] = value
        self.grads[name] = np.zeros_like(value)
        if decayed is None:
            decayed = value.ndim >= 2
        if decayed:
            self.decayed = (*self.decayed, name)

    def build(self, n_in: int, rng: np.random.Generator, dtype: np.dtype) -> int:
        cls = type(self).__name__
        if type(self).forward_graph is ForwardLayer.forward_graph:
            raise TypeError(f"{cls} defines no forward_graph(x, training): a ForwardLayer computes its output there")
        self.params, self.grads, self.decayed = {}, {}, ()
        self._dtype = np.dtype(dtype)
        n_out = self.setup(n_in, rng)
        if isinstance(n_out, bool) or not isinstance(n_out, (int, np.integer)) or n_out <= 0:
            raise ValueError(f"{cls}.setup must return the output width (a positive int), got {n_out!r}")
        self.n_in, self.n_out = n_in, int(n_out)
        return self.n_out

    def get_config(self) -> dict:
        return {"type": self.type_name}

    @property
    def activation_fn(self) -> ActivationFunction:
        return Identity()

    # -- the graph ----------------------------------------------------------------------------------
    def param(self, name: str) -> ad.Tensor:
        """Parameter ``name`` as a Tensor of the graph being built (only inside ``forward_graph``)."""
        tensors = self._tensors
        if tensors is None:
            raise RuntimeError(f"{type(self).__name__}.param({name!r}) is only available inside forward_graph")
        if name not in tensors:
            raise KeyError(f"{type(self).__name__} has no parameter {name!r}; it declares "
                           f"{', '.join(tensors) or 'none'}")
        return tensors[name]

    def forward_graph(self, x: ad.Tensor, training: bool) -> ad.Tensor:
        """The layer's output for the batch ``x``, as autodiff operations (see the class docstring)."""
        raise NotImplementedError

    def _run(self, x: np.ndarray, training: bool, input_grad: bool) -> ad.Tensor:
        """Build the graph of one forward pass (recording it only in training) and check its output."""
        self._tensors = {name: ad.Tensor(value, requires_grad=training) for name, value in self.params.items()}
        x_tensor = ad.Tensor(x, requires_grad=training and input_grad)
        try:
            if training:
                out = self.forward_graph(x_tensor, training)
            else:
                with ad.no_grad():
                    out = self.forward_graph(x_tensor, training)
        finally:
            if not training:
                self._tensors = None
        cls = type(self).__name__
        if not isinstance(out, ad.Tensor):
            raise TypeError(f"{cls}.forward_graph must return an autodiff Tensor, got {type(out).__name__}")
        if out.shape != (x.shape[0], self.n_out):
            raise ValueError(f"{cls}.forward_graph returned shape {out.shape}; expected (batch, n_out) = "
                             f"({x.shape[0]}, {self.n_out})")
        if out.dtype != x.dtype:
            raise ValueError(f"{cls}.forward_graph returned {out.dtype} outputs for {x.dtype} inputs; build its "
                             "constants in the input's dtype")
        self._input = x_tensor
        return out

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        out = self._run(x, training, self._input_grad)
        self._output = out if training else None
        self.preactivation = out.data  # the identity activation: z = a (the cost's logits if this is the last layer)
        return out.data

    def backward(self, grad: np.ndarray, *, preactivation: bool = False,
                 need_input_grad: bool = True) -> np.ndarray | None:
        out = self._output
        if out is None:
            raise RuntimeError(f"{type(self).__name__}.backward needs a training-mode forward pass first")
        if need_input_grad and not self._input.requires_grad:
            # the previous step did not need dL/dx and this one does (the layer was moved in a stack): record the
            # pass again, with the input's gradient (a forward_graph that draws random numbers draws them afresh)
            out = self._run(self._input.data, True, True)
        self._input_grad = need_input_grad
        out.backward(grad)
        for name, tensor in self._tensors.items():
            if tensor.grad is None:  # the output does not depend on this parameter
                self.grads[name].fill(0)
            else:
                np.copyto(self.grads[name], tensor.grad)
        dx = self._input.grad if need_input_grad else None
        if need_input_grad and dx is None:
            dx = np.zeros_like(self._input.data)
        self._output = self._input = self._tensors = None  # free the graph
        return dx


class ForwardLoss(Loss):
    """A cost defined by its value alone; autodiff derives its output error.

    A subclass sets ``name`` (the key it is registered and saved under) and writes
    ``forward_graph(output, y) -> Tensor``: the *mean* cost over the rows of the batch, a scalar, from the
    network's output ``output`` (a Tensor of shape (m, n_out), after the output activation ``self.activation``)
    and the targets ``y`` (a Tensor, one-hot or target rows). Add ``get_config()`` (``super().get_config()`` plus
    the constructor's arguments) when it has any, and ``check_output(activation)`` when it needs a particular
    output activation.

    ``delta`` gives dL/dz of the output layer, whatever its activation g: autodiff gives dL/da of the mean cost,
    then g's own backward pass gives dL/da * g'(z) (Nielsen eq. (BP1), written for a batch). No cancellation
    such as the cross-entropy's a - y is assumed, so it is exact with any output activation.
    ``per_example`` spreads the batch mean evenly over the rows (a scalar cost has no per-row split); sums
    and means over batches, which is what the network reports, are exact.
    """

    def forward_graph(self, output: ad.Tensor, y: ad.Tensor) -> ad.Tensor:
        """The mean cost of the batch as a scalar Tensor (see the class docstring)."""
        raise NotImplementedError

    def _cost(self, a: np.ndarray, y: np.ndarray, record: bool) -> tuple[ad.Tensor, ad.Tensor]:
        cls = type(self).__name__
        if type(self).forward_graph is ForwardLoss.forward_graph:
            raise TypeError(f"{cls} defines no forward_graph(output, y): a ForwardLoss computes its cost there")
        output = ad.Tensor(a, requires_grad=record)
        if record:
            cost = self.forward_graph(output, ad.Tensor(y))
        else:
            with ad.no_grad():
                cost = self.forward_graph(output, ad.Tensor(y))
        if not isinstance(cost, ad.Tensor):
            raise TypeError(f"{cls}.forward_graph must return an autodiff Tensor, got {type(cost).__name__}")
        if cost.shape != ():
            raise ValueError(f"{cls}.forward_graph must return the mean cost as a scalar, got shape {cost.shape}")
        return cost, output

    def value(self, z: np.ndarray | None, a: np.ndarray, y: np.ndarray) -> float:
        return float(self._cost(a, y, record=False)[0].item())

    def per_example(self, z: np.ndarray | None, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.full(a.shape[0], self.value(z, a, y))

    def delta(self, z: np.ndarray | None, a: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
        cost, output = self._cost(a, y, record=True)
        cost.backward()
        grad_a = output.grad if output.grad is not None else np.zeros_like(a)
        activation = self.activation if self.activation is not None else Identity()
        return activation.backward(np.asarray(grad_a, dtype=a.dtype), a, out)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


# ------------------------------------------------------------------------------------------- examples
@register_loss
class Huber(ForwardLoss):
    """Huber cost (Huber 1964), per output unit with residual r = a - y:

        h(r) = r^2 / 2                      if |r| <= delta
        h(r) = delta (|r| - delta / 2)      otherwise          (delta = ``threshold``)

    summed over the units and averaged over the batch. It is the quadratic cost (Nielsen eq. (6)) near the
    target and grows linearly beyond ``delta``, so an outlier pulls on the weights with a force of at most
    delta instead of one proportional to its error. Written as q^2 / 2 + delta (|r| - q) with
    q = min(|r|, delta), one expression for both pieces. Meant for regression (identity outputs).

    Args:
        threshold: Huber's delta, the residual beyond which the cost is linear (> 0); default 1. (Not named
            ``delta``: that is the output error method of every cost.)

    Registered as ``"autodiff_huber"``: ``"huber"`` names the hand-written :class:`mlpkit.losses.Huber`
    (the same cost with its derivative written out, faster, and taking sample weights), which also reads
    files saved when this example was ``"huber"``.
    """

    name = "autodiff_huber"

    def __init__(self, threshold: float = 1.0) -> None:
        self.threshold = check_positive_float(threshold, "threshold")

    def forward_graph(self, output: ad.Tensor, y: ad.Tensor) -> ad.Tensor:
        distance = ad.abs(output - y)
        inner = ad.minimum(distance, self.threshold)
        return (0.5 * inner * inner + self.threshold * (distance - inner)).sum(axis=1).mean()

    def get_config(self) -> dict:
        return {"name": self.name, "threshold": self.threshold}


@register_loss
class FocalLoss(ForwardLoss):
    """Focal loss (Lin et al. 2017, "Focal loss for dense object detection"): the cross-entropy with each
    example's term scaled down by (1 - p_t)^gamma, so well-classified examples (p_t near 1) count little and
    training concentrates on the hard ones. p_t is the probability the network gives the true answer.

    - over a softmax output (one-hot y):  C_x = -sum_j y_j (1 - a_j)^gamma ln a_j
    - over sigmoid outputs (each unit a yes/no answer): p_t = y a + (1 - y)(1 - a),
      C_x = -sum_j alpha_t (1 - p_t)^gamma ln p_t, with alpha_t = alpha y + (1 - alpha)(1 - y) (or 1)

    averaged over the batch. With gamma = 0 (and no alpha) it is the categorical / binary cross-entropy
    (Nielsen eq. (80) / (63)). Probabilities are clipped to [eps, 1 - eps] of the dtype so the logarithm
    and the power stay finite.

    Args:
        gamma: the focusing exponent (>= 0); default 2, the paper's choice.
        alpha: weight of the positive class in (0, 1) for sigmoid outputs (the paper uses 0.25); None
            (default) weighs both classes 1.
    """

    name = "focal"

    def __init__(self, gamma: float = 2.0, alpha: float | None = None) -> None:
        self.gamma = check_positive_float(gamma, "gamma", allow_zero=True)
        if alpha is not None:
            alpha = check_positive_float(alpha, "alpha")
            if alpha >= 1.0:
                raise ValueError(f"alpha must be in (0, 1) (the weight of the positive class), got {alpha}")
        self.alpha = alpha

    def check_output(self, activation: ActivationFunction) -> None:
        if not isinstance(activation, (Sigmoid, Softmax)):
            raise ValueError(f"focal loss needs probabilities: use a sigmoid or softmax output layer, not "
                             f"{activation.name}")
        if self.alpha is not None and isinstance(activation, Softmax):
            raise ValueError("focal loss alpha weighs the positive class of sigmoid outputs; leave it None with "
                             "a softmax output")

    def forward_graph(self, output: ad.Tensor, y: ad.Tensor) -> ad.Tensor:
        eps = float(np.finfo(output.dtype).eps)
        if isinstance(self.activation, Softmax):
            p = ad.clip(output, eps, 1.0 - eps)
            terms = y * ad.log(p)
            weight = None
        else:
            p = ad.clip(y * output + (1.0 - y) * (1.0 - output), eps, 1.0 - eps)
            terms = ad.log(p)
            weight = None if self.alpha is None else self.alpha * y + (1.0 - self.alpha) * (1.0 - y)
        if self.gamma:
            terms = (1.0 - p) ** self.gamma * terms
        if weight is not None:
            terms = weight * terms
        return -terms.sum(axis=1).mean()

    def get_config(self) -> dict:
        return {"name": self.name, "gamma": self.gamma, "alpha": self.alpha}


@register_layer
class Maxout(ForwardLayer):
    """Maxout units (Goodfellow et al. 2013, "Maxout networks"): each of ``units`` outputs is the largest of
    ``pieces`` affine functions of the input,

        h_i(x) = max_{j = 1..k} (x W_ij + b_ij)

    a learned, piecewise-linear convex activation (ReLU is max(z, 0), a maxout unit with one piece fixed at
    zero). W has shape (n_in, units * pieces), grouped by unit; the gradient flows to the winning piece of each
    unit. It has its own non-linearity: follow it with a Dense layer (or an Activation layer) for the output.

    Args:
        units: number of outputs.
        pieces: affine pieces per unit (k), from 1 to 64; default 2 (the paper uses 2 to 5).
        init: weight initializer name (see ``mlpkit.initializers``), for a layer of units * pieces neurons.
    """

    type_name = "maxout"
    MAX_PIECES: ClassVar[int] = 64

    def __init__(self, units: int, pieces: int = 2, *, init: str = "default") -> None:
        super().__init__()
        self.units = check_positive_int(units, "units")
        self.pieces = check_positive_int(pieces, "pieces")
        if self.pieces > self.MAX_PIECES:
            raise ValueError(f"pieces must be at most {self.MAX_PIECES}, got {self.pieces}")
        get_initializer(init)  # fail early on a bad name
        self.init = init

    @classmethod
    def declared_size(cls, config: dict, n_in: int) -> tuple[int, int]:
        """W is (n_in, units * pieces): ``pieces`` times a Dense layer of ``units`` (more than
        :attr:`MAX_PIECES` pieces are refused when the layer is built)."""
        units, pieces = int(config.get("units", n_in)), min(max(int(config.get("pieces", 2)), 1), cls.MAX_PIECES)
        return (n_in + 1) * units * pieces, units

    def setup(self, n_in: int, rng: np.random.Generator) -> int:
        weights, biases = get_initializer(self.init)(n_in, self.units * self.pieces, rng)
        self.add_parameter("W", weights)
        self.add_parameter("b", biases)
        return self.units

    def forward_graph(self, x: ad.Tensor, training: bool) -> ad.Tensor:
        z = x @ self.param("W") + self.param("b")
        return ad.max(z.reshape(x.shape[0], self.units, self.pieces), axis=2)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units, "pieces": self.pieces, "init": self.init}
