"""Backpropagation agrees with numerical differentiation (Ng's gradient check) in float64."""

import numpy as np
import pytest

from mlpkit import L1, L2, Dense, Network, gradcheck
from mlpkit.activations import ACTIVATION_NAMES
from mlpkit.layers import Activation

HIDDEN = [name for name in ACTIVATION_NAMES if name != "softmax"]
OUTPUT_AND_COST = [
    ("softmax", "categorical_crossentropy"),
    ("sigmoid", "binary_crossentropy"),
    ("softmax", "binary_crossentropy"),
    *[(name, "quadratic") for name in ACTIVATION_NAMES],
]


def _data(n_in=5, n_out=3, m=7, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(m, n_in)), rng.integers(0, n_out, size=m)


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize(("output", "cost"), OUTPUT_AND_COST)
def test_every_activation_and_cost_combination(hidden, output, cost):
    X, y = _data()
    net = Network([5, 6, 4, 3], activation=hidden, output_activation=output, loss=cost, seed=3)
    result = gradcheck(net, X, y)
    assert result.relative_difference < 1e-7, str(result)


@pytest.mark.parametrize("regularizer", [L2(0.7), L1(0.7)])
def test_regularized_cost(regularizer):
    X, y = _data(seed=1)
    net = Network([5, 8, 3], activation="tanh", regularizer=regularizer, seed=4)
    result = gradcheck(net, X, y, n_train=50)
    assert result.passed, str(result)
    assert set(result.per_parameter) == {"layers.0.W", "layers.0.b", "layers.1.W", "layers.1.b"}


def test_stack_with_standalone_activation_layers_and_no_bias():
    X, y = _data(seed=2)
    layers = [Dense(6, use_bias=False, init="xavier"), Activation("leaky_relu"), Dense(5, "tanh", init="he"),
              Dense(3), Activation("softmax")]
    net = Network(layers, input_dim=5, seed=5)
    assert gradcheck(net, X, y).passed


def test_single_sigmoid_output_with_binary_labels():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(9, 4)), rng.integers(0, 2, size=9)
    net = Network([4, 5, 1], activation="relu", output_activation="sigmoid", seed=6)
    assert gradcheck(net, X, y).passed


def test_gradcheck_catches_a_wrong_backward(monkeypatch):
    X, y = _data(seed=4)
    net = Network([5, 6, 3], seed=7)
    original = Dense.backward

    def broken_backward(self, grad, **kwargs):
        result = original(self, grad, **kwargs)
        self.grads["W"] *= 1.01  # a 1% error in dW
        return result

    monkeypatch.setattr(Dense, "backward", broken_backward)
    result = gradcheck(net, X, y)
    assert not result.passed
    assert result.per_parameter["layers.0.W"] > 1e-4
    assert result.per_parameter["layers.0.b"] < 1e-7  # biases were not broken


def test_gradcheck_leaves_the_network_untouched_and_can_sample():
    X, y = _data(seed=5)
    net = Network([5, 30, 3], seed=8)
    before = net.get_weights()
    result = gradcheck(net, X, y, max_per_parameter=10)
    assert result.checked["layers.0.W"] == 10 and result.checked["layers.0.b"] == 10
    assert result.passed
    for name, value in net.get_weights().items():
        np.testing.assert_array_equal(value, before[name])
    assert "PASSED" in str(result)
