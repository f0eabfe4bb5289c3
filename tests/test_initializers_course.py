"""The course's initializers (Ng course 2 week 1): zeros, which trains but never breaks the symmetry, and the
large N(0, 1)·10, usable wherever an initializer is named."""

import numpy as np
import pytest

from mlpkit import Dense, Network, load_network
from mlpkit.datasets import make_planar
from mlpkit.initializers import INITIALIZERS, get_initializer
from mlpkit.layers import layer_from_config
from mlpkit.settings import OPTION_BY_NAME, resolve


def test_zeros_and_scaled_normal_draw_what_the_course_draws():
    W, b = get_initializer("zeros")(3, 5, np.random.default_rng(0))
    assert W.shape == (3, 5) and b.shape == (5,) and not W.any() and not b.any()
    W, b = get_initializer("scaled-normal")(300, 300, np.random.default_rng(0))
    assert abs(W.std() - 10.0) < 0.2 and abs(W.mean()) < 0.2 and not b.any()


def test_zeros_trains_but_every_hidden_unit_stays_identical():
    X, y = make_planar("moons", 200, seed=0)
    net = Network([2, 4, 2], activation="sigmoid", init="zeros", seed=0, dtype="float64")
    before = net.evaluate(X, y)["loss"]
    net.fit(X, y, epochs=20, batch_size=20, learning_rate=1.0, verbose=0, seed=0)
    W1, b1 = net.layers[0].params["W"], net.layers[0].params["b"]
    W2 = net.layers[1].params["W"]
    assert np.abs(W1).max() > 1e-3 and net.evaluate(X, y)["loss"] < before  # it learned something...
    np.testing.assert_allclose(W1, W1[:, :1] * np.ones((1, 4)), rtol=1e-10, atol=1e-12)  # ...the same in every unit
    np.testing.assert_allclose(b1, b1[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(W2, W2[:1] * np.ones((4, 1)), rtol=1e-10, atol=1e-12)


def test_the_course_initializers_go_everywhere_an_initializer_is_named(tmp_path):
    assert {"zeros", "scaled_normal"} <= set(INITIALIZERS)
    assert {"zeros", "scaled_normal"} <= set(OPTION_BY_NAME["init"].choices)
    assert resolve({"init": "scaled-normal"}).init == "scaled_normal"
    assert resolve({"init": "zeros"}).init == "zeros"
    layer = Dense(3, "relu", init="scaled_normal")
    assert layer_from_config(layer.get_config()).get_config() == layer.get_config()
    net = Network([Dense(3, "tanh", init="zeros"), Dense(2, "softmax", init="scaled_normal")], input_dim=2)
    loaded = load_network(net.save(tmp_path / "m.mlpk"))
    assert [layer.init for layer in loaded.layers] == ["zeros", "scaled_normal"]


def test_an_unknown_initializer_lists_the_course_ones():
    with pytest.raises(ValueError, match="zeros, scaled_normal"):
        get_initializer("ones")
