"""Two ways to the same gradient: every hand-written backward pass of mlpkit (layers, costs, penalties,
activations) against the gradient that :mod:`mlpkit.autodiff` derives from the forward formula alone, in float64
on random shapes, to 1e-10.

Each autodiff side is the layer's or cost's formula as its docstring gives it, written with Tensors; the
hand-written side is the library's own forward and backward. A seed dL/d(output) is drawn at random, so every
entry of the Jacobian-vector product is checked, not only a sum.
"""

from __future__ import annotations

import numpy as np
import pytest

import mlpkit.autodiff as ad
from mlpkit.activations import ACTIVATION_NAMES, get_activation
from mlpkit.layers import Activation, BatchNorm, Dense, Dropout, Standardize
from mlpkit.losses import BinaryCrossEntropy, CategoricalCrossEntropy, Quadratic
from mlpkit.regularizers import L1, L2

SEEDS = range(3)
TOLERANCE = 1e-10
LEAKY_ALPHA = 0.03


def close(actual: np.ndarray, expected: np.ndarray) -> None:
    """Equal to 1e-10, relative to the size of the expected values (absolute below 1)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    assert float(np.abs(actual - expected).max(initial=0.0)) <= TOLERANCE * scale


def shapes(seed: int) -> tuple[np.random.Generator, int, int, int]:
    """A generator and random (batch, inputs, outputs) sizes."""
    rng = np.random.default_rng(seed)
    return rng, int(rng.integers(2, 9)), int(rng.integers(1, 7)), int(rng.integers(2, 6))


def activation_spec(name: str) -> str | dict:
    return {"name": name, "alpha": LEAKY_ALPHA} if name == "leaky_relu" else name


def autodiff_activation(name: str, z: ad.Tensor) -> ad.Tensor:
    """g(z) from its formula (mlpkit.activations' docstring)."""
    if name == "sigmoid":
        return 1.0 / (1.0 + ad.exp(-z))
    if name == "tanh":
        return (ad.exp(z) - ad.exp(-z)) / (ad.exp(z) + ad.exp(-z))
    if name == "relu":
        return ad.maximum(z, 0.0)
    if name == "leaky_relu":
        return ad.where(z > 0, z, LEAKY_ALPHA * z)
    if name == "identity":
        return z
    if name == "softmax":
        e = ad.exp(z - z.data.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    raise AssertionError(f"no autodiff form for {name}")


def away_from_kinks(name: str, z: np.ndarray) -> np.ndarray:
    """ReLU-like derivatives jump at 0: keep the test points away from it."""
    if name in ("relu", "leaky_relu"):
        return np.where(np.abs(z) < 1e-3, 0.5, z)
    return z


# ------------------------------------------------------------------------------------------- activations
@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@pytest.mark.parametrize("seed", SEEDS)
def test_activation_derivatives(name, seed):
    rng, m, _, n = shapes(seed)
    fn = get_activation(activation_spec(name))
    z = away_from_kinks(name, rng.normal(size=(m, n)) * 2)
    grad_a = rng.normal(size=(m, n))
    a = fn.forward(z.copy(), np.empty_like(z))
    hand = fn.backward(grad_a.copy(), a, np.empty_like(z), np.empty_like(z))

    z_t = ad.Tensor(z, requires_grad=True)
    out = autodiff_activation(name, z_t)
    close(a, out.data)
    out.backward(grad_a)
    close(hand, z_t.grad)


# ------------------------------------------------------------------------------------------- layers
def dense_forward(x: ad.Tensor, W: ad.Tensor, b: ad.Tensor | None, activation: str) -> ad.Tensor:
    z = x @ W
    if b is not None:
        z = z + b
    return autodiff_activation(activation, z)


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("seed", SEEDS)
def test_dense(activation, use_bias, seed):
    rng, m, n_in, n_out = shapes(seed)
    layer = Dense(n_out, activation_spec(activation), use_bias=use_bias)
    layer.build(n_in, rng, np.dtype(np.float64))
    x, seed_grad = rng.normal(size=(m, n_in)), rng.normal(size=(m, n_out))
    if activation in ("relu", "leaky_relu"):  # keep the pre-activations off the kink
        layer.params["W"][...] = rng.normal(size=(n_in, n_out))
    a = layer.forward(x, training=True).copy()
    dx = layer.backward(seed_grad.copy())

    x_t = ad.Tensor(x, requires_grad=True)
    W_t = ad.Tensor(layer.params["W"], requires_grad=True)
    b_t = ad.Tensor(layer.params["b"], requires_grad=True) if use_bias else None
    out = dense_forward(x_t, W_t, b_t, activation)
    close(a, out.data)
    out.backward(seed_grad)
    close(layer.grads["W"], W_t.grad)
    if use_bias:
        close(layer.grads["b"], b_t.grad)
    close(dx, x_t.grad)


@pytest.mark.parametrize("seed", SEEDS)
def test_dense_output_layer_takes_the_error_at_its_preactivation(seed):
    """The network's last Dense layer gets dL/dz (``preactivation=True``): the gradient of z = x W + b alone."""
    rng, m, n_in, n_out = shapes(seed)
    layer = Dense(n_out, "softmax")
    layer.keep_preactivation = True
    layer.build(n_in, rng, np.dtype(np.float64))
    x, dz = rng.normal(size=(m, n_in)), rng.normal(size=(m, n_out))
    layer.forward(x, training=True)
    dx = layer.backward(dz.copy(), preactivation=True)

    x_t, W_t, b_t = (ad.Tensor(v, requires_grad=True) for v in (x, layer.params["W"], layer.params["b"]))
    (x_t @ W_t + b_t).backward(dz)
    close(layer.grads["W"], W_t.grad)
    close(layer.grads["b"], b_t.grad)
    close(dx, x_t.grad)


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("seed", SEEDS)
def test_activation_layer(activation, seed):
    rng, m, n, _ = shapes(seed)
    layer = Activation(activation_spec(activation))
    layer.build(n, rng, np.dtype(np.float64))
    x, seed_grad = away_from_kinks(activation, rng.normal(size=(m, n))), rng.normal(size=(m, n))
    a = layer.forward(x, training=True).copy()
    dx = layer.backward(seed_grad.copy())

    x_t = ad.Tensor(x, requires_grad=True)
    out = autodiff_activation(activation, x_t)
    close(a, out.data)
    out.backward(seed_grad)
    close(dx, x_t.grad)


@pytest.mark.parametrize("keep_prob", [0.5, 0.8])
@pytest.mark.parametrize("seed", SEEDS)
def test_dropout_with_a_fixed_mask(keep_prob, seed):
    """a = x * mask with mask = (U < keep_prob) / keep_prob, U drawn from the same seeded generator."""
    rng, m, n, _ = shapes(seed)
    layer = Dropout(keep_prob)
    layer.build(n, rng, np.dtype(np.float64))
    x, seed_grad = rng.normal(size=(m, n)), rng.normal(size=(m, n))
    layer.rng = np.random.default_rng(100 + seed)
    a = layer.forward(x, training=True).copy()
    dx = layer.backward(seed_grad.copy())

    mask = (np.random.default_rng(100 + seed).random((m, n)) < keep_prob) / keep_prob
    x_t = ad.Tensor(x, requires_grad=True)
    out = x_t * mask
    close(a, out.data)
    out.backward(seed_grad)
    close(dx, x_t.grad)


@pytest.mark.parametrize("activation", [None, "relu", "tanh"])
@pytest.mark.parametrize("seed", SEEDS)
def test_batchnorm_in_training_mode(activation, seed):
    """z_hat = (x - mu) / sqrt(sigma^2 + eps) over the batch, a = g(gamma z_hat + beta) (BatchNorm's docstring)."""
    rng, m, n, _ = shapes(seed)
    layer = BatchNorm(eps=1e-3, activation=activation)
    layer.build(n, rng, np.dtype(np.float64))
    layer.params["gamma"][...] = rng.normal(size=n)
    layer.params["beta"][...] = rng.normal(size=n)
    x, seed_grad = rng.normal(size=(m, n)) * 3 + 1, rng.normal(size=(m, n))
    a = layer.forward(x, training=True).copy()
    dx = layer.backward(seed_grad.copy())

    x_t = ad.Tensor(x, requires_grad=True)
    gamma = ad.Tensor(layer.params["gamma"], requires_grad=True)
    beta = ad.Tensor(layer.params["beta"], requires_grad=True)
    centred = x_t - x_t.mean(axis=0)
    variance = (centred * centred).mean(axis=0)
    out = autodiff_activation(activation or "identity", gamma * (centred / ad.sqrt(variance + 1e-3)) + beta)
    close(a, out.data)
    out.backward(seed_grad)
    close(layer.grads["gamma"], gamma.grad)
    close(layer.grads["beta"], beta.grad)
    close(dx, x_t.grad)


@pytest.mark.parametrize("seed", SEEDS)
def test_standardize(seed):
    rng, m, n, _ = shapes(seed)
    layer = Standardize()
    layer.adapt(rng.normal(size=(20, n)) * 4 + 2)
    layer.build(n, rng, np.dtype(np.float64))
    x, seed_grad = rng.normal(size=(m, n)), rng.normal(size=(m, n))
    a = layer.forward(x, training=True).copy()
    dx = layer.backward(seed_grad.copy())

    x_t = ad.Tensor(x, requires_grad=True)
    out = (x_t - layer.state["mean"]) / layer.state["std"]
    close(a, out.data)
    out.backward(seed_grad)
    close(dx, x_t.grad)


# ------------------------------------------------------------------------------------------- costs
def autodiff_cost(cost: str, a: ad.Tensor, y: np.ndarray) -> ad.Tensor:
    """The mean over the batch of each cost's per-example formula (mlpkit.losses' docstrings)."""
    if cost == "quadratic":
        diff = a - y
        return (0.5 * diff * diff).sum(axis=1).mean()
    if cost == "binary_crossentropy":
        return -(y * ad.log(a) + (1.0 - y) * ad.log(1.0 - a)).sum(axis=1).mean()
    if cost == "categorical_crossentropy":
        return -(y * ad.log(a)).sum(axis=1).mean()
    raise AssertionError(cost)


COST_AND_OUTPUT = [
    *[(Quadratic, name) for name in ACTIVATION_NAMES],
    (BinaryCrossEntropy, "sigmoid"),
    (BinaryCrossEntropy, "softmax"),
    (CategoricalCrossEntropy, "softmax"),
]


@pytest.mark.parametrize(("cost", "output"), COST_AND_OUTPUT)
@pytest.mark.parametrize("seed", SEEDS)
def test_cost_value_and_output_error(cost, output, seed):
    """``Loss.delta`` (fused a - y where it cancels, dL/da through g' otherwise) is d(mean cost)/dz."""
    rng, m, _, n = shapes(seed)
    loss = cost().bind(get_activation(activation_spec(output)))
    z = away_from_kinks(output, rng.normal(size=(m, n)) * 2)
    if cost is Quadratic:
        y = rng.normal(size=(m, n))
    elif cost is CategoricalCrossEntropy or output == "softmax":
        y = np.eye(n)[rng.integers(0, n, m)]
    else:
        y = rng.integers(0, 2, size=(m, n)).astype(np.float64)
    a = loss.activation.forward(z.copy(), np.empty_like(z))
    delta = loss.delta(z, a, y, out=np.empty_like(z))

    z_t = ad.Tensor(z, requires_grad=True)
    value = autodiff_cost(loss.name, autodiff_activation(output, z_t), y)
    close(loss.value(z, a, y), value.data)
    value.backward()
    close(delta, z_t.grad)


# ------------------------------------------------------------------------------------------- penalties
@pytest.mark.parametrize("regularizer", [L2, L1])
@pytest.mark.parametrize("seed", SEEDS)
def test_penalty_gradients(regularizer, seed):
    """L2: (lmbda / 2n) sum w^2 (Nielsen eq. (85)); L1: (lmbda / n) sum |w| (eq. (95))."""
    rng = np.random.default_rng(seed)
    lmbda, n = float(rng.uniform(0.1, 5)), int(rng.integers(10, 1000))
    w = rng.normal(size=int(rng.integers(1, 40)))
    penalty = regularizer(lmbda)
    grad = rng.normal(size=w.shape)
    start = grad.copy()
    penalty.add_gradient(w, grad, n)

    w_t = ad.Tensor(w, requires_grad=True)
    value = 0.5 * lmbda / n * (w_t * w_t).sum() if regularizer is L2 else lmbda / n * ad.abs(w_t).sum()
    close(penalty.penalty(w, n), value.data)
    value.backward()
    close(grad - start, w_t.grad)
