"""Activation functions: value and derivative, in numerically stable, in-place forms.

Every activation works on a batch ``z`` of shape (m, n) and writes into ``out`` (which may be ``z``
itself), so a layer can apply it without allocating. The derivative is expressed through the
activation's *output* ``a`` wherever the maths allows (sigmoid, tanh, ReLU), which means a layer only
has to keep ``a`` for the backward pass, never ``z``.

Formulas:
- sigmoid  sigma(z) = 1 / (1 + e^-z)                 (Nielsen eq. (3));  sigma' = sigma (1 - sigma)
  computed as written, with e^-z allowed to overflow to infinity for very negative z, which gives the
  right limit 0 (no NaN). This keeps full relative precision for small outputs, where the equivalent
  0.5 * (1 + tanh(z / 2)) cancels, and it is 1.5x faster (NumPy has fast exp kernels for both float32
  and float64; its float64 tanh is slow).
- tanh     tanh(z) = (e^z - e^-z) / (e^z + e^-z)      (Nielsen ch.3 "other models of neuron"); tanh' = 1 - tanh^2
- relu     max(0, z)                                 (Nielsen ch.3; Ng week 1);   relu' = 1[z > 0]
- leaky relu  z if z > 0 else alpha z                (Ng);  derivative 1 or alpha
- identity z                                         derivative 1
- softmax  a_j = e^{z_j} / sum_k e^{z_k}             (Nielsen eq. (78), Ng "softmax regression")
  computed as exp(z - max z) / sum exp(z - max z), the log-sum-exp-safe form.
"""

from __future__ import annotations

import numpy as np


class ActivationFunction:
    """One activation: ``forward(z, out)`` computes a = g(z); ``backward(grad_a, a, out)`` gives dL/dz."""

    name: str = ""

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_a: np.ndarray, a: np.ndarray, out: np.ndarray,
                 scratch: np.ndarray | None = None) -> np.ndarray:
        """dL/dz = dL/da * g'(z), written into ``out`` (``out`` may be ``grad_a``). ``scratch``, an array
        shaped like ``a`` that the caller does not need, spares the derivative a temporary."""
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Sigmoid(ActivationFunction):
    """Logistic sigmoid (Nielsen eq. (3)); derivative sigma(z)(1 - sigma(z)) (Nielsen eq. (31)'s sigma')."""

    name = "sigmoid"

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        # e^-z = inf for z below about -88 (float32): 1 / inf = 0, as it should. The network runs its passes
        # under np.errstate(over="ignore") (once per pass: entering it costs more than this whole function
        # on a small batch), so the overflow raises no warning there.
        np.negative(z, out=out)
        np.exp(out, out=out)
        out += 1.0
        np.reciprocal(out, out=out)
        return out

    def backward(self, grad_a: np.ndarray, a: np.ndarray, out: np.ndarray,
                 scratch: np.ndarray | None = None) -> np.ndarray:
        slope = np.subtract(1.0, a, out=scratch, dtype=a.dtype)
        slope *= a
        return np.multiply(grad_a, slope, out=out)


class Tanh(ActivationFunction):
    """Hyperbolic tangent; derivative 1 - tanh(z)^2."""

    name = "tanh"

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.tanh(z, out=out)

    def backward(self, grad_a: np.ndarray, a: np.ndarray, out: np.ndarray,
                 scratch: np.ndarray | None = None) -> np.ndarray:
        slope = np.square(a, out=scratch)
        np.subtract(1.0, slope, out=slope)
        return np.multiply(grad_a, slope, out=out)


class ReLU(ActivationFunction):
    """Rectified linear unit max(0, z); derivative 1 where z > 0, else 0 (0 at z = 0, as PyTorch)."""

    name = "relu"

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.maximum(z, 0.0, out=out)

    def backward(self, grad_a: np.ndarray, a: np.ndarray, out: np.ndarray,
                 scratch: np.ndarray | None = None) -> np.ndarray:
        return np.multiply(grad_a, a > 0, out=out)


class LeakyReLU(ActivationFunction):
    """Leaky ReLU: z for z > 0, ``alpha`` z otherwise (Ng week 1, alpha = 0.01 by default)."""

    name = "leaky_relu"

    def __init__(self, alpha: float = 0.01) -> None:
        if not 0.0 <= float(alpha) < 1.0:
            raise ValueError(f"leaky_relu alpha must be in [0, 1), got {alpha}")
        self.alpha = float(alpha)

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        # for 0 <= alpha < 1, max(z, alpha z) is z on the positive side and alpha z on the negative side
        scaled = np.multiply(z, self.alpha)
        return np.maximum(z, scaled, out=out)

    def backward(self, grad_a: np.ndarray, a: np.ndarray, out: np.ndarray,
                 scratch: np.ndarray | None = None) -> np.ndarray:
        slope = np.where(a > 0, 1.0, self.alpha).astype(a.dtype, copy=False)
        return np.multiply(grad_a, slope, out=out)

    def get_config(self) -> dict:
        return {"name": self.name, "alpha": self.alpha}

    def __repr__(self) -> str:
        return f"LeakyReLU(alpha={self.alpha})"


class Identity(ActivationFunction):
    """The identity g(z) = z (linear output, e.g. for regression with the quadratic cost)."""

    name = "identity"

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        if out is not z:
            np.copyto(out, z)
        return out

    def backward(self, grad_a: np.ndarray, a: np.ndarray, out: np.ndarray,
                 scratch: np.ndarray | None = None) -> np.ndarray:
        if out is not grad_a:
            np.copyto(out, grad_a)
        return out


class Softmax(ActivationFunction):
    """Softmax over each row (Nielsen eq. (78)); stable form exp(z - max z) / sum exp(z - max z).

    Its Jacobian is da_j/dz_k = a_j (delta_jk - a_k) (Nielsen ch.3 exercise), so the backward pass is
    dL/dz = a * (dL/da - sum_k a_k dL/da_k), one row at a time, without forming the Jacobian.
    """

    name = "softmax"

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        # ufunc.reduce directly: ndarray.max/.sum add several Python-level calls per batch
        np.subtract(z, np.maximum.reduce(z, axis=1, keepdims=True), out=out)
        np.exp(out, out=out)
        out /= np.add.reduce(out, axis=1, keepdims=True)
        return out

    def backward(self, grad_a: np.ndarray, a: np.ndarray, out: np.ndarray,
                 scratch: np.ndarray | None = None) -> np.ndarray:
        inner = np.einsum("ij,ij->i", grad_a, a)[:, None]
        np.subtract(grad_a, inner, out=out)
        out *= a
        return out


_ACTIVATIONS: dict[str, type[ActivationFunction]] = {
    cls.name: cls for cls in (Sigmoid, Tanh, ReLU, LeakyReLU, Identity, Softmax)
}
ACTIVATION_NAMES = tuple(_ACTIVATIONS)


def get_activation(spec: str | dict | ActivationFunction | None) -> ActivationFunction:
    """Build an activation from a name (``"relu"``), a config dict, an instance, or ``None`` (identity)."""
    if spec is None:
        return Identity()
    if isinstance(spec, ActivationFunction):
        return spec
    if isinstance(spec, dict):
        params = dict(spec)
        name = params.pop("name", None)
    elif isinstance(spec, str):
        name, params = spec.lower().replace("-", "_"), {}
    else:
        raise TypeError(f"activation must be a name, a config dict or an ActivationFunction, got {spec!r}")
    if name == "linear":
        name = "identity"
    if name not in _ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(ACTIVATION_NAMES)}")
    try:
        return _ACTIVATIONS[name](**params)
    except TypeError as exc:
        raise ValueError(f"bad parameters for activation {name!r}: {params}") from exc


def sigmoid(z: np.ndarray) -> np.ndarray:
    """sigma(z) as a new array (convenience for users and tests)."""
    z = np.asarray(z, dtype=np.result_type(z, np.float32))
    with np.errstate(over="ignore"):
        return Sigmoid().forward(z, np.empty_like(z))


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of a 1-D vector or an (m, n) batch, as a new array."""
    z = np.asarray(z, dtype=np.result_type(z, np.float32))
    batch = np.atleast_2d(z)
    out = Softmax().forward(batch, np.empty_like(batch))
    return out.reshape(z.shape)
