"""Optimizers: update rules that turn a gradient into a parameter step.

Interface: ``step(params, grads)`` updates ``params`` in place. A network hands its optimizer one flat
vector holding every parameter and one holding every gradient (see ``mlpkit.layers``), so each rule
costs a handful of vectorized in-place operations per mini-batch regardless of the number of layers. The
gradient is that of the mean cost over the mini-batch, with any regularization term already added. The
optimizer may overwrite ``grads`` (it is recomputed for every batch).

``learning_rate`` is a plain attribute so that a schedule can change it between epochs.

``minimize(cost_fn, variables)`` applies the same rules to :mod:`mlpkit.autodiff` variables: the cost is written
as an expression and differentiated by the machine (Ng course 2 week 3's framework exercise).

Every optimizer keeps its per-parameter state ("slots": velocity, squared-gradient averages) in arrays
shaped like the flat parameter vector, allocated on the first ``step``, so one optimizer serves one
network. ``state_dict()`` / ``load_state_dict()`` copy the slots and the step count out and back in (to
checkpoint and resume training exactly); ``get_config()`` gives the hyper-parameters.

| name        | update (g = gradient, t = step)                                                | source           |
|-------------|--------------------------------------------------------------------------------|------------------|
| ``sgd``     | w -= lr g                                                                      | Nielsen (20)-(21)|
| ``momentum``| ng: v = beta v + (1-beta) g; w -= lr v.  classical: v = beta v - lr g; w += v  | Ng wk 2; Nielsen ch.3 |
| ``nesterov``| v = beta v - lr g; w += beta v - lr g                                          | Sutskever et al. 2013 |
| ``rmsprop`` | s = beta2 s + (1-beta2) g^2; w -= lr g / (sqrt(s) + eps)                      | Ng wk 2; Hinton  |
| ``adam``    | m, s as above; w -= lr m_hat / (sqrt(s_hat) + eps), hat = / (1 - beta^t)       | Ng wk 2; Kingma & Ba |
| ``adamw``   | w -= lr wd w (weights only), then the Adam step                                | Loshchilov & Hutter |
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from .autodiff import Tensor
from .averages import check_beta
from .parameters import ParameterLayout, Slot
from .validation import check_positive_float, check_positive_int


class Optimizer:
    """Base class: the learning rate, the step count and the slot arrays; subclasses implement ``step``.

    Args:
        learning_rate: the step size (eta, alpha); the class's ``default_learning_rate`` when None.
    """

    name: ClassVar[str] = ""
    default_learning_rate: ClassVar[float] = 0.1
    #: names of the per-parameter state arrays, each shaped like the flat parameter vector
    slot_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, learning_rate: float | None = None) -> None:
        if learning_rate is None:
            learning_rate = self.default_learning_rate
        self.learning_rate = check_positive_float(learning_rate, "learning_rate")
        #: number of steps taken (Adam's t)
        self.iterations = 0
        self._slots: dict[str, np.ndarray] = {}
        self._scratch: np.ndarray | None = None

    def bind(self, layout: ParameterLayout) -> None:
        """Called by ``fit`` before training with the layout of the flat parameter vector it will be given
        (``network.layout``). Optimizers that treat parts of the vector differently (AdamW decays weights,
        not biases) read it here. State loaded with :meth:`load_state_dict` must fit the layout."""
        if self._slots:
            size = next(iter(self._slots.values())).size
            if size != layout.size:
                raise ValueError(f"this {type(self).__name__} holds state for {size} parameters, the network has "
                                 f"{layout.size}; use a new optimizer for each network")

    #: elements updated per pass over the arrays: 2**18 float32 are 1 MB per array, so the 3-5 arrays one
    #: update reads and writes (parameters, gradients, slots, scratch) stay in the cache from one vectorized
    #: operation to the next instead of streaming through memory each time (an Adam step over the 1.3M
    #: parameters of [784, 800, 800, 10] took about half the time in such chunks)
    chunk_size: ClassVar[int] = 1 << 18
    #: whether ``_update`` needs a scratch array shaped like the parameters
    uses_scratch: ClassVar[bool] = False

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        """Update ``params`` in place from ``grads`` (which may be overwritten): one more step (``iterations``),
        then the rule of ``_update`` applied chunk by chunk (each chunk's result is the same as in one pass,
        since every operation is elementwise)."""
        self.iterations += 1
        slots = self._state_for(params) if self.slot_names else ()
        scratch = self._scratch_for(params) if self.uses_scratch else None
        coefficients = self._coefficients()
        size = params.size
        if size <= self.chunk_size:
            self._update(params, grads, slots, scratch, coefficients)
            return
        for lo in range(0, size, self.chunk_size):
            part = slice(lo, lo + self.chunk_size)
            self._update(params[part], grads[part], tuple(s[part] for s in slots),
                         None if scratch is None else scratch[part], coefficients)

    @property
    def plain_sgd(self) -> bool:
        """True when the step is exactly w <- w - eta g (plain gradient descent), which a caller may then take
        itself, inside the products that form g (see :meth:`take_fused_step`)."""
        return False

    def take_fused_step(self) -> float:
        """Count one step that the caller applies itself, and return its learning rate eta.

        For :attr:`plain_sgd` optimizers only: the fast path (:mod:`mlpkit.fast`) applies w <- w - eta g
        inside the matrix product that forms the weight gradient, instead of writing g out for :meth:`step`.
        """
        if not self.plain_sgd:
            raise RuntimeError(f"{type(self).__name__}'s step is not plain gradient descent: call step()")
        self.iterations += 1
        return self.learning_rate

    def _coefficients(self) -> tuple[float, ...]:
        """The scalars of this step (after ``iterations`` was incremented), computed once for all chunks."""
        return ()

    def _update(self, params: np.ndarray, grads: np.ndarray, slots: tuple[np.ndarray, ...],
                scratch: np.ndarray | None, coefficients: tuple[float, ...]) -> None:
        """The update rule on matching parts of the parameters, gradients, slots and scratch array."""
        raise NotImplementedError

    def _state_for(self, params: np.ndarray) -> tuple[np.ndarray, ...]:
        """The slot arrays for ``params``, in ``slot_names`` order (zeros on the first step)."""
        if not self._slots:
            self._slots = {name: np.zeros_like(params) for name in self.slot_names}
        else:
            first = next(iter(self._slots.values()))
            if first.shape != params.shape:
                raise ValueError(
                    f"this {type(self).__name__} holds state for {first.size} parameters but was given "
                    f"{params.size}; use a new optimizer for each network"
                )
            if first.dtype != params.dtype:  # e.g. state loaded from a float64 checkpoint
                self._slots = {k: v.astype(params.dtype) for k, v in self._slots.items()}
        return tuple(self._slots[name] for name in self.slot_names)

    def _scratch_for(self, params: np.ndarray) -> np.ndarray:
        """A work array shaped like ``params``, reused across steps (not part of the state)."""
        if self._scratch is None or self._scratch.shape != params.shape or self._scratch.dtype != params.dtype:
            self._scratch = np.empty_like(params)
        return self._scratch

    # -------------------------------------------------------------------------------------- autodiff
    def minimize(self, cost_fn: Callable[[], Tensor], variables: Tensor | Sequence[Tensor], *, steps: int = 1000,
                 tol: float | None = None) -> float:
        """Minimize the cost that ``cost_fn()`` builds from ``variables`` by this optimizer's update rule: the
        framework exercise of Ng course 2 week 3 (``GradientDescentOptimizer(0.01).minimize(cost)``), e.g.
        ``SGD(0.1).minimize(lambda: w ** 2 - 10 * w + 25, [w])`` takes w to 5.

        The variables' values are packed into one flat vector, laid out by a :class:`ParameterLayout` with one
        decayed slot per variable (so AdamW decays them all, as PyTorch does with the tensors it is given), and
        :meth:`step` updates it as it updates a network's. Each step clears the variables' gradients, builds the
        cost, runs ``backward()``, steps, and copies the new values into each variable's ``data`` in place (the
        arrays keep their identity).

        Args:
            cost_fn: builds a one-element :class:`~mlpkit.autodiff.Tensor` from the variables (called every step).
            variables: float Tensors with ``requires_grad=True``, all of one dtype (a single Tensor is allowed).
            steps: the most steps to take.
            tol: stop early once no gradient entry exceeds ``tol`` in magnitude; None: take every step.

        Returns:
            The cost at the last evaluation (before that step's update), as a float.
        """
        variables = [variables] if isinstance(variables, Tensor) else list(variables)
        layout = variable_layout(variables)
        steps = check_positive_int(steps, "steps")
        if tol is not None:
            tol = check_positive_float(tol, "tol", allow_zero=True)
        self.bind(layout)
        params = np.empty(layout.size, dtype=variables[0].dtype)
        grads = np.empty_like(params)
        spans = [slice(slot.start, slot.stop) for slot in layout.slots]
        for v, span in zip(variables, spans, strict=True):
            params[span] = v.data.reshape(-1)
        cost = math.nan
        for step in range(1, steps + 1):
            for v in variables:
                v.grad = None
            out = cost_fn()
            if not isinstance(out, Tensor) or out.size != 1:
                what = f"a tensor of shape {out.shape}" if isinstance(out, Tensor) else type(out).__name__
                raise ValueError(f"minimize: cost_fn must return a one-element Tensor, got {what}")
            if not out.requires_grad:
                raise ValueError("minimize: the cost does not depend on the variables (build it from them)")
            cost = out.item()
            if not math.isfinite(cost):
                raise ValueError(f"minimize: the cost became {cost} at step {step}; lower the learning rate")
            out.backward()
            for v, span in zip(variables, spans, strict=True):
                grads[span] = 0.0 if v.grad is None else v.grad.reshape(-1)
            if tol is not None and np.max(np.abs(grads), initial=0.0) <= tol:
                break
            self.step(params, grads)
            for v, span in zip(variables, spans, strict=True):
                v.data[...] = params[span].reshape(v.shape)
        return cost

    # -------------------------------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        """Copies of the slots and the step count: ``{"name", "iterations", "slots": {name: array}}``."""
        return {"name": self.name, "iterations": self.iterations,
                "slots": {k: v.copy() for k, v in self._slots.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict()`` returned (slots are copied; the next ``step`` continues from them)."""
        if not isinstance(state, dict) or not {"iterations", "slots"} <= set(state):
            raise ValueError("state must be a dict with 'iterations' and 'slots', as state_dict() returns")
        if state.get("name", self.name) != self.name:
            raise ValueError(f"this state belongs to a {state['name']!r} optimizer, not {self.name!r}")
        slots = {k: np.array(v, copy=True) for k, v in dict(state["slots"]).items()}
        if slots and set(slots) != set(self.slot_names):
            raise ValueError(f"state slots {sorted(slots)} do not match {self.name!r}'s {sorted(self.slot_names)}")
        if len({v.shape for v in slots.values()}) > 1:
            raise ValueError("state slots must all have the same shape")
        iterations = state["iterations"]
        if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or iterations < 0:
            raise ValueError(f"state iterations must be an integer >= 0, got {iterations!r}")
        self._slots = slots
        self.iterations = int(iterations)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "learning_rate": self.learning_rate}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Plain mini-batch gradient descent w <- w - eta dC/dw (Nielsen eq. (20)-(21); Ng W := W - alpha dW)."""

    name = "sgd"
    default_learning_rate = 0.1

    def _update(self, params: np.ndarray, grads: np.ndarray, slots: tuple[np.ndarray, ...],
                scratch: np.ndarray | None, coefficients: tuple[float, ...]) -> None:
        grads *= -self.learning_rate
        params += grads

    @property
    def plain_sgd(self) -> bool:
        # a subclass with a rule of its own must go through step
        return type(self)._update is SGD._update


class Momentum(Optimizer):
    """Gradient descent with momentum, in one of two conventions.

    ``convention="ng"`` (Ng week 2, "gradient descent with momentum"), the default::

        v = beta v + (1 - beta) dW         (an exponentially weighted average of the gradients)
        W = W - alpha v

    ``convention="classical"`` (Nielsen ch.3 "momentum-based gradient descent", eq. (107)-(108), mu = beta)::

        v = beta v - eta dW
        W = W + v

    PyTorch's ``SGD(momentum=beta)`` stores b = beta b + dW and steps W -= eta b, i.e. b = -v / eta: at a
    constant learning rate it follows the classical trajectory exactly. (When a schedule changes eta the two
    differ: the classical velocity keeps the step sizes of the old rate, PyTorch rescales them.) The Ng form
    with learning rate alpha equals the classical one with eta = alpha (1 - beta): same direction, steps
    1 / (1 - beta) times smaller, which is why it needs a larger learning rate.

    Args:
        learning_rate: alpha (ng) or eta (classical).
        beta: momentum coefficient in [0, 1) (Ng's beta, Nielsen's mu, PyTorch's momentum); default 0.9.
        convention: ``"ng"`` or ``"classical"``.
    """

    name = "momentum"
    default_learning_rate = 0.1
    slot_names = ("velocity",)
    CONVENTIONS = ("ng", "classical")

    def __init__(self, learning_rate: float | None = None, beta: float = 0.9, convention: str = "ng") -> None:
        super().__init__(learning_rate)
        self.beta = check_beta(beta, "beta")
        if convention not in self.CONVENTIONS:
            raise ValueError(f"convention must be one of {self.CONVENTIONS}, got {convention!r}")
        self.convention = convention

    def _update(self, params: np.ndarray, grads: np.ndarray, slots: tuple[np.ndarray, ...],
                scratch: np.ndarray | None, coefficients: tuple[float, ...]) -> None:
        (v,) = slots
        v *= self.beta
        if self.convention == "ng":
            grads *= 1.0 - self.beta
            v += grads
            np.multiply(v, self.learning_rate, out=grads)
            params -= grads
        else:
            grads *= self.learning_rate
            v -= grads
            params += v

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta": self.beta, "convention": self.convention}


class Nesterov(Optimizer):
    """Nesterov accelerated gradient, in the classical-velocity form (Nielsen's v, PyTorch's trajectory).

    Sutskever et al. (2013) evaluate the gradient at the look-ahead point W + beta v; rewritten in terms of
    the look-ahead parameters (Bengio et al. 2013), which is what ``step`` receives::

        v = beta v - eta dW
        W = W + beta v - eta dW

    This is PyTorch's ``SGD(momentum=beta, nesterov=True)`` (b = beta b + dW; W -= eta (dW + beta b), with
    b = -v / eta) at a constant learning rate.

    Args:
        learning_rate: eta.
        beta: momentum coefficient in [0, 1); default 0.9.
    """

    name = "nesterov"
    default_learning_rate = 0.1
    slot_names = ("velocity",)

    def __init__(self, learning_rate: float | None = None, beta: float = 0.9) -> None:
        super().__init__(learning_rate)
        self.beta = check_beta(beta, "beta")

    def _update(self, params: np.ndarray, grads: np.ndarray, slots: tuple[np.ndarray, ...],
                scratch: np.ndarray | None, coefficients: tuple[float, ...]) -> None:
        (v,) = slots
        grads *= self.learning_rate
        v *= self.beta
        v -= grads
        params -= grads
        np.multiply(v, self.beta, out=grads)
        params += grads

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta": self.beta}


class RMSprop(Optimizer):
    """RMSprop (Ng week 2; Hinton's lecture 6e)::

        s = beta2 s + (1 - beta2) dW^2
        W = W - alpha dW / (sqrt(s) + eps)

    Identical to PyTorch's ``RMSprop(alpha=beta2, eps=eps)`` (which also adds eps outside the square root).
    No bias correction (Ng's formula; Adam adds it).

    Args:
        learning_rate: alpha; default 0.001.
        beta2: weight of the past in the average of squared gradients, in [0, 1); default 0.9 (Hinton's
            and Keras's value; PyTorch uses 0.99).
        eps: added to the root mean square so that it never divides by 0; default 1e-8 (Ng).
    """

    name = "rmsprop"
    default_learning_rate = 0.001
    slot_names = ("square_avg",)

    def __init__(self, learning_rate: float | None = None, beta2: float = 0.9, eps: float = 1e-8) -> None:
        super().__init__(learning_rate)
        self.beta2 = check_beta(beta2, "beta2")
        self.eps = check_positive_float(eps, "eps")

    uses_scratch = True

    def _update(self, params: np.ndarray, grads: np.ndarray, slots: tuple[np.ndarray, ...],
                scratch: np.ndarray | None, coefficients: tuple[float, ...]) -> None:
        (s,), tmp = slots, scratch
        np.square(grads, out=tmp)
        tmp *= 1.0 - self.beta2
        s *= self.beta2
        s += tmp
        np.sqrt(s, out=tmp)
        tmp += self.eps
        np.divide(grads, tmp, out=grads)
        grads *= self.learning_rate
        params -= grads

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta2": self.beta2, "eps": self.eps}


class Adam(Optimizer):
    """Adam: momentum and RMSprop with bias correction (Ng week 2 "Adam optimization algorithm";
    Kingma & Ba 2015, Algorithm 1)::

        v = beta1 v + (1 - beta1) dW            v_corr = v / (1 - beta1^t)
        s = beta2 s + (1 - beta2) dW^2          s_corr = s / (1 - beta2^t)
        W = W - alpha v_corr / (sqrt(s_corr) + eps)

    Computed as W -= (alpha sqrt(1 - beta2^t) / (1 - beta1^t)) v / (sqrt(s) + eps sqrt(1 - beta2^t)), the
    same quantity with two fewer passes over the vector (Kingma & Ba, end of section 2). The averages are
    :mod:`mlpkit.averages`'s, inlined on the flat vector. Matches PyTorch's ``Adam`` (and ``AdamW``).

    Args:
        learning_rate: alpha; default 0.001.
        beta1: weight of the past in the gradient average, in [0, 1); default 0.9.
        beta2: weight of the past in the squared-gradient average, in [0, 1); default 0.999.
        eps: default 1e-8.
    """

    name = "adam"
    default_learning_rate = 0.001
    slot_names = ("exp_avg", "exp_avg_sq")

    def __init__(self, learning_rate: float | None = None, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8) -> None:
        super().__init__(learning_rate)
        self.beta1 = check_beta(beta1, "beta1")
        self.beta2 = check_beta(beta2, "beta2")
        self.eps = check_positive_float(eps, "eps")

    uses_scratch = True

    def _coefficients(self) -> tuple[float, ...]:
        """sqrt(1 - beta2^t) and 1 - beta1^t, as Python floats (which keep float32 operations in float32)."""
        t = self.iterations
        return math.sqrt(1.0 - self.beta2 ** t), 1.0 - self.beta1 ** t

    def _update(self, params: np.ndarray, grads: np.ndarray, slots: tuple[np.ndarray, ...],
                scratch: np.ndarray | None, coefficients: tuple[float, ...]) -> None:
        (v, s), tmp = slots, scratch
        root_correction2, correction1 = coefficients
        np.square(grads, out=tmp)
        tmp *= 1.0 - self.beta2
        s *= self.beta2
        s += tmp
        grads *= 1.0 - self.beta1
        v *= self.beta1
        v += grads
        np.sqrt(s, out=tmp)
        tmp += self.eps * root_correction2
        np.divide(v, tmp, out=grads)
        grads *= self.learning_rate * root_correction2 / correction1
        params -= grads

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019; PyTorch's ``AdamW``)::

        W = W - alpha wd W          (weights only, before the Adam step; biases and BatchNorm's gamma/beta
                                     are not decayed)
        then the Adam update above, with the gradient of the unregularized cost.

    Unlike an L2 term in the cost, the decay is not rescaled by Adam's 1 / sqrt(s), so every weight shrinks
    by the same factor (1 - alpha wd) per step.

    ``decay_size`` is the number of leading entries of the flat vector that are decayed; ``fit`` sets it
    from the network's layout (``bind``), where the weights come first. It is None until then, which decays the
    whole vector given to ``step`` (PyTorch's behaviour for the parameters it is handed).

    Args:
        learning_rate, beta1, beta2, eps: as :class:`Adam`.
        weight_decay: wd >= 0; default 0.01 (PyTorch's).
    """

    name = "adamw"

    def __init__(self, learning_rate: float | None = None, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, weight_decay: float = 0.01) -> None:
        super().__init__(learning_rate, beta1, beta2, eps)
        self.weight_decay = check_positive_float(weight_decay, "weight_decay", allow_zero=True)
        self.decay_size: int | None = None

    def bind(self, layout: ParameterLayout) -> None:
        super().bind(layout)
        self.decay_size = layout.n_decayed

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        if self.weight_decay:
            params[:self.decay_size] *= 1.0 - self.learning_rate * self.weight_decay
        super().step(params, grads)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "weight_decay": self.weight_decay}


def variable_layout(variables: Sequence[Tensor]) -> ParameterLayout:
    """The flat-vector layout of autodiff variables for :meth:`Optimizer.minimize`: one slot per variable, in
    order, every one decayed; checks that each is a distinct, writable float Tensor that requires a gradient and
    that all share one dtype."""
    if not variables:
        raise ValueError("minimize: give at least one variable")
    slots, offset, seen = [], 0, set()
    for i, v in enumerate(variables):
        if not isinstance(v, Tensor) or not v.requires_grad:
            what = "a Tensor with requires_grad=False" if isinstance(v, Tensor) else type(v).__name__
            raise ValueError(f"minimize: variable {i} must be a Tensor with requires_grad=True, got {what}")
        if v.dtype != variables[0].dtype:
            raise ValueError(f"minimize: variables must share one dtype, got {variables[0].dtype} (variable 0) "
                             f"and {v.dtype} (variable {i})")
        if id(v) in seen:
            raise ValueError(f"minimize: variable {i} is listed twice")
        if not v.data.flags.writeable:
            raise ValueError(f"minimize: variable {i}'s data is read-only; give it an array of its own")
        seen.add(id(v))
        slots.append(Slot(i, v.name or f"variable {i}", offset, offset + v.size, v.shape, True))
        offset += v.size
    return ParameterLayout(tuple(slots), offset, offset, 0)


_OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (SGD, Momentum, Nesterov, RMSprop, Adam, AdamW)
}
OPTIMIZER_NAMES = tuple(_OPTIMIZERS)
#: learning rate of each optimizer when none is given (the classes' ``default_learning_rate``)
DEFAULT_LEARNING_RATES: dict[str, float] = {name: cls.default_learning_rate for name, cls in _OPTIMIZERS.items()}


def optimizer_class(name: str) -> type[Optimizer]:
    """The optimizer class called ``name`` (case-insensitive); ValueError listing the names."""
    key = str(name).strip().lower()
    if key not in _OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; expected one of {', '.join(OPTIMIZER_NAMES)}")
    return _OPTIMIZERS[key]


def get_optimizer(spec: str | dict | Optimizer, learning_rate: float | None = None) -> Optimizer:
    """Build an optimizer from an instance, a name (plus an optional ``learning_rate``; otherwise the
    optimizer's default from ``DEFAULT_LEARNING_RATES``), or a config dict from ``get_config()``."""
    if isinstance(spec, Optimizer):
        return spec
    if isinstance(spec, str):
        params: dict = {}
        name = spec
    elif isinstance(spec, dict):
        params = dict(spec)
        name = str(params.pop("name", ""))
    else:
        raise TypeError(f"optimizer must be a name, a config dict or an Optimizer, got {spec!r}")
    cls = optimizer_class(name)
    if learning_rate is not None:
        params["learning_rate"] = learning_rate
    try:
        return cls(**params)
    except TypeError as exc:
        raise ValueError(f"bad parameters for optimizer {cls.name!r}: {exc}") from exc
