"""Layers: the building blocks of a :class:`mlpkit.Network`.

Contract (a batch is rows, ``x`` has shape (m, n_in)):

- ``build(n_in, rng, dtype) -> n_out`` creates the parameters; called once by the network.
- ``forward(x, training) -> a`` caches what ``backward`` needs and returns an array owned by the
  layer (reused on the next call of the same batch size: copy it if you keep it).
- ``backward(grad, *, preactivation=False, need_input_grad=True) -> dL/dx`` takes dL/da (or dL/dz
  when ``preactivation``, i.e. the fused output error of the cost) and fills ``self.grads``.
- ``params`` / ``grads``: ``dict[str, ndarray]`` with the same keys. Once the network is built they are
  views into one flat parameter vector and one flat gradient vector (so an optimizer updates every
  parameter with a handful of vectorized operations, whatever the depth).
- ``decayed``: the parameter names that weight decay / regularization applies to (weights, not biases:
  Nielsen ch.3 "we don't usually include the biases").
- ``state``: non-trainable arrays (running statistics, input statistics), saved with the model.
- ``rng``: the training loop's Generator while a network trains (the network sets it on every layer);
  layers with randomness (dropout) draw from it, so a seeded run is reproducible.
"""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np

from ._blas import ones
from .activations import ActivationFunction, Identity, get_activation
from .averages import check_beta, correction_weight
from .initializers import get_initializer
from .regularizers import Regularizer, get_regularizer
from .validation import check_features, check_positive_float, check_positive_int


class Layer:
    """Base class of all layers."""

    type_name: ClassVar[str] = ""
    decayed: ClassVar[tuple[str, ...]] = ()
    #: penalty on this layer's decayed weights instead of the network's regularizer (None: the network's)
    regularizer: Regularizer | None = None
    #: the training loop's random generator while training (set by the network), else None
    rng: np.random.Generator | None = None

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.state: dict[str, np.ndarray] = {}
        self.n_in: int | None = None
        self.n_out: int | None = None

    # -- construction -------------------------------------------------------------------------------
    def build(self, n_in: int, rng: np.random.Generator, dtype: np.dtype) -> int:
        raise NotImplementedError

    def get_config(self) -> dict:
        raise NotImplementedError

    @classmethod
    def declared_size(cls, config: dict, n_in: int) -> tuple[int, int] | None:
        """(an upper bound on the parameter and state entries, the output width) of the layer ``config``
        describes after ``n_in`` inputs, read from the config alone: the safe loader bounds a model file with
        it before it allocates anything. The default is None: what a custom layer's configuration means is
        its own business, so the loader takes the layer's size from the table that the file carries
        (``layer_sizes``, written when the model is saved) and checks the built layer against it. A layer
        whose config sets how much it allocates (units, pieces...) says so by overriding this method, which
        bounds even a tampered table."""
        return None

    @property
    def activation_fn(self) -> ActivationFunction | None:
        """The activation applied at the end of this layer (None when the layer has none)."""
        return None

    # -- computation --------------------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray, *, preactivation: bool = False,
                 need_input_grad: bool = True) -> np.ndarray | None:
        raise NotImplementedError

    #: the pre-activation z of the last forward pass (for the cost's stable log form)
    preactivation: np.ndarray | None = None

    #: distinct (name, shape) scratch arrays a layer keeps (the training batch, the last partial batch,
    #: inference chunks...); beyond this the oldest is dropped
    _MAX_BUFFERS: ClassVar[int] = 24

    def _buffer(self, key: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """A scratch array reused across calls with the same shape (no allocation per batch). Arrays are
        kept per shape, so alternating batch sizes (the last partial batch, evaluation chunks) reuse theirs."""
        cache = self.__dict__.get("_buffers")
        if cache is None:
            cache = self._buffers = {}
        buf = cache.get((key, shape))
        if buf is None or buf.dtype != dtype:
            if len(cache) >= self._MAX_BUFFERS:
                del cache[next(iter(cache))]
            buf = cache[(key, shape)] = np.empty(shape, dtype=dtype)
        return buf

    def __getstate__(self) -> dict:
        """Pickle/deepcopy keep the configuration, parameters and state, not the per-batch caches (every
        attribute whose name starts with an underscore is such a cache, by convention)."""
        state = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        state["preactivation"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.state = {k: np.array(v) for k, v in self.state.items()}  # writable even from a read-only source

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "type")
        return f"{type(self).__name__}({args})"


class Dense(Layer):
    """Fully-connected layer a = g(x W + b) (Nielsen eq. (25) a^l = sigma(w^l a^{l-1} + b^l), written for
    a batch of rows; Ng: Z = W A + b, A = g(Z)).

    Backward, with dz = dL/da * g'(z) (Nielsen BP2 / Ng dZ = dA * g'(Z)):
    dW = x^T dz (BP4), db = sum over the batch of dz (BP3), dL/dx = dz W^T.

    Args:
        units: number of neurons (outputs).
        activation: name of the activation (see ``mlpkit.activations``), or None for identity.
        init: weight initializer name (see ``mlpkit.initializers``), ``"default"`` = N(0, 1/n_in).
        use_bias: add a bias vector (turn off when a BatchNorm follows: its beta replaces the bias).
        regularizer: ``L2(lmbda)``, ``L1(lmbda)`` (or a config dict) for this layer's weights, replacing the
            network's regularizer for them; None (default) uses the network's. ``L2(0)`` exempts the layer.
        input_dim: number of inputs; only needed on the first layer when the network is not given it.
    """

    type_name = "dense"
    decayed = ("W",)

    def __init__(self, units: int, activation: str | dict | ActivationFunction | None = None, *,
                 init: str = "default", use_bias: bool = True, regularizer: Regularizer | dict | None = None,
                 input_dim: int | None = None) -> None:
        super().__init__()
        self.units = check_positive_int(units, "units")
        self.activation = get_activation(activation)
        self.init = init
        get_initializer(init)  # fail early on a bad name
        self.use_bias = bool(use_bias)
        self.regularizer = get_regularizer(regularizer)
        self.input_dim = None if input_dim is None else check_positive_int(input_dim, "input_dim")
        self.keep_preactivation = False  # set by the network on its output layer

    @classmethod
    def declared_size(cls, config: dict, n_in: int) -> tuple[int, int]:
        """W (n_in x units) and b (units): (n_in + 1) units, exact with a bias and at most twice the entries
        without one, so that the loader can also refuse a file whose arrays hold far fewer entries."""
        units = int(config["units"])
        return (n_in + 1) * units, units

    @property
    def activation_fn(self) -> ActivationFunction:
        return self.activation

    def build(self, n_in: int, rng: np.random.Generator, dtype: np.dtype) -> int:
        if self.input_dim is not None and self.input_dim != n_in:
            raise ValueError(f"Dense layer declares input_dim={self.input_dim} but receives {n_in} inputs")
        weights, biases = get_initializer(self.init)(n_in, self.units, rng)
        self.params = {"W": weights.astype(dtype)}
        if self.use_bias:
            self.params["b"] = biases.astype(dtype)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.n_in, self.n_out = n_in, self.units
        return self.units

    def get_config(self) -> dict:
        config = {"type": self.type_name, "units": self.units, "activation": self.activation.get_config(),
                  "init": self.init, "use_bias": self.use_bias}
        if self.regularizer is not None:
            config["regularizer"] = self.regularizer.get_config()
        return config

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        shape = (x.shape[0], self.units)
        z = self._buffer("z", shape, x.dtype)
        np.dot(x, self.params["W"], out=z)  # np.dot: less per-call overhead than matmul for 2-D products
        a = self._buffer("a", shape, x.dtype) if self.keep_preactivation else z
        if self.use_bias:
            z += self.params["b"]
        self.activation.forward(z, a)
        self._x, self._a = x, a
        self.preactivation = z if self.keep_preactivation else None
        return a

    def backward(self, grad: np.ndarray, *, preactivation: bool = False,
                 need_input_grad: bool = True) -> np.ndarray | None:
        if not preactivation:  # dL/da -> dL/dz = dL/da * g'(z), in place
            self.activation.backward(grad, self._a, grad, self._buffer("slope", grad.shape, grad.dtype))
        dz = grad
        np.matmul(self._x.T, dz, out=self.grads["W"])  # (np.dot would first zero the whole of dW itself)
        if self.use_bias:  # db = 1^T dz: the column sums as one BLAS product, cheaper than a reduction
            np.dot(ones(dz.shape[0], dz.dtype), dz, out=self.grads["b"])
        if not need_input_grad:
            return None
        dx = self._buffer("dx", self._x.shape, dz.dtype)
        return np.dot(dz, self.params["W"].T, out=dx)


class Activation(Layer):
    """A stand-alone activation a = g(z), for placing after a layer that has none (e.g. after BatchNorm)."""

    type_name = "activation"

    def __init__(self, activation: str | dict | ActivationFunction) -> None:
        super().__init__()
        self.activation = get_activation(activation)

    @classmethod
    def declared_size(cls, config: dict, n_in: int) -> tuple[int, int]:
        """No arrays; the width is kept."""
        return 0, n_in

    @property
    def activation_fn(self) -> ActivationFunction:
        return self.activation

    def build(self, n_in: int, rng: np.random.Generator, dtype: np.dtype) -> int:
        self.n_in = self.n_out = n_in
        return n_in

    def get_config(self) -> dict:
        return {"type": self.type_name, "activation": self.activation.get_config()}

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        a = self._buffer("a", x.shape, x.dtype)
        self.activation.forward(x, out=a)
        self.preactivation, self._a = x, a
        return a

    def backward(self, grad: np.ndarray, *, preactivation: bool = False,
                 need_input_grad: bool = True) -> np.ndarray | None:
        if preactivation:
            return grad
        return self.activation.backward(grad, self._a, out=grad)


class Dropout(Layer):
    """Inverted dropout (Ng week 1 "dropout regularization"; Srivastava et al. 2014; Nielsen ch.3).

    In training, each unit of each example is kept with probability ``keep_prob`` and the kept ones are
    scaled up so that the expected activation is unchanged (Ng's ``d = rand < keep_prob; a = a * d;
    a = a / keep_prob``)::

        mask = (U < keep_prob) / keep_prob,   U ~ Uniform[0, 1) per entry
        a = x * mask                          dL/dx = dL/da * mask

    At inference the layer is the identity: no mask and no scaling (the scaling was done in training).
    The uniforms come from the network's training generator (``fit``'s seed), drawn in the network's
    dtype into a reused buffer, so seeded runs repeat exactly and a gradient check sees fixed masks.
    Put it after the activation of the layer whose outputs should be dropped (or first, to drop inputs).

    Args:
        keep_prob: probability of keeping a unit, in (0, 1]; 1 disables dropout. Default 0.5.
    """

    type_name = "dropout"

    def __init__(self, keep_prob: float = 0.5) -> None:
        super().__init__()
        if isinstance(keep_prob, bool) or not isinstance(keep_prob, numbers.Real):
            raise TypeError(f"keep_prob must be a number in (0, 1], got {keep_prob!r} ({type(keep_prob).__name__})")
        if not 0.0 < keep_prob <= 1.0:  # (NaN fails too)
            raise ValueError(f"keep_prob must be in (0, 1] (the probability of keeping a unit), got {keep_prob}")
        self.keep_prob = float(keep_prob)
        self._mask: np.ndarray | None = None

    @classmethod
    def declared_size(cls, config: dict, n_in: int) -> tuple[int, int]:
        """No arrays; the width is kept."""
        return 0, n_in

    def build(self, n_in: int, rng: np.random.Generator, dtype: np.dtype) -> int:
        self.n_in = self.n_out = n_in
        return n_in

    def get_config(self) -> dict:
        return {"type": self.type_name, "keep_prob": self.keep_prob}

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if not training or self.keep_prob == 1.0:
            self._mask = None
            return x
        if self.rng is None:
            raise RuntimeError("Dropout in training mode draws its masks from network.training_rng, which fit() "
                               "and gradcheck() set; set it yourself (np.random.default_rng(seed)) to run a "
                               "training-mode pass outside them")
        mask = self._buffer("mask", x.shape, x.dtype)
        keep = self._buffer("keep", x.shape, np.dtype(np.bool_))
        self.rng.random(dtype=x.dtype, out=mask)
        np.less(mask, self.keep_prob, out=keep)
        np.multiply(keep, 1.0 / self.keep_prob, out=mask)
        a = self._buffer("a", x.shape, x.dtype)
        np.multiply(x, mask, out=a)
        self._mask = mask
        return a

    def backward(self, grad: np.ndarray, *, preactivation: bool = False,
                 need_input_grad: bool = True) -> np.ndarray | None:
        if self._mask is None:
            return grad
        return np.multiply(grad, self._mask, out=grad)


class BatchNorm(Layer):
    """Batch normalization of the pre-activations z (Ng week 3; Ioffe & Szegedy 2015), then an optional
    activation.

    Training (statistics of the mini-batch, per unit)::

        mu = (1/m) sum_i z_i        sigma^2 = (1/m) sum_i (z_i - mu)^2
        z_hat = (z - mu) / sqrt(sigma^2 + eps)        z_tilde = gamma z_hat + beta        a = g(z_tilde)

    Backward (with dz_tilde = dL/dz_tilde, already of the mean cost):
    dgamma = sum_i dz_tilde_i z_hat_i, dbeta = sum_i dz_tilde_i, and with dz_hat = gamma dz_tilde,
    dz = (1/m) (1/sqrt(sigma^2 + eps)) (m dz_hat - sum_i dz_hat_i - z_hat sum_i dz_hat_i z_hat_i), computed
    as gamma/sqrt(sigma^2 + eps) (dz_tilde - (z_hat dgamma + dbeta) / m).

    Inference uses running estimates of mu and sigma^2: exponentially weighted averages over the training
    mini-batches with weight ``momentum`` on the past (Ng: "estimate mu and sigma^2 using an exponentially
    weighted average across mini-batches"), bias-corrected (``mlpkit.averages``), so they are the batch
    statistics after one step and need no warm-up. They live in ``state`` (``running_mean``,
    ``running_var``, and ``steps``, the number of batches averaged) and are saved with the model. The
    running variance is the biased batch variance of the formula above (PyTorch keeps the unbiased one).

    gamma and beta are learned and never weight-decayed. Give the Dense layer before it ``use_bias=False``
    (beta replaces its bias) and no activation; put the activation here or in a following layer::

        Dense(100, use_bias=False), BatchNorm(activation="relu")

    Args:
        momentum: weight of the past in the running averages, in [0, 1); default 0.99 (Keras's; PyTorch's
            ``momentum=0.1`` is 0.9 here).
        eps: added to sigma^2 for numerical stability (> 0); default 1e-5 (PyTorch's).
        activation: applied after the normalization; None (default) for none.
    """

    type_name = "batch_norm"

    def __init__(self, momentum: float = 0.99, eps: float = 1e-5,
                 activation: str | dict | ActivationFunction | None = None) -> None:
        super().__init__()
        self.momentum = check_beta(momentum, "momentum")
        self.eps = check_positive_float(eps, "eps")
        self.activation = get_activation(activation)

    @classmethod
    def declared_size(cls, config: dict, n_in: int) -> tuple[int, int]:
        """gamma, beta, running_mean, running_var (n_in each) and steps; the width is kept."""
        return 4 * n_in + 1, n_in

    @property
    def activation_fn(self) -> ActivationFunction:
        return self.activation

    def build(self, n_in: int, rng: np.random.Generator, dtype: np.dtype) -> int:
        self.params = {"gamma": np.ones(n_in, dtype=dtype), "beta": np.zeros(n_in, dtype=dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.state = {"running_mean": np.zeros(n_in, dtype=dtype), "running_var": np.ones(n_in, dtype=dtype),
                      "steps": np.zeros(1, dtype=dtype)}
        self.n_in = self.n_out = n_in
        return n_in

    def get_config(self) -> dict:
        return {"type": self.type_name, "momentum": self.momentum, "eps": self.eps,
                "activation": self.activation.get_config()}

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        gamma, beta = self.params["gamma"], self.params["beta"]
        z = self._buffer("z", x.shape, x.dtype)
        if training:
            mean = x.mean(axis=0)
            x_hat = self._buffer("x_hat", x.shape, x.dtype)
            np.subtract(x, mean, out=x_hat)
            var = np.einsum("ij,ij->j", x_hat, x_hat) / x.shape[0]
            inv_std = 1.0 / np.sqrt(var + self.eps)
            x_hat *= inv_std
            self._x_hat, self._inv_std = x_hat, inv_std
            np.multiply(x_hat, gamma, out=z)
            z += beta
            self._update_running(mean, var)
        else:
            scale = gamma / np.sqrt(self.state["running_var"] + self.eps)
            np.multiply(x, scale, out=z)
            z += beta - self.state["running_mean"] * scale
        a = z if isinstance(self.activation, Identity) else self._buffer("a", x.shape, x.dtype)
        self.activation.forward(z, out=a)
        self.preactivation, self._a = z, a
        return a

    def _update_running(self, mean: np.ndarray, var: np.ndarray) -> None:
        """Bias-corrected EWA step c += w_t (x - c), w_t = (1 - momentum) / (1 - momentum^t)."""
        steps = self.state["steps"]
        steps += 1
        weight = correction_weight(self.momentum, float(steps[0]))
        running_mean, running_var = self.state["running_mean"], self.state["running_var"]
        running_mean += weight * (mean - running_mean)
        running_var += weight * (var - running_var)

    def backward(self, grad: np.ndarray, *, preactivation: bool = False,
                 need_input_grad: bool = True) -> np.ndarray | None:
        dz = grad if preactivation else self.activation.backward(grad, self._a, out=grad)
        x_hat = self._x_hat
        dgamma, dbeta = self.grads["gamma"], self.grads["beta"]
        np.einsum("ij,ij->j", dz, x_hat, out=dgamma)
        np.sum(dz, axis=0, out=dbeta)
        if not need_input_grad:
            return None
        m = dz.shape[0]
        dx = self._buffer("dx", dz.shape, dz.dtype)
        np.multiply(x_hat, dgamma / m, out=dx)
        dx += dbeta / m
        np.subtract(dz, dx, out=dx)
        dx *= self.params["gamma"] * self._inv_std
        return dx


class Standardize(Layer):
    """Input normalization x' = (x - mu) / sigma, per feature, with mu and sigma of the training set
    (Ng week 1 "normalizing inputs": subtract the mean, divide by the standard deviation, and "use the same
    mu and sigma to normalize the test set").

    ``adapt(X)`` computes the statistics (``fit`` does it on the training inputs at the start of training
    when the layer has not been adapted yet; never on validation data). They live in ``state`` (``mean``,
    ``std``, ``count`` = number of examples they came from), so a saved and reloaded model normalizes raw
    inputs by itself, at prediction time too. The layer has no parameters; put it first.

    A feature whose training standard deviation is below ``eps`` (e.g. the MNIST pixels that are 0 in
    every training image) is centred but not scaled (sigma taken as 1, as scikit-learn's StandardScaler):
    dividing by a tiny sigma would turn any test image with ink there into a huge input. (Features that
    are nearly but not exactly constant are still scaled by their small sigma.)

    Args:
        eps: the standard deviation below which a feature counts as constant (> 0); default 1e-8.
    """

    type_name = "standardize"

    def __init__(self, eps: float = 1e-8) -> None:
        super().__init__()
        self.eps = check_positive_float(eps, "eps")

    @classmethod
    def declared_size(cls, config: dict, n_in: int) -> tuple[int, int]:
        """mean and std (n_in each) and count; the width is kept."""
        return 2 * n_in + 1, n_in

    @property
    def adapted(self) -> bool:
        """True once the statistics have been computed (or loaded)."""
        return bool(self.state) and bool(self.state["count"][0] > 0)

    def adapt(self, X: Any) -> None:
        """Compute mu and sigma of ``X`` (shape (n, n_features)) in float64 and store them."""
        X = check_features(X, "X", n_features=self.n_in, dtype=np.float64)
        std = X.std(axis=0)
        std[std < self.eps] = 1.0
        dtype = self.state["mean"].dtype if self.state else np.dtype(np.float64)
        self.state = {"mean": X.mean(axis=0).astype(dtype), "std": std.astype(dtype),
                      "count": np.array([X.shape[0]], dtype=dtype)}
        self.n_in = self.n_out = X.shape[1]

    def build(self, n_in: int, rng: np.random.Generator, dtype: np.dtype) -> int:
        if not self.state:
            self.state = {"mean": np.zeros(n_in), "std": np.ones(n_in), "count": np.zeros(1)}
        elif self.state["mean"].size != n_in:
            raise ValueError(f"Standardize was adapted on {self.state['mean'].size} features but receives {n_in}")
        self.state = {k: v.astype(dtype) for k, v in self.state.items()}
        self.n_in = self.n_out = n_in
        return n_in

    def get_config(self) -> dict:
        return {"type": self.type_name, "eps": self.eps}

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        out = self._buffer("out", x.shape, x.dtype)
        np.subtract(x, self.state["mean"], out=out)
        out /= self.state["std"]
        return out

    def backward(self, grad: np.ndarray, *, preactivation: bool = False,
                 need_input_grad: bool = True) -> np.ndarray | None:
        return np.divide(grad, self.state["std"], out=grad) if need_input_grad else None


LAYER_TYPES: dict[str, type[Layer]] = {
    cls.type_name: cls for cls in (Dense, Activation, Dropout, BatchNorm, Standardize)
}


def register_layer(cls: type[Layer]) -> type[Layer]:
    """Make a layer class known to the safe loader (by its ``type_name``); usable as a decorator."""
    if not isinstance(cls, type) or not issubclass(cls, Layer):
        raise TypeError(f"register_layer takes a Layer subclass, got {cls!r}")
    if not cls.type_name or not isinstance(cls.type_name, str):
        raise ValueError(f"{cls.__name__} needs a type_name (the key it is saved under) to be registered")
    LAYER_TYPES[cls.type_name] = cls
    return cls


def layer_from_config(config: dict) -> Layer:
    """Rebuild a layer from ``get_config()`` output; only registered layer types are accepted."""
    if not isinstance(config, dict) or "type" not in config:
        raise ValueError(f"a layer config must be a dict with a 'type' key, got {config!r}")
    kind = config["type"]
    if kind not in LAYER_TYPES:
        raise ValueError(f"unknown layer type {kind!r}; known types: {', '.join(sorted(LAYER_TYPES))} (a custom "
                         "Layer class is known once registered with @register_layer)")
    kwargs = {k: v for k, v in config.items() if k != "type"}
    try:
        return LAYER_TYPES[kind](**kwargs)
    except TypeError as exc:
        raise ValueError(f"bad parameters for a {kind!r} layer: {exc}") from exc
