"""Input normalization: statistics of the training split only, applied everywhere, stored in the model."""

import numpy as np
import pytest

from mlpkit import L1, L2, BatchNorm, Dense, Dropout, Network, Standardize, gradcheck, load_network


def data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(loc=[100.0, -3.0, 0.0, 7.0], scale=[20.0, 0.01, 1.0, 0.0], size=(n, 4))  # last one constant
    y = (X[:, 0] > 100).astype(int) + (X[:, 2] > 0).astype(int)
    return X, y


def test_adapt_computes_mean_and_std_and_leaves_constant_features_unscaled():
    X, _ = data()
    layer = Standardize()
    layer.adapt(X)
    np.testing.assert_allclose(layer.state["mean"], X.mean(axis=0))
    np.testing.assert_allclose(layer.state["std"], [*X.std(axis=0)[:3], 1.0])  # std 0 -> 1: centred only
    assert layer.adapted and layer.state["count"][0] == len(X)
    out = layer.forward(X)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(out.std(axis=0), [1.0, 1.0, 1.0, 0.0], atol=1e-9)
    # a test example with a value where training was constant is shifted, not blown up
    assert layer.forward(np.array([[100.0, -3.0, 0.0, 8.0]]))[0, 3] == pytest.approx(1.0)


def test_fit_adapts_on_the_training_split_only():
    X, y = data()
    Xv, yv = data(seed=1)
    Xv = Xv * 3 + 50  # a validation set from another distribution must not leak into the statistics
    net = Network([Standardize(), Dense(8, "tanh"), Dense(3, "softmax")], input_dim=4, seed=0)
    assert not net.layers[0].adapted
    net.fit(X, y, epochs=2, validation_data=(Xv, yv), verbose=0)
    np.testing.assert_allclose(net.layers[0].state["mean"], X.mean(axis=0), rtol=1e-6)
    # a second fit (e.g. fine-tuning on other data) keeps the statistics the weights were trained with
    net.fit(Xv, yv, epochs=1, verbose=0)
    np.testing.assert_allclose(net.layers[0].state["mean"], X.mean(axis=0), rtol=1e-6)


def test_prediction_applies_the_same_transform():
    X, y = data()
    net = Network([Standardize(), Dense(8, "tanh"), Dense(3, "softmax")], input_dim=4, seed=0)
    net.fit(X, y, epochs=3, verbose=0)
    bare = Network([Dense(8, "tanh"), Dense(3, "softmax")], input_dim=4, seed=0)
    bare.flat_parameters[:] = net.flat_parameters
    Xt, _ = data(seed=2)
    scaled = (Xt - net.layers[0].state["mean"]) / net.layers[0].state["std"]
    np.testing.assert_allclose(net.predict_proba(Xt), bare.predict_proba(scaled), rtol=1e-5, atol=1e-7)


def test_standardization_makes_badly_scaled_inputs_learnable():
    X, y = data()
    plain = Network([4, 16, 3], activation="tanh", seed=0)
    normed = Network([Standardize(), Dense(16, "tanh"), Dense(3, "softmax")], input_dim=4, seed=0)
    acc = {name: net.fit(X, y, epochs=25, learning_rate=0.1, seed=0, verbose=0)["accuracy"][-1]
           for name, net in (("plain", plain), ("normed", normed))}
    assert acc["normed"] > 0.9 and acc["plain"] < 0.6


def test_saved_model_normalizes_by_itself(tmp_path):
    X, y = data()
    net = Network([Standardize(), Dense(8, "relu"), Dropout(0.8), Dense(3, "softmax")], input_dim=4, seed=0)
    net.fit(X, y, epochs=2, verbose=0)
    loaded = load_network(net.save(tmp_path / "n.mlpk"))
    assert loaded.layers[0].adapted
    Xt, _ = data(seed=3)
    np.testing.assert_array_equal(loaded.predict_proba(Xt), net.predict_proba(Xt))
    before = loaded.layers[0].state["mean"].copy()
    loaded.fit(Xt * 10, y, epochs=1, verbose=0)  # a loaded model is never re-adapted by fit
    np.testing.assert_array_equal(loaded.layers[0].state["mean"], before)


def test_adapt_before_building_and_explicit_network_adapt():
    X, _ = data()
    layer = Standardize()
    layer.adapt(X[:100])
    net = Network([layer, Dense(3, "softmax")], input_dim=4, dtype="float32", seed=0)
    assert net.layers[0].state["mean"].dtype == np.float32
    np.testing.assert_allclose(net.layers[0].state["mean"], X[:100].mean(axis=0), rtol=1e-6)
    net.adapt(X)  # explicit: recomputes
    np.testing.assert_allclose(net.layers[0].state["mean"], X.mean(axis=0), rtol=1e-6)
    with pytest.raises(ValueError, match="adapted on 4 features but receives 5"):
        Network([layer, Dense(3, "softmax")], input_dim=5)


def test_bad_input():
    layer = Standardize()
    with pytest.raises(ValueError, match="must be 2-D"):
        layer.adapt(np.ones(5))
    with pytest.raises(ValueError, match="NaN"):
        layer.adapt(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="eps must be"):
        Standardize(eps=0)


def test_gradcheck_through_a_stack_of_every_layer_kind():
    X, y = data(n=9)
    net = Network([Standardize(), Dropout(0.9), Dense(6, use_bias=False), BatchNorm(activation="tanh"), Dropout(0.7),
                   Dense(5, "relu", regularizer=L1(0.3)), Dense(3, use_bias=False), BatchNorm(activation="softmax")],
                  input_dim=4, regularizer=L2(0.5), dtype="float64", seed=1)
    net.adapt(X)
    w = net.layers[5].params["W"]
    w += 0.01 * np.sign(w)  # L1 away from its kink at 0
    assert gradcheck(net, X, y, n_train=20).relative_difference < 1e-7
