"""Batch normalization: batch statistics in training, running statistics at inference, exact gradients."""

import numpy as np
import pytest

from mlpkit import Adam, BatchNorm, Dense, ExponentialMovingAverage, Network, gradcheck, load_network


def built(momentum=0.9, eps=1e-5, activation=None, n=4, dtype=np.float64):
    layer = BatchNorm(momentum=momentum, eps=eps, activation=activation)
    layer.build(n, np.random.default_rng(0), np.dtype(dtype))
    return layer


def test_training_output_is_normalized_per_unit():
    rng = np.random.default_rng(0)
    x = rng.normal(loc=[1.0, -5.0, 20.0, 0.0], scale=[0.1, 3.0, 7.0, 1.0], size=(64, 4))
    layer = built(eps=1e-12)
    out = layer.forward(x, training=True)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), 1.0, rtol=1e-9)
    layer.params["gamma"][:] = [1.0, 2.0, 3.0, 4.0]
    layer.params["beta"][:] = [0.5, 0.0, -1.0, 2.0]
    out = layer.forward(x, training=True)
    np.testing.assert_allclose(out.mean(axis=0), [0.5, 0.0, -1.0, 2.0], atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), [1.0, 2.0, 3.0, 4.0], rtol=1e-9)


def test_running_statistics_are_bias_corrected_ewas_of_the_batch_statistics():
    rng = np.random.default_rng(1)
    layer = built(momentum=0.9)
    means, variances = ExponentialMovingAverage(0.9), ExponentialMovingAverage(0.9)
    for step in range(1, 6):
        x = rng.normal(loc=step, scale=step, size=(16, 4))
        layer.forward(x, training=True)
        means.update(x.mean(axis=0))
        variances.update(x.var(axis=0))  # the biased batch variance of the formula, 1/m
        if step == 1:  # the first bias-corrected average is the first batch's statistics
            np.testing.assert_allclose(layer.state["running_mean"], x.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(layer.state["running_mean"], means.corrected, rtol=1e-12)
    np.testing.assert_allclose(layer.state["running_var"], variances.corrected, rtol=1e-12)
    assert layer.state["steps"][0] == 5


def test_inference_uses_the_running_statistics():
    rng = np.random.default_rng(2)
    layer = built(momentum=0.5, eps=1e-3)
    layer.params["gamma"][:] = [1.0, 2.0, 0.5, 1.5]
    layer.params["beta"][:] = [0.1, -0.2, 0.3, 0.0]
    for _ in range(3):
        layer.forward(rng.normal(size=(8, 4)) * 3 + 1, training=True)
    mean, var = layer.state["running_mean"].copy(), layer.state["running_var"].copy()
    x = rng.normal(size=(5, 4))
    expected = layer.params["gamma"] * (x - mean) / np.sqrt(var + 1e-3) + layer.params["beta"]
    np.testing.assert_allclose(layer.forward(x, training=False), expected, rtol=1e-12)
    # inference leaves the statistics alone and does not depend on the batch: one row gives the same answer
    np.testing.assert_array_equal(layer.state["running_mean"], mean)
    np.testing.assert_allclose(layer.forward(x[:1], training=False), expected[:1], rtol=1e-12)


@pytest.mark.parametrize("activation", [None, "relu", "tanh", "sigmoid"])
def test_gradcheck_in_training_mode(activation):
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(10, 5)), rng.integers(0, 3, 10)
    net = Network([Dense(6, use_bias=False), BatchNorm(activation=activation), Dense(4, "tanh"),
                   Dense(3, use_bias=False), BatchNorm(activation="softmax")],
                  input_dim=5, dtype="float64", seed=4)
    net.layers[1].params["gamma"][:] = rng.uniform(0.5, 2.0, 6)
    net.layers[1].params["beta"][:] = rng.normal(size=6)
    result = gradcheck(net, X, y)
    assert result.relative_difference < 1e-7, str(result)


def test_gamma_and_beta_are_not_decayed():
    net = Network([Dense(6, use_bias=False), BatchNorm(activation="relu"), Dense(3, "softmax")], input_dim=5)
    assert net.decayed_parameters.size == 5 * 6 + 6 * 3
    assert net.n_params == 5 * 6 + 2 * 6 + 6 * 3 + 3


def test_matches_torch_batchnorm_in_training():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.normal(size=(12, 4)) * 2 + 1
    gamma, beta = rng.uniform(0.5, 2.0, 4), rng.normal(size=4)
    upstream = rng.normal(size=(12, 4))
    layer = built(eps=1e-5)
    layer.params["gamma"][:], layer.params["beta"][:] = gamma, beta
    out = layer.forward(x, training=True)
    dx = layer.backward(upstream.copy())
    bn = torch.nn.BatchNorm1d(4, eps=1e-5).double()
    with torch.no_grad():
        bn.weight[:], bn.bias[:] = torch.tensor(gamma), torch.tensor(beta)
    tx = torch.tensor(x, requires_grad=True)
    tout = bn(tx)
    tout.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.grads["gamma"], bn.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(layer.grads["beta"], bn.bias.grad.numpy(), rtol=1e-10)


def _blobs(n=300, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=3.0, size=(3, 6))
    y = rng.integers(0, 3, n)
    return (centers[y] + rng.normal(size=(n, 6)) + 10.0).astype(np.float32), y  # far from zero-mean


def test_trains_and_round_trips_through_a_file(tmp_path):
    X, y = _blobs()
    net = Network([Dense(32, use_bias=False), BatchNorm(activation="relu"), Dense(3, "softmax")], input_dim=6, seed=0)
    history = net.fit(X, y, epochs=5, batch_size=20, optimizer=Adam(0.01), seed=0, verbose=0)
    assert history["accuracy"][-1] > 0.95
    assert net.layers[1].state["steps"][0] == 5 * 15
    loaded = load_network(net.save(tmp_path / "bn.mlpk"))
    for name, value in net.named_states():
        np.testing.assert_array_equal(dict(loaded.named_states())[name], value)
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))


def test_copy_and_astype_keep_the_running_statistics():
    X, y = _blobs(60)
    net = Network([Dense(8, use_bias=False), BatchNorm(activation="tanh"), Dense(3, "softmax")], input_dim=6, seed=0)
    net.fit(X, y, epochs=1, verbose=0)
    np.testing.assert_allclose(net.astype("float64").predict_proba(X), net.predict_proba(X), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"momentum": 1.0}, "momentum must be in"),
    ({"momentum": -0.1}, "momentum must be in"),
    ({"eps": 0.0}, "eps must be"),
    ({"activation": "swish"}, "unknown activation"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BatchNorm(**kwargs)
