"""L1 and L2, global and per layer: penalties, gradients, Nielsen's update rules, gradient checks, saving."""

import numpy as np
import pytest

from mlpkit import L1, L2, SGD, Dense, Network, gradcheck, load_network


def data(n=12, d=4, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.integers(0, k, n)


def test_l1_penalty_and_gradient_by_hand():
    w = np.array([0.5, -0.2, 0.0])
    reg = L1(2.0)
    # (lmbda / n) sum |w| = 2/4 * 0.7; gradient (lmbda / n) sgn(w) with sgn(0) = 0 (Nielsen eq. (95)-(97))
    assert reg.penalty(w, 4) == pytest.approx(0.35)
    grad = np.ones(3)
    reg.add_gradient(w, grad, 4)
    np.testing.assert_array_equal(grad, [1.5, 0.5, 1.0])


def test_l2_penalty_and_gradient_by_hand():
    w = np.array([0.5, -0.2, 0.0])
    reg = L2(2.0)
    assert reg.penalty(w, 4) == pytest.approx(0.5 * 2 / 4 * 0.29)  # (lmbda / 2n) sum w^2
    grad = np.zeros(3)
    reg.add_gradient(w, grad, 4)
    np.testing.assert_allclose(grad, [0.25, -0.1, 0.0])


@pytest.mark.parametrize(("reg", "rule"), [
    (L1(3.0), lambda w, eta, lmbda, n, g0: w - eta * lmbda / n * np.sign(w) - eta * g0),   # Nielsen eq. (97)
    (L2(3.0), lambda w, eta, lmbda, n, g0: (1 - eta * lmbda / n) * w - eta * g0),           # Nielsen eq. (93)
])
def test_sgd_step_is_nielsens_update_rule(reg, rule):
    X, y = data()
    net = Network([4, 5, 3], regularizer=reg, dtype="float64", seed=1)
    plain = Network([4, 5, 3], dtype="float64", seed=1)
    n_train, eta = 50, 0.2
    w = net.decayed_parameters.copy()
    g0 = plain.compute_gradients(X, np.eye(3)[y], n_train)[:w.size].copy()  # dC0/dw, unregularized
    net.train_batch(X, np.eye(3)[y], SGD(eta), n_train)
    np.testing.assert_allclose(net.decayed_parameters, rule(w, eta, 3.0, n_train, g0), rtol=1e-13, atol=1e-15)


def _away_from_zero(net, margin=1e-2):
    w = net.decayed_parameters
    w += margin * np.sign(w)  # L1 is not differentiable at 0: keep every weight well away from it


def test_gradcheck_l1_away_from_zero():
    X, y = data()
    net = Network([4, 6, 3], activation="tanh", regularizer=L1(0.8), dtype="float64", seed=2)
    _away_from_zero(net)
    assert gradcheck(net, X, y, n_train=30).relative_difference < 1e-7


def test_per_layer_regularizer_replaces_the_global_one_for_that_layer():
    X, y = data()
    layers = [Dense(5, "tanh", regularizer=L1(0.7)), Dense(4, "tanh"), Dense(3, "softmax", regularizer=L2(0))]
    net = Network(layers, input_dim=4, regularizer=L2(0.5), dtype="float64", seed=3)
    plain = Network([Dense(5, "tanh"), Dense(4, "tanh"), Dense(3, "softmax")], input_dim=4, dtype="float64", seed=3)
    np.testing.assert_array_equal(net.flat_parameters, plain.flat_parameters)
    n = 20
    Y = np.eye(3)[y]
    extra = net.compute_gradients(X, Y, n).copy() - plain.compute_gradients(X, Y, n)
    W0, W1 = (layer.params["W"] for layer in net.layers[:2])
    i0, i1 = W0.size, W0.size + W1.size
    np.testing.assert_allclose(extra[:i0], 0.7 / n * np.sign(W0.ravel()), atol=1e-12)   # layer 0: its own L1
    np.testing.assert_allclose(extra[i0:i1], 0.5 / n * W1.ravel(), atol=1e-12)         # layer 1: the global L2
    np.testing.assert_allclose(extra[i1:], 0.0, atol=1e-12)                             # layer 2: exempt, and biases
    penalty = 0.7 / n * np.abs(W0).sum() + 0.25 / n * (W1 ** 2).sum()
    assert net.objective(X, Y, n) == pytest.approx(plain.objective(X, Y, n) + penalty, rel=1e-12)
    assert net.evaluate(X, y)["loss"] == pytest.approx(plain.evaluate(X, y)["loss"] + penalty * n / len(X), rel=1e-9)


def test_per_layer_regularizer_without_a_global_one_and_gradcheck():
    X, y = data()
    net = Network([Dense(6, "sigmoid", regularizer=L1(0.4)), Dense(5, "relu", regularizer=L2(0.9)),
                   Dense(3, "softmax")], input_dim=4, dtype="float64", seed=4)
    _away_from_zero(net)
    assert net.regularizer is None
    assert len(net.penalty_ranges()) == 2
    assert gradcheck(net, X, y).relative_difference < 1e-7


def test_global_regularizer_is_one_range_over_all_weights():
    net = Network([4, 6, 5, 3], regularizer=L2(1.0))
    assert net.penalty_ranges() == [(net.regularizer, 0, net.decayed_parameters.size)]


def test_per_layer_regularizer_is_saved(tmp_path):
    X, _ = data()
    net = Network([Dense(5, "relu", regularizer=L1(0.3)), Dense(3, "softmax")], input_dim=4, regularizer=L2(2.0),
                  seed=0)
    assert net.get_config()["layers"][0]["regularizer"] == {"name": "l1", "lmbda": 0.3}
    assert "regularizer" not in net.get_config()["layers"][1]
    loaded = load_network(net.save(tmp_path / "m.mlpk"))
    assert loaded.get_config() == net.get_config()
    assert loaded._penalty(10) == pytest.approx(net._penalty(10))
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))


def test_bad_layer_regularizer():
    with pytest.raises(TypeError, match="regularizer must be"):
        Dense(3, regularizer=0.5)
    with pytest.raises(ValueError, match="lmbda must be"):
        Dense(3, regularizer=L1(-1.0))


def test_l1_drives_many_weights_to_near_zero_more_than_l2():
    # Nielsen ch.3: L1 concentrates the weights in a few important connections, L2 shrinks all of them
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 10))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    nets = {}
    for name, reg in (("l1", L1(3.0)), ("l2", L2(3.0))):
        nets[name] = Network([10, 2], regularizer=reg, seed=0)
        nets[name].fit(X, y, epochs=30, batch_size=10, learning_rate=0.5, seed=0, verbose=0)
    small = {k: np.mean(np.abs(n.layers[0].params["W"][2:]) < 0.02) for k, n in nets.items()}
    assert small["l1"] > small["l2"] + 0.3
