"""Optimizer.minimize: the framework exercise of Ng course 2 week 3 (minimize w^2 - 10 w + 25) with mlpkit's
own optimizers over autodiff variables."""

from __future__ import annotations

import numpy as np
import pytest

import mlpkit.autodiff as ad
from mlpkit import SGD, Adam, AdamW, Momentum, Nesterov, Optimizer
from mlpkit.autodiff import Tensor

OPTIMIZERS = {
    "sgd": lambda: SGD(0.1),
    "momentum ng": lambda: Momentum(0.1),
    "momentum classical": lambda: Momentum(0.05, convention="classical"),
    "nesterov": lambda: Nesterov(0.05),
    "adam": lambda: Adam(0.1),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_the_course_cost_as_an_expression_reaches_w_5(name: str) -> None:
    w = Tensor(0.0, requires_grad=True, name="w")
    before = w.data
    cost = OPTIMIZERS[name]().minimize(lambda: w ** 2 - 10 * w + 25, [w], steps=1000)
    assert abs(w.item() - 5.0) < 1e-4
    assert cost == pytest.approx(0.0, abs=1e-7)
    assert w.data is before  # updated in place


@pytest.mark.parametrize("name", ["sgd", "momentum ng", "adam"])
def test_the_course_cost_with_coefficients_fed_as_data(name: str) -> None:
    """The course's placeholder x = [[1.], [-10.], [25.]] and cost x0 w^2 + x1 w + x2; new data, new minimum."""
    x = Tensor(np.array([[1.0], [-10.0], [25.0]]))
    w = Tensor(0.0, requires_grad=True)

    def cost() -> Tensor:
        return x[0][0] * w ** 2 + x[1][0] * w + x[2][0]

    optimizer = OPTIMIZERS[name]()
    optimizer.minimize(cost, w, steps=1000)
    assert abs(w.item() - 5.0) < 1e-4
    x.data = np.array([[1.0], [-4.0], [4.0]])  # feed other coefficients: (w - 2)^2
    optimizer.minimize(cost, w, steps=1000)
    assert abs(w.item() - 2.0) < 1e-4


def test_several_float32_variables_least_squares() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((20, 3)), rng.standard_normal(20)
    w = Tensor(np.zeros(3, dtype=np.float32), requires_grad=True)
    c = Tensor(np.zeros((), dtype=np.float32), requires_grad=True)
    Adam(0.05).minimize(lambda: ad.mean((a.astype(np.float32) @ w + c - b.astype(np.float32)) ** 2), [w, c],
                        steps=2000)
    design = np.hstack([a, np.ones((20, 1))])
    solution = np.linalg.lstsq(design, b, rcond=None)[0]
    assert w.dtype == np.float32 and w.grad.dtype == np.float32
    np.testing.assert_allclose(np.append(w.data, c.data), solution, atol=1e-3)


def test_tol_stops_once_the_gradient_is_small() -> None:
    w = Tensor(0.0, requires_grad=True)
    calls = []

    def cost() -> Tensor:
        calls.append(1)
        return (w - 5) ** 2

    SGD(0.1).minimize(cost, [w], steps=10_000, tol=1e-6)
    assert 10 < len(calls) < 200
    assert abs(w.item() - 5) < 1e-6


def test_minimize_uses_the_optimizer_machinery() -> None:
    """bind() sees one decayed slot per variable: AdamW decays them all, and the step count advances."""
    w = Tensor(np.ones(3), requires_grad=True)
    v = Tensor(np.ones((2, 2)), requires_grad=True)
    optimizer = AdamW(0.01, weight_decay=0.5)
    optimizer.minimize(lambda: ad.sum(w * 0.0) + ad.sum(v * 0.0), [w, v], steps=10)
    assert optimizer.decay_size == 7 and optimizer.iterations == 10
    np.testing.assert_allclose(w.data, (1 - 0.01 * 0.5) ** 10)  # zero gradient: only the decay moves them
    np.testing.assert_allclose(v.data, (1 - 0.01 * 0.5) ** 10)


def test_a_variable_the_cost_ignores_stays_put() -> None:
    w, unused = Tensor(0.0, requires_grad=True), Tensor(7.0, requires_grad=True)
    SGD(0.1).minimize(lambda: (w - 1) ** 2, [w, unused], steps=200)
    assert unused.item() == 7.0 and abs(w.item() - 1) < 1e-4


@pytest.mark.parametrize(("variables", "cost", "pattern"), [
    (lambda w: [], lambda w: w ** 2, "give at least one variable"),
    (lambda w: [Tensor(np.ones((30, 30)))], lambda w: w ** 2,
     "^minimize: variable 0 must be a Tensor with requires_grad=True, got a Tensor with requires_grad=False$"),
    (lambda w: [w, np.ones(2)], lambda w: w ** 2, "variable 1 must be a Tensor with requires_grad=True, got ndarray"),
    (lambda w: [w, Tensor(np.float32(1.0), requires_grad=True)], lambda w: w ** 2,
     r"variables must share one dtype, got float64 \(variable 0\) and float32 \(variable 1\)"),
    (lambda w: [w, w], lambda w: w ** 2, "variable 1 is listed twice"),
    (lambda w: [w], lambda w: w * np.ones(2), "cost_fn must return a one-element Tensor, got a tensor of shape"),
    (lambda w: [w], lambda w: Tensor(3.0), "the cost does not depend on the variables"),
    (lambda w: [w], lambda w: 3.0, "cost_fn must return a one-element Tensor, got float"),
])
def test_minimize_errors(variables, cost, pattern: str) -> None:
    w = Tensor(1.0, requires_grad=True)
    with pytest.raises(ValueError, match=pattern):
        SGD(0.1).minimize(lambda: cost(w), variables(w), steps=3)


@pytest.mark.filterwarnings("ignore:overflow encountered")
def test_a_diverging_run_stops_with_an_error() -> None:
    w = Tensor(1.0, requires_grad=True)
    with pytest.raises(ValueError, match=r"the cost became inf at step \d+; lower the learning rate"):
        SGD(10.0).minimize(lambda: w ** 4, [w], steps=100)


def test_read_only_variable_data_is_refused() -> None:
    w = Tensor(np.broadcast_to(np.ones(1), (3,)), requires_grad=True)
    with pytest.raises(ValueError, match="variable 0's data is read-only"):
        SGD(0.1).minimize(lambda: ad.sum(w ** 2), [w])


def test_every_optimizer_has_minimize() -> None:
    assert Optimizer.minimize is SGD.minimize is Adam.minimize
