"""Inverted dropout: expected activation preserved, identity at inference, seeded masks, exact gradients."""

import numpy as np
import pytest

from mlpkit import Dense, Dropout, Network, gradcheck, load_network


def built(keep_prob, n=50, dtype=np.float32, seed=0):
    layer = Dropout(keep_prob)
    layer.build(n, np.random.default_rng(0), np.dtype(dtype))
    layer.rng = np.random.default_rng(seed)
    return layer


@pytest.mark.parametrize("keep_prob", [0.2, 0.5, 0.8])
def test_mean_activation_is_preserved(keep_prob):
    m, n = 4000, 50
    x = np.full((m, n), 2.0, dtype=np.float32)
    a = built(keep_prob, n).forward(x, training=True)
    kept = a != 0
    # kept units are scaled by 1/keep_prob, so E[a] = x; the sample mean has sd 2 sqrt((1-p)/p) / sqrt(m n)
    sd = 2.0 * np.sqrt((1 - keep_prob) / keep_prob) / np.sqrt(m * n)
    assert abs(a.mean() - 2.0) < 5 * sd
    assert abs(kept.mean() - keep_prob) < 5 * np.sqrt(keep_prob * (1 - keep_prob) / (m * n))
    np.testing.assert_allclose(a[kept], 2.0 / keep_prob, rtol=1e-6)


def test_inference_is_the_identity_and_deterministic():
    layer = built(0.5)
    x = np.random.default_rng(1).normal(size=(8, 50)).astype(np.float32)
    assert layer.forward(x, training=False) is x
    net = Network([Dense(20, "relu"), Dropout(0.5), Dense(3, "softmax")], input_dim=6, seed=0)
    X = np.random.default_rng(2).normal(size=(30, 6))
    first = net.predict_proba(X)
    np.testing.assert_array_equal(first, net.predict_proba(X))
    # with dropout at inference being the identity, the network equals the same weights without the layer
    bare = Network([Dense(20, "relu"), Dense(3, "softmax")], input_dim=6, seed=0)
    bare.flat_parameters[:] = net.flat_parameters
    np.testing.assert_allclose(first, bare.predict_proba(X), rtol=1e-6)


def test_backward_uses_the_forward_mask():
    layer = built(0.6, dtype=np.float64)
    x = np.random.default_rng(3).normal(size=(10, 50))
    a = layer.forward(x, training=True)
    grad = layer.backward(np.ones_like(x))
    np.testing.assert_allclose(grad, np.where(a != 0, 1 / 0.6, 0.0))


def test_keep_prob_one_is_the_identity_in_training():
    layer = built(1.0)
    x = np.ones((3, 50), dtype=np.float32)
    assert layer.forward(x, training=True) is x
    g = np.ones_like(x)
    assert layer.backward(g) is g


def test_masks_follow_the_fit_seed():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 5)), rng.integers(0, 3, 60)

    def train(seed):
        net = Network([Dense(16, "relu"), Dropout(0.5), Dense(3, "softmax")], input_dim=5, seed=0)
        net.fit(X, y, epochs=2, seed=seed, verbose=0)
        return net.flat_parameters.copy()

    np.testing.assert_array_equal(train(1), train(1))
    assert not np.array_equal(train(1), train(2))


def test_gradcheck_with_fixed_masks():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(9, 4)), rng.integers(0, 3, 9)
    net = Network([Dropout(0.8), Dense(7, "tanh"), Dropout(0.5), Dense(5, "sigmoid"), Dropout(0.7),
                   Dense(3, "softmax")], input_dim=4, dtype="float64", seed=1)
    assert gradcheck(net, X, y).relative_difference < 1e-7


def test_training_pass_without_a_generator_is_explained():
    net = Network([Dense(4, "relu"), Dropout(0.5), Dense(2, "softmax")], input_dim=3, seed=0)
    with pytest.raises(RuntimeError, match="training_rng"):
        net.compute_gradients(np.ones((2, 3), dtype=np.float32), np.eye(2, dtype=np.float32))
    net.training_rng = np.random.default_rng(0)
    assert net.layers[1].rng is net.training_rng
    net.compute_gradients(np.ones((2, 3), dtype=np.float32), np.eye(2, dtype=np.float32))


def test_fit_clears_the_generator_afterwards():
    net = Network([Dense(4, "relu"), Dropout(0.5), Dense(2, "softmax")], input_dim=3, seed=0)
    net.fit(np.ones((4, 3)), [0, 1, 0, 1], epochs=1, verbose=0)
    assert net.training_rng is None and net.layers[1].rng is None


@pytest.mark.parametrize("keep_prob", [0.0, -0.5, 1.5])
def test_keep_prob_must_be_a_probability(keep_prob):
    with pytest.raises(ValueError, match="keep_prob must be"):
        Dropout(keep_prob)


def test_saved_and_loaded(tmp_path):
    net = Network([Dense(4, "relu"), Dropout(0.3), Dense(2, "softmax")], input_dim=3, seed=0)
    loaded = load_network(net.save(tmp_path / "d.mlpk"))
    assert loaded.layers[1].keep_prob == 0.3
    X = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))
