"""mlpkit.compat.network2: Nielsen's network2 API (ch.3) on top of mlpkit.

The reference computations here are written the book's way (one column vector at a time, Nielsen ch.2
BP1-BP4 and eq. (93)), independently of mlpkit, and compared with the vectorized compat layer.
"""
# ruff: noqa: NPY002  (network2 draws from numpy's global generator, seeded with np.random.seed: tested here)

from __future__ import annotations

import json
import os
import random
import re
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mlpkit import L2, ModelFileError
from mlpkit import Network as MLPKitNetwork
from mlpkit.compat import mnist_loader, network2

SIZES = [6, 5, 3]


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _make_data(n: int, seed: int, *, vector_labels: bool, sizes=SIZES):
    """Separable-ish toy data in the book's formats: (x (n_in, 1), y (n_out, 1)) or (x, int)."""
    n_in, n_out = sizes[0], sizes[-1]
    centers = np.random.default_rng(1234).normal(0, 2, size=(n_out, n_in))  # the same classes in every sample
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_out, size=n)
    X = centers[labels] + rng.normal(0, 1, size=(n, n_in))
    data = []
    for x, label in zip(X, labels, strict=True):
        y = network2.vectorized_result(int(label), n_out) if vector_labels else int(label)
        data.append((x.reshape(-1, 1), y))
    return data


def _reference_feedforward(net, a):
    for b, w in zip(net.biases, net.weights, strict=True):
        a = _sigmoid(w @ a + b)
    return a


def _reference_backprop(net, x, y):
    """Per-example backpropagation as in Nielsen ch.2 (BP1-BP4), columns, sigmoid everywhere."""
    activation, activations, zs = x, [x], []
    for b, w in zip(net.biases, net.weights, strict=True):
        z = w @ activation + b
        zs.append(z)
        activation = _sigmoid(z)
        activations.append(activation)
    delta = net.cost.delta(zs[-1], activations[-1], y)
    nabla_b = [None] * len(net.biases)
    nabla_w = [None] * len(net.weights)
    nabla_b[-1], nabla_w[-1] = delta, delta @ activations[-2].T
    for layer in range(2, net.num_layers):
        s = _sigmoid(zs[-layer])
        delta = (net.weights[-layer + 1].T @ delta) * s * (1 - s)
        nabla_b[-layer], nabla_w[-layer] = delta, delta @ activations[-layer - 1].T
    return nabla_b, nabla_w


# ------------------------------------------------------------------------------------------ structure
def test_network_attributes_follow_network2():
    net = network2.Network(SIZES, cost=network2.QuadraticCost, seed=1)
    assert net.num_layers == 3 and net.sizes == SIZES and net.cost is network2.QuadraticCost
    assert [w.shape for w in net.weights] == [(5, 6), (3, 5)]
    assert [b.shape for b in net.biases] == [(5, 1), (3, 1)]
    assert all(w.dtype == np.float64 for w in net.weights + net.biases)
    assert network2.Network(SIZES).cost is network2.CrossEntropyCost
    assert repr(net) == "network2.Network([6, 5, 3], cost=network2.QuadraticCost)"


def test_weights_and_biases_are_live_and_assignable():
    net = network2.Network(SIZES, seed=2)
    x = np.linspace(-1, 1, 6).reshape(-1, 1)
    net.weights[1][0, 0] += 1.0  # in-place edits reach the network (views)
    np.testing.assert_allclose(net.feedforward(x), _reference_feedforward(net, x), rtol=1e-14)
    new_w = [np.full((5, 6), 0.1), np.full((3, 5), -0.2)]
    new_b = [np.zeros((5, 1)), np.arange(3.0)]  # a flat bias vector is accepted too
    net.weights, net.biases = new_w, new_b
    np.testing.assert_array_equal(net.weights[0], new_w[0])
    np.testing.assert_array_equal(net.biases[1], np.arange(3.0).reshape(3, 1))
    np.testing.assert_allclose(net.feedforward(x), _reference_feedforward(net, x), rtol=1e-14)
    net.weights[0] = np.zeros((5, 6))  # replacing one array, as in the original's list
    net.biases[-1] = np.ones((3, 1))
    np.testing.assert_array_equal(net.weights[0], 0.0)
    np.testing.assert_array_equal(net.feedforward(x), _reference_feedforward(net, x))
    np.testing.assert_array_equal(net.network.layers[1].params["b"], 1.0)
    with pytest.raises(ValueError, match=r"weights\[1\] has shape"):
        net.weights = [np.zeros((5, 6)), np.zeros((5, 3))]
    with pytest.raises(ValueError, match=r"weights\[1\] has shape"):
        net.weights[1] = np.zeros((5, 3))
    with pytest.raises(IndexError):
        net.biases[2] = np.zeros((3, 1))
    with pytest.raises(ValueError, match="list of 2 arrays"):
        net.biases = [np.zeros((5, 1))]


def test_invalid_construction_is_refused():
    with pytest.raises(TypeError, match=r"CrossEntropyCost or network2\.QuadraticCost"):
        network2.Network(SIZES, cost="CrossEntropyCost")
    with pytest.raises(ValueError, match="at least an input and an output"):
        network2.Network([784])
    with pytest.raises(ValueError, match=r"sizes\[1\]"):
        network2.Network([784, 0, 10])


# ------------------------------------------------------------------------------------ initialization
def test_initializers_draw_the_book_way_from_numpys_global_generator():
    np.random.seed(123)
    net = network2.Network([4, 3, 2])
    np.random.seed(123)
    biases = [np.random.randn(3, 1), np.random.randn(2, 1)]
    weights = [np.random.randn(3, 4) / np.sqrt(4), np.random.randn(2, 3) / np.sqrt(3)]
    for got, want in zip(net.biases + net.weights, biases + weights, strict=True):
        np.testing.assert_array_equal(got, want)
    np.random.seed(5)
    net.large_weight_initializer()
    np.random.seed(5)
    biases = [np.random.randn(3, 1), np.random.randn(2, 1)]
    weights = [np.random.randn(3, 4), np.random.randn(2, 3)]
    for got, want in zip(net.biases + net.weights, biases + weights, strict=True):
        np.testing.assert_array_equal(got, want)


def test_default_and_large_initializer_statistics():
    net = network2.Network([900, 400, 10], seed=0)  # default_weight_initializer: W ~ N(0, 1/900)
    w, b = net.weights[0], net.biases[0]
    assert abs(w.mean()) < 1e-3 and w.std() == pytest.approx(1 / 30, rel=0.01)
    assert abs(b.mean()) < 0.15 and b.std() == pytest.approx(1.0, rel=0.1)
    net.large_weight_initializer()  # W ~ N(0, 1)
    w = net.weights[0]
    assert abs(w.mean()) < 0.01 and w.std() == pytest.approx(1.0, rel=0.01)
    assert net.biases[0].std() == pytest.approx(1.0, rel=0.1)


# ------------------------------------------------------------------------------------------------ costs
def test_cost_fn_and_delta_values():
    a = np.array([[0.9], [0.2], [0.5]])
    y = np.array([[1.0], [0.0], [0.0]])
    z = np.log(a / (1 - a))  # a = sigma(z)
    ce = network2.CrossEntropyCost
    assert ce.fn(a, y) == pytest.approx(-(np.log(0.9) + np.log(0.8) + np.log(0.5)), rel=1e-14)
    np.testing.assert_allclose(ce.delta(z, a, y), a - y)
    quad = network2.QuadraticCost
    assert quad.fn(a, y) == pytest.approx(0.5 * (0.01 + 0.04 + 0.25), rel=1e-14)
    np.testing.assert_allclose(quad.delta(z, a, y), (a - y) * a * (1 - a), rtol=1e-12)
    # nan_to_num as the book: exact 0/1 outputs give a finite cost, 0 for a perfect answer
    assert ce.fn(y, y) == 0.0
    assert np.isfinite(ce.fn(np.array([[1.0]]), np.array([[0.0]])))
    np.testing.assert_allclose(network2.sigmoid_prime(np.array([0.0, 2.0])),
                               [0.25, _sigmoid(2.0) * (1 - _sigmoid(2.0))], rtol=1e-14)


def test_vectorized_result():
    e = network2.vectorized_result(3)
    assert e.shape == (10, 1) and e.dtype == np.float64 and e[3, 0] == 1.0 and e.sum() == 1.0
    assert mnist_loader.vectorized_result is network2.vectorized_result
    with pytest.raises(ValueError):
        network2.vectorized_result(10)


# ------------------------------------------------------------------------------------------ computation
def test_feedforward_shapes_and_values():
    net = network2.Network(SIZES, seed=3)
    rng = np.random.default_rng(0)
    columns = rng.normal(size=(6, 4))
    out = net.feedforward(columns[:, :1])
    assert out.shape == (3, 1)
    np.testing.assert_allclose(out, _reference_feedforward(net, columns[:, :1]), rtol=1e-14)
    batch = net.feedforward(columns)
    assert batch.shape == (3, 4)
    np.testing.assert_allclose(batch, _reference_feedforward(net, columns), rtol=1e-14)
    assert net.feedforward(columns[:, 0]).shape == (3,)
    with pytest.raises(ValueError, match=r"column vector of shape \(6, 1\)"):
        net.feedforward(np.zeros((1, 6)))


@pytest.mark.parametrize("cost", [network2.CrossEntropyCost, network2.QuadraticCost])
def test_backprop_matches_the_per_example_algorithm(cost):
    net = network2.Network(SIZES, cost=cost, seed=4)
    x, y = _make_data(1, 0, vector_labels=True)[0]
    nabla_b, nabla_w = net.backprop(x, y)
    ref_b, ref_w = _reference_backprop(net, x, y)
    for got, want in zip(nabla_b + nabla_w, ref_b + ref_w, strict=True):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("cost", [network2.CrossEntropyCost, network2.QuadraticCost])
def test_one_step_is_the_weight_decay_formula(cost):
    """Nielsen eq. (93): w <- (1 - eta lmbda / n) w - (eta / m) sum_x nabla_w C_x; b <- b - (eta / m) sum_x nabla_b."""
    net = network2.Network(SIZES, cost=cost, seed=5)
    batch = _make_data(7, 1, vector_labels=True)
    eta, lmbda, n = 0.7, 3.0, 50
    sums_b = [np.zeros_like(b) for b in net.biases]
    sums_w = [np.zeros_like(w) for w in net.weights]
    for x, y in batch:
        db, dw = _reference_backprop(net, x, y)
        sums_b = [s + d for s, d in zip(sums_b, db, strict=True)]
        sums_w = [s + d for s, d in zip(sums_w, dw, strict=True)]
    m = len(batch)
    want_w = [(1 - eta * lmbda / n) * w - (eta / m) * s for w, s in zip(net.weights, sums_w, strict=True)]
    want_b = [b - (eta / m) * s for b, s in zip(net.biases, sums_b, strict=True)]
    net.update_mini_batch(batch, eta, lmbda, n)
    for got, want in zip(net.weights + net.biases, want_w + want_b, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    assert net.network.regularizer is None  # lmbda applies to that step only


# ---------------------------------------------------------------------------------------------- SGD
def test_sgd_returns_the_four_lists_and_prints_like_the_book(capsys):
    training_data = _make_data(60, 2, vector_labels=True)
    evaluation_data = _make_data(25, 3, vector_labels=False)
    net = network2.Network(SIZES, seed=6)
    results = net.SGD(training_data, 3, 10, 0.5, lmbda=1.0, evaluation_data=evaluation_data,
                      monitor_evaluation_cost=True, monitor_evaluation_accuracy=True,
                      monitor_training_cost=True, monitor_training_accuracy=True)
    evaluation_cost, evaluation_accuracy, training_cost, training_accuracy = results
    assert isinstance(results, tuple) and all(len(r) == 3 for r in results)
    assert all(type(c) is float for c in evaluation_cost + training_cost)
    assert all(type(k) is int for k in evaluation_accuracy + training_accuracy)
    assert all(0 <= k <= 25 for k in evaluation_accuracy) and all(0 <= k <= 60 for k in training_accuracy)
    lines = capsys.readouterr().out.splitlines()
    assert lines[:6] == [
        "Epoch 0 training complete",
        f"Cost on training data: {training_cost[0]}",
        f"Accuracy on training data: {training_accuracy[0]} / 60",
        f"Cost on evaluation data: {evaluation_cost[0]}",
        f"Accuracy on evaluation data: {evaluation_accuracy[0]} / 25",
        "",
    ]
    assert lines[12] == "Epoch 2 training complete" and len(lines) == 18

    assert net.SGD(training_data, 2, 10, 0.5) == ([], [], [], [])
    assert capsys.readouterr().out.splitlines() == ["Epoch 0 training complete", "", "Epoch 1 training complete", ""]


def test_monitored_values_are_accuracy_and_total_cost_with_the_evaluation_size_quirk(capsys):
    training_data = _make_data(40, 4, vector_labels=True)
    evaluation_data = _make_data(15, 5, vector_labels=False)
    net = network2.Network(SIZES, seed=7)
    lmbda = 4.0
    ec, ea, tc, ta = net.SGD(training_data, 1, 8, 0.3, lmbda=lmbda, evaluation_data=evaluation_data,
                             monitor_evaluation_cost=True, monitor_evaluation_accuracy=True,
                             monitor_training_cost=True, monitor_training_accuracy=True)
    assert ta == [net.accuracy(training_data, convert=True)]
    assert ea == [net.accuracy(evaluation_data)]
    assert tc == [net.total_cost(training_data, lmbda)]
    assert ec == [net.total_cost(evaluation_data, lmbda, convert=True)]
    # network2.total_cost, written out: mean fn + 0.5 (lmbda / len(data)) sum ||w||^2, len(data) = 15 here
    squares = sum(float(np.sum(w * w)) for w in net.weights)
    mean_cost = np.mean([net.cost.fn(net.feedforward(x), network2.vectorized_result(y, 3)) for x, y in evaluation_data])
    assert ec[0] == pytest.approx(mean_cost + 0.5 * lmbda / 15 * squares, rel=1e-12)
    truth = sum(int(np.argmax(net.feedforward(x)) == y) for x, y in evaluation_data)
    assert ea[0] == truth


@pytest.mark.parametrize("cost", [network2.CrossEntropyCost, network2.QuadraticCost])
def test_sgd_is_mlpkit_fit_bit_for_bit(cost, capsys):
    training_data = _make_data(53, 6, vector_labels=True)  # 53: the last mini-batch is short
    net = network2.Network(SIZES, cost=cost, seed=8)
    reference = MLPKitNetwork(SIZES, activation="sigmoid", output_activation="sigmoid", loss=cost.mlpkit_loss,
                              regularizer=L2(2.5), dtype="float64", seed=0)
    reference.flat_parameters[...] = net.network.flat_parameters
    net.SGD(training_data, 4, 5, 0.4, lmbda=2.5, seed=11)
    X = np.stack([x[:, 0] for x, _ in training_data])
    Y = np.stack([y[:, 0] for _, y in training_data])
    reference.fit(X, Y, epochs=4, batch_size=5, learning_rate=0.4, seed=11, monitor_training=False, verbose=0)
    np.testing.assert_array_equal(net.network.flat_parameters, reference.flat_parameters)


def test_sgd_learns_and_accepts_zip_iterators_and_integer_training_labels(capsys):
    training_data = _make_data(200, 7, vector_labels=True)
    test_data = _make_data(100, 8, vector_labels=False)
    net = network2.Network(SIZES, seed=9)
    before = net.accuracy(test_data)
    inputs, targets = [x for x, _ in training_data], [y for _, y in training_data]
    _, accuracy, _, _ = net.SGD(zip(inputs, targets, strict=True), 10, 10, 1.0,
                                evaluation_data=iter(test_data), monitor_evaluation_accuracy=True)
    assert len(accuracy) == 10 and accuracy[-1] > max(before, 80)
    integer_labels = [(x, int(np.argmax(y))) for x, y in training_data]
    other = network2.Network(SIZES, seed=9)
    other.SGD(integer_labels, 10, 10, 1.0, seed=3)
    same = network2.Network(SIZES, seed=9)
    same.SGD(training_data, 10, 10, 1.0, seed=3)
    np.testing.assert_array_equal(other.network.flat_parameters, same.network.flat_parameters)


def test_early_stopping_n_stops_after_n_epochs_without_improvement(capsys):
    training_data = _make_data(30, 9, vector_labels=True)
    evaluation_data = _make_data(20, 10, vector_labels=False)
    net = network2.Network(SIZES, seed=10)
    # a negligible learning rate: the accuracy of epoch 0 is never beaten
    _, accuracy, _, _ = net.SGD(training_data, 50, 10, 1e-12, evaluation_data=evaluation_data,
                                monitor_evaluation_accuracy=True, early_stopping_n=3)
    assert len(accuracy) == 4 and len(set(accuracy)) == 1
    with pytest.raises(ValueError, match="need evaluation_data"):
        net.SGD(training_data, 2, 10, 0.5, early_stopping_n=2)


def test_seeding_like_the_book_repeats_a_run(capsys):
    training_data = _make_data(30, 11, vector_labels=True)
    runs = []
    for _ in range(2):
        random.seed(1)
        np.random.seed(1)
        net = network2.Network(SIZES)
        net.SGD(training_data, 2, 7, 0.5)
        runs.append(net.network.flat_parameters.copy())
    np.testing.assert_array_equal(runs[0], runs[1])


def test_accuracy_and_total_cost_check_the_convert_flag():
    training_data = _make_data(10, 12, vector_labels=True)
    test_data = _make_data(10, 13, vector_labels=False)
    net = network2.Network(SIZES, seed=11)
    assert 0 <= net.accuracy(training_data, convert=True) <= 10
    with pytest.raises(ValueError, match="convert=True"):
        net.accuracy(training_data)
    with pytest.raises(ValueError, match="needs convert=False"):
        net.accuracy(test_data, convert=True)
    assert net.total_cost(test_data, 0.0, convert=True) > 0
    with pytest.raises(ValueError, match="convert=True"):
        net.total_cost(test_data, 0.0)
    with pytest.raises(ValueError, match="must have shape"):
        net.accuracy([(np.zeros((5, 1)), 1)])
    with pytest.raises(ValueError, match="empty"):
        net.accuracy([])


def test_changing_the_cost_keeps_the_weights():
    net = network2.Network(SIZES, seed=12)
    x = np.ones((6, 1))
    before = net.feedforward(x)
    net.cost = network2.QuadraticCost
    assert net.network.loss.name == "quadratic"
    np.testing.assert_array_equal(net.feedforward(x), before)


# --------------------------------------------------------------------------------------------- files
@pytest.mark.parametrize("cost", [network2.CrossEntropyCost, network2.QuadraticCost])
def test_save_load_round_trip_is_exact(tmp_path, cost):
    net = network2.Network(SIZES, cost=cost, seed=13)
    net.SGD(_make_data(20, 14, vector_labels=True), 1, 5, 0.5, seed=0)
    path = tmp_path / "net.json"
    net.save(path)
    data = json.loads(path.read_text())
    assert set(data) == {"sizes", "weights", "biases", "cost"} and data["cost"] == cost.__name__
    assert data["sizes"] == SIZES
    assert [np.shape(w) for w in data["weights"]] == [(5, 6), (3, 5)]
    assert [np.shape(b) for b in data["biases"]] == [(5, 1), (3, 1)]
    loaded = network2.load(str(path))
    assert isinstance(loaded, network2.Network) and loaded.cost is cost and loaded.sizes == SIZES
    x = np.random.default_rng(0).normal(size=(6, 9))
    np.testing.assert_array_equal(loaded.feedforward(x), net.feedforward(x))
    assert sorted(os.listdir(tmp_path)) == ["net.json"]  # no temporary file left behind


def test_load_reads_a_file_written_by_the_books_code(tmp_path):
    rng = np.random.default_rng(1)
    weights = [rng.normal(size=(2, 3)), rng.normal(size=(1, 2))]
    biases = [rng.normal(size=(2, 1)), rng.normal(size=(1, 1))]
    path = tmp_path / "book.json"
    with open(path, "w") as f:  # what network2.Network.save writes
        json.dump({"sizes": [3, 2, 1], "weights": [w.tolist() for w in weights],
                   "biases": [b.tolist() for b in biases], "cost": "QuadraticCost"}, f)
    net = network2.load(path)
    x = np.array([[0.1], [-0.4], [2.0]])
    want = _sigmoid(weights[1] @ _sigmoid(weights[0] @ x + biases[0]) + biases[1])
    np.testing.assert_allclose(net.feedforward(x), want, rtol=1e-14)
    assert net.cost is network2.QuadraticCost


def _good_file():
    return {"sizes": [2, 1], "weights": [[[0.5, -0.5]]], "biases": [[[0.1]]], "cost": "CrossEntropyCost"}


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(cost="Network"), "unknown cost"),
    (lambda d: d.update(cost="__import__('os').system"), "unknown cost"),
    (lambda d: d.update(cost=["CrossEntropyCost"]), "unknown cost"),
    (lambda d: d.pop("biases"), "missing"),
    (lambda d: d.update(sizes=[2, "1"]), "invalid sizes"),
    (lambda d: d.update(sizes=[2]), "invalid sizes"),
    (lambda d: d.update(weights=[[[0.5, -0.5, 1.0]]]), "has shape"),
    (lambda d: d.update(weights=[[[0.5], [1.0, 2.0]]]), "not a rectangular array"),
    (lambda d: d.update(weights=[[["0.5", "1"]]]), "not a rectangular array"),
    (lambda d: d.update(biases=[[[0.1]], [[0.2]]]), "list of 1"),
    (lambda d: d.update(biases=[[[None]]]), "not a rectangular array"),
    (lambda d: d.update(biases=[[[float("nan")]]]), "NaN or infinite"),
])
def test_load_refuses_malformed_files(tmp_path, change, message):
    data = _good_file()
    change(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ModelFileError, match=message):
        network2.load(path)


def test_load_refuses_non_json_and_non_objects(tmp_path):
    path = tmp_path / "bad.json"
    path.write_bytes(b"\x80\x04K\x01.")  # a pickle
    with pytest.raises(ModelFileError, match="not a network2 JSON file"):
        network2.load(path)
    path.write_text("[1, 2]")
    with pytest.raises(ModelFileError, match="JSON object"):
        network2.load(path)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_good_file()))
    assert network2.load(good).feedforward(np.zeros((2, 1)))[0, 0] == pytest.approx(_sigmoid(0.1))


# --------------------------------------------------------------------------------- the book's snippet
# Nielsen ch.3, "Using the cross-entropy to classify MNIST digits", as printed in the book
BOOK_SNIPPET = """\
>>> import mnist_loader
>>> training_data, validation_data, test_data = \\
... mnist_loader.load_data_wrapper()
>>> import network2
>>> net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
>>> net.large_weight_initializer()
>>> net.SGD(training_data, 30, 10, 0.5, evaluation_data=test_data,
... monitor_evaluation_accuracy=True)
"""


def _mnist_available() -> bool:
    env = os.environ.get("MLPKIT_DATA")
    return bool(env) and all((Path(env) / f"{stem}-ubyte.gz").is_file() for stem in (
        "train-images-idx3", "train-labels-idx1", "t10k-images-idx3", "t10k-labels-idx1"))


@pytest.mark.slow
def test_book_snippet_reaches_the_books_accuracy(monkeypatch, capsys):
    """The book reports 95.49% for this run; with random.seed and np.random.seed 0, 1, 2 this code
    gives 95.28%, 95.58% and 95.33% (60-85 s each on a 2-core machine)."""
    if not _mnist_available():
        pytest.skip("MNIST not available: MLPKIT_DATA is not set or lacks the four .gz files")
    monkeypatch.setitem(sys.modules, "mnist_loader", mnist_loader)
    monkeypatch.setitem(sys.modules, "network2", network2)
    code = "\n".join(line[4:] for line in BOOK_SNIPPET.splitlines())
    random.seed(0)
    np.random.seed(0)
    namespace: dict = {}
    start = time.perf_counter()
    exec(compile(code, "<Nielsen ch.3>", "exec"), namespace)
    elapsed = time.perf_counter() - start
    out = capsys.readouterr().out
    counts = [int(k) for k in re.findall(r"^Accuracy on evaluation data: (\d+) / 10000$", out, re.MULTILINE)]
    assert len(counts) == 30 and re.findall(r"^Epoch (\d+) training complete$", out, re.MULTILINE)[-1] == "29"
    net, test_data = namespace["net"], namespace["test_data"]
    assert net.accuracy(test_data) == counts[-1]
    with capsys.disabled():
        print(f"\nbook snippet: final test accuracy {counts[-1]} / 10000 (book: 9549), {elapsed:.0f} s")
    assert counts[-1] >= 9499, f"final accuracy {counts[-1]} / 10000 is more than 0.5 points below the book's 95.49%"
