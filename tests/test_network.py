"""Network construction, training, prediction, determinism, monitoring and the divergence guard."""

import json
import warnings

import numpy as np
import pytest

from mlpkit import L2, SGD, Callback, Dense, History, Network
from mlpkit.initializers import INITIALIZERS


def blobs(n=600, n_features=6, n_classes=3, seed=0, spread=0.6):
    """Well separated Gaussian clusters: an easy, honest classification problem."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=3.0, size=(n_classes, n_features))
    y = rng.integers(0, n_classes, size=n)
    X = centers[y] + rng.normal(scale=spread, size=(n, n_features))
    return X.astype(np.float32), y


def test_sizes_form_builds_dense_layers():
    net = Network([784, 30, 10])
    assert net.sizes == [784, 30, 10]
    assert net.n_params == 784 * 30 + 30 + 30 * 10 + 10
    assert net.layers[0].params["W"].shape == (784, 30)
    assert net.loss.name == "categorical_crossentropy"
    assert net.dtype == np.float32
    assert "Dense(sigmoid)" in net.summary()


def test_default_loss_follows_the_output_activation():
    assert Network([3, 2], output_activation="sigmoid").loss.name == "binary_crossentropy"
    assert Network([3, 2], output_activation="identity").loss.name == "quadratic"


def test_parameters_are_views_of_one_flat_vector():
    net = Network([5, 4, 3], seed=0)
    net.flat_parameters[:] = 0.5
    assert all((p == 0.5).all() for _, p in net.named_parameters())
    # weights first, so the regularized block is exactly the weights
    assert net.decayed_parameters.size == 5 * 4 + 4 * 3


@pytest.mark.parametrize(("name", "w_var", "b_zero"), [
    ("large", lambda n_in, n_out: 1.0, False),
    ("default", lambda n_in, n_out: 1.0 / n_in, False),
    ("xavier", lambda n_in, n_out: 2.0 / (n_in + n_out), True),
    ("xavier_uniform", lambda n_in, n_out: 2.0 / (n_in + n_out), True),
    ("he", lambda n_in, n_out: 2.0 / n_in, True),
    ("lecun", lambda n_in, n_out: 1.0 / n_in, True),
])
def test_initializer_statistics(name, w_var, b_zero):
    n_in, n_out = 400, 300
    W, b = INITIALIZERS[name](n_in, n_out, np.random.default_rng(0))
    assert W.shape == (n_in, n_out) and b.shape == (n_out,)
    assert abs(W.mean()) < 0.01 * np.sqrt(w_var(n_in, n_out)) * 10
    assert W.var() == pytest.approx(w_var(n_in, n_out), rel=0.02)
    if b_zero:
        assert not b.any()
    else:
        assert b.var() == pytest.approx(1.0, rel=0.2)


def test_learns_an_easy_problem_and_reports_metrics():
    X, y = blobs()
    net = Network([6, 16, 3], seed=0)
    history = net.fit(X[:500], y[:500], epochs=5, batch_size=10, learning_rate=0.5,
                      validation_data=(X[500:], y[500:]), verbose=0)
    assert history.stop_reason == "completed"
    assert len(history) == 5
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "time", "learning_rate"}
    assert history["val_accuracy"][-1] > 0.95
    assert history["loss"][-1] < history["loss"][0]
    assert net.evaluate(X[500:], y[500:])["accuracy"] == pytest.approx(history["val_accuracy"][-1])
    assert (net.predict(X[500:]) == y[500:]).mean() == pytest.approx(history["val_accuracy"][-1])


def test_progress_is_printed_per_epoch(capsys):
    X, y = blobs(n=100)
    Network([6, 3], seed=0).fit(X, y, epochs=2, verbose=1)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("Epoch 2/2") and "accuracy" in lines[1]


def test_integer_and_one_hot_labels_train_identically():
    X, y = blobs(n=200)
    h1 = Network([6, 8, 3], seed=1).fit(X, y, epochs=2, seed=5, verbose=0)
    h2 = Network([6, 8, 3], seed=1).fit(X, np.eye(3)[y], epochs=2, seed=5, verbose=0)
    assert h1["loss"] == h2["loss"]


def test_same_seed_gives_identical_results_and_another_seed_does_not():
    X, y = blobs(n=300)
    runs = []
    for init_seed, fit_seed in [(3, 9), (3, 9), (3, 10)]:
        net = Network([6, 10, 3], seed=init_seed)
        net.fit(X, y, epochs=2, batch_size=7, seed=fit_seed, verbose=0)
        runs.append(net.flat_parameters.copy())
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_float64_on_request():
    X, y = blobs(n=100)
    net = Network([6, 4, 3], dtype="float64", seed=0)
    net.fit(X, y, epochs=1, verbose=0)
    assert net.flat_parameters.dtype == np.float64
    assert net.predict_proba(X).dtype == np.float64
    with pytest.raises(TypeError, match="float32' or 'float64"):
        Network([6, 3], dtype="int32")


def test_one_sgd_step_with_l2_is_network2_weight_decay():
    """w <- (1 - eta*lmbda/n) w - (eta/m) sum_x grad C_x;  b <- b - (eta/m) sum_x grad C_x (Nielsen eq. 93)."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(8, 4)), rng.integers(0, 3, 8)
    eta, lmbda, n = 0.3, 5.0, 1000
    net = Network([4, 5, 3], dtype="float64", seed=2, regularizer=L2(lmbda))
    plain = Network([4, 5, 3], dtype="float64", seed=2)  # same weights, no regularizer
    w_before = {k: v.copy() for k, v in net.named_parameters()}
    plain.compute_gradients(X, np.eye(3)[y])
    data_grads = {k: v.copy() for k, v in plain.named_gradients()}
    net.train_batch(X, np.eye(3)[y], SGD(eta), n_train=n)
    for name, value in net.named_parameters():
        decay = (1 - eta * lmbda / n) if name.endswith("W") else 1.0
        np.testing.assert_allclose(value, decay * w_before[name] - eta * data_grads[name], rtol=1e-13)


def test_reported_cost_includes_the_l2_term_like_network2_total_cost():
    X, y = blobs(n=50)
    net = Network([6, 4, 3], regularizer=L2(2.0), dtype="float64", seed=0)
    bare = Network([6, 4, 3], dtype="float64", seed=0)
    w = np.concatenate([net.layers[0].params["W"].ravel(), net.layers[1].params["W"].ravel()])
    expected = bare.evaluate(X, y)["loss"] + 0.5 * 2.0 / 50 * np.sum(w ** 2)
    assert net.evaluate(X, y)["loss"] == pytest.approx(expected, rel=1e-12)


def test_divergence_stops_training_and_keeps_the_last_good_weights():
    X, y = blobs(n=200)
    X = X * 1e18  # any step of eta=1e22 explodes
    net = Network([6, 4, 3], activation="relu", output_activation="identity", loss="quadratic", seed=0)
    start = net.flat_parameters.copy()
    with pytest.warns(RuntimeWarning, match="diverged in epoch 1"):
        history = net.fit(X, y, epochs=5, learning_rate=1e22, verbose=0)
    assert history.stop_reason == "diverged"
    assert len(history) == 0
    np.testing.assert_array_equal(net.flat_parameters, start)


def test_callback_can_stop_training_and_history_goes_to_json(tmp_path):
    class StopAfterTwo(Callback):
        def on_epoch_end(self, epoch, logs):
            if epoch == 1:
                self.network.stop_training = True

    X, y = blobs(n=100)
    path = tmp_path / "history.json"
    history = Network([6, 3], seed=0).fit(X, y, epochs=10, callbacks=[StopAfterTwo()], verbose=0,
                                           history_file=path)
    assert len(history) == 2 and history.stop_reason == "stopped by callback"
    data = json.loads(path.read_text())
    assert data["history"]["loss"] == history["loss"]
    assert History.from_json(path)["accuracy"] == history["accuracy"]


def test_regression_network_has_no_accuracy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X @ np.array([[1.0], [-2.0], [0.5]])).astype(np.float32)
    net = Network([3, 8, 1], activation="tanh", output_activation="identity", seed=0)
    initial = net.evaluate(X, y)["loss"]
    history = net.fit(X, y, epochs=30, batch_size=10, learning_rate=0.05, verbose=0)
    assert "accuracy" not in history and "accuracy" not in net.evaluate(X, y)
    assert history["loss"][-1] < 0.05 * initial
    assert net.predict(X).shape == (200, 1)


def test_monitoring_can_be_turned_off():
    X, y = blobs(n=100)
    history = Network([6, 3], seed=0).fit(X, y, epochs=1, monitor_training=False, verbose=0)
    assert set(history.history) == {"time", "learning_rate"}


# ------------------------------------------------------------------------------------------ bad input
@pytest.fixture
def net():
    return Network([6, 4, 3], seed=0)


@pytest.mark.parametrize(("X", "message"), [
    (np.zeros(6), "2-D"),
    (np.zeros((5, 7)), "7 features per sample but the network expects 6"),
    (np.zeros((0, 6)), "empty"),
    (np.array([["a"] * 6]), "numeric"),
    (np.full((3, 6), np.nan), "NaN or infinite"),
    (np.array([[np.inf] * 6]), "NaN or infinite"),
])
def test_bad_X_is_refused(net, X, message):
    with pytest.raises((ValueError, TypeError), match=message):
        net.fit(X, np.zeros(len(X), dtype=int), verbose=0)
    with pytest.raises((ValueError, TypeError), match=message):
        net.predict(X)


@pytest.mark.parametrize(("y", "message"), [
    (np.array([0, 1, 3]), r"labels must lie in 0..2"),
    (np.array([0, -1, 2]), r"labels must lie in 0..2"),
    (np.array([0, 1]), "2 rows but X has 3 samples"),
    (np.zeros((3, 4)), r"shape \(3, 3\)"),
    (np.array([0.5, 1.0, 2.0]), "integer class labels"),
    (np.array([[np.nan, 0, 1]] * 3), "NaN"),
])
def test_bad_labels_are_refused(net, y, message):
    with pytest.raises(ValueError, match=message):
        net.fit(np.zeros((3, 6)), y, verbose=0)


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"batch_size": 0}, ValueError, "batch_size must be a positive integer"),
    ({"batch_size": 2.5}, TypeError, "batch_size must be a positive integer"),
    ({"epochs": -1}, ValueError, "epochs must be a positive integer"),
    ({"learning_rate": 0.0}, ValueError, "learning_rate must be a finite number > 0"),
    ({"learning_rate": -0.5}, ValueError, "learning_rate must be a finite number > 0"),
    ({"learning_rate": float("nan")}, ValueError, "learning_rate"),
    ({"optimizer": "sgdd"}, ValueError, "unknown optimizer 'sgdd'"),
    ({"validation_data": np.zeros((3, 6))}, TypeError, r"tuple \(X_val, y_val\)"),
    ({"validation_data": (np.zeros((3, 5)), [0, 1, 2])}, ValueError, "validation_data X has 5 features"),
    ({"callbacks": [print]}, TypeError, "Callback instances"),
])
def test_bad_training_settings_are_refused(net, kwargs, error, message):
    with pytest.raises(error, match=message):
        net.fit(np.zeros((3, 6)), [0, 1, 2], verbose=0, **kwargs)


def test_layer_size_mismatches_are_refused():
    with pytest.raises(ValueError, match=r"layers\[1\] \(Dense\): Dense layer declares input_dim=5 but receives 4"):
        Network([Dense(4, "relu", input_dim=6), Dense(3, "softmax", input_dim=5)])
    with pytest.raises(ValueError, match="needs input_dim"):
        Network([Dense(4), Dense(3, "softmax")])
    with pytest.raises(ValueError, match="at least an input and an output"):
        Network([5])
    with pytest.raises(ValueError, match="positive integer"):
        Network([5, 0, 3])
    with pytest.raises(TypeError, match="all ints"):
        Network([5, Dense(3)])
    with pytest.raises(ValueError, match="has shape"):
        Network([4, 3]).set_weights({"layers.0.W": np.zeros((3, 4)), "layers.0.b": np.zeros(3)})


def test_no_numpy_warnings_during_normal_training():
    X, y = blobs(n=100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Network([6, 5, 3], activation="relu", seed=0).fit(X, y, epochs=2, verbose=0)


@pytest.mark.parametrize("clone", ["deepcopy", "pickle"])
def test_copies_keep_layers_linked_to_the_flat_vector(clone):
    import copy
    import pickle

    X, y = blobs(n=100)
    net = Network([6, 5, 3], seed=0)
    other = copy.deepcopy(net) if clone == "deepcopy" else pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(other.flat_parameters, net.flat_parameters)
    other.fit(X, y, epochs=1, verbose=0)
    assert np.shares_memory(other.layers[0].params["W"], other.flat_parameters)
    assert not np.array_equal(other.predict_proba(X), net.predict_proba(X))  # training reached the layers
    assert not np.shares_memory(other.flat_parameters, net.flat_parameters)


def test_all_finite_is_exact_even_when_the_sum_overflows():
    from mlpkit.validation import all_finite

    X = np.ones((4, 3), dtype=np.float32)
    assert all_finite(X)
    X[1, 2] = 3e38
    X[2, 1] = 3e38  # the sum overflows to inf although every entry is finite
    assert all_finite(X)
    for bad in (np.nan, np.inf, -np.inf):
        Y = X.copy()
        Y[3, 0] = bad
        assert not all_finite(Y)
