"""Sample and class weights in training, and the callback hooks on_epoch_begin / on_batch_end."""

import numpy as np
import pytest

from mlpkit import L2, BatchNorm, Callback, Dense, Network, gradcheck
from mlpkit.fast import DenseStackPlan
from mlpkit.optimizers import SGD, Adam


def _data(n=30, seed=0, classes=3):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)), rng.integers(0, classes, n)


def _network(**kw):
    return Network([4, 7, 3], activation="tanh", regularizer=L2(0.8), dtype="float64", seed=1, **kw)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_a_weight_of_two_is_the_row_twice_in_full_batch_training(optimizer):
    X, y = _data()
    weights = np.ones(30)
    weights[[3, 11]] = 2.0
    weights[20] = 3.0
    X_dup, y_dup = np.repeat(X, weights.astype(int), axis=0), np.repeat(y, weights.astype(int))
    weighted, repeated = _network(), _network()
    options = {"epochs": 5, "optimizer": optimizer, "learning_rate": 0.3, "verbose": 0, "seed": 0}
    h_weighted = weighted.fit(X, y, batch_size=30, sample_weight=weights, **options)
    h_repeated = repeated.fit(X_dup, y_dup, batch_size=34, **options)
    np.testing.assert_allclose(weighted.flat_parameters, repeated.flat_parameters, rtol=0, atol=1e-10)
    np.testing.assert_allclose(h_weighted["loss"], h_repeated["loss"], rtol=1e-10)
    np.testing.assert_allclose(h_weighted["accuracy"], h_repeated["accuracy"], rtol=1e-12)
    evaluated = weighted.evaluate(X, y, sample_weight=weights)
    assert evaluated["loss"] == pytest.approx(h_weighted["loss"][-1], rel=1e-12)
    assert evaluated["accuracy"] == pytest.approx(repeated.evaluate(X_dup, y_dup)["accuracy"], rel=1e-12)


def test_unit_weights_give_the_unweighted_run():
    X, y = _data(seed=1)
    plain, unit = _network(), _network()
    plain.fit(X, y, epochs=3, batch_size=8, verbose=0, seed=0)
    unit.fit(X, y, epochs=3, batch_size=8, verbose=0, seed=0, sample_weight=np.ones(30))
    np.testing.assert_allclose(unit.flat_parameters, plain.flat_parameters, rtol=0, atol=1e-13)


def test_the_planned_and_the_reference_step_agree_with_weights():
    rng = np.random.default_rng(2)
    planned = _network()
    reference = planned.copy()
    plan, optimizer = DenseStackPlan(planned, SGD(0.2), fused=False), SGD(0.2)
    for _ in range(3):
        X, Y, W = rng.normal(size=(8, 4)), np.eye(3)[rng.integers(0, 3, 8)], rng.uniform(0, 2, 8)
        plan.step(X, Y, 40.0, W)
        reference.train_batch(X, Y, optimizer, 40.0, W)
    np.testing.assert_array_equal(planned.flat_parameters, reference.flat_parameters)


@pytest.mark.parametrize("build", [
    lambda: Network([4, 6, 3], activation="tanh", regularizer=L2(0.5), seed=2),
    lambda: Network([4, 5, 1], activation="relu", output_activation="sigmoid", seed=2),
    lambda: Network([4, 5, 3], output_activation="softmax", loss="binary_crossentropy", seed=2),
    lambda: Network([4, 5, 3], output_activation="sigmoid", loss="quadratic", seed=2),
    lambda: Network([Dense(6), BatchNorm(activation="tanh"), Dense(3, "softmax")], input_dim=4, seed=2),
])
def test_weighted_gradients_pass_the_numerical_check(build):
    net = build()
    rng = np.random.default_rng(3)
    X = rng.normal(size=(9, 4))
    y = rng.integers(0, 2 if net.output_dim == 1 else 3, 9)
    weights = rng.uniform(0.0, 3.0, 9)
    result = gradcheck(net, X, y, sample_weight=weights, n_train=25)
    assert result.passed, str(result)
    # the weighted objective is not the unweighted one: the check would catch weights that were ignored
    net64 = net.astype("float64")
    Y = net64.encode_targets(y, 9)
    assert abs(net64.objective(X, Y, 25, weights) - net64.objective(X, Y, 25)) > 1e-6


def test_balanced_class_weights_raise_the_minority_recall():
    rng = np.random.default_rng(4)
    n_major, n_minor = 450, 50
    X = np.vstack([rng.normal(0.0, 1.0, size=(n_major, 2)), rng.normal(1.2, 1.0, size=(n_minor, 2))])
    y = np.r_[np.zeros(n_major, int), np.ones(n_minor, int)]
    recalls = {}
    for class_weight in (None, "balanced"):
        net = Network([2, 8, 2], activation="tanh", seed=0)
        net.fit(X, y, epochs=20, batch_size=25, learning_rate=0.5, verbose=0, seed=0, class_weight=class_weight)
        recalls[class_weight] = (net.predict(X)[y == 1] == 1).mean()
    assert recalls["balanced"] > recalls[None] + 0.3
    assert recalls["balanced"] > 0.6


def test_class_weight_mapping_and_the_validation_weights():
    X, y = _data(60, seed=5, classes=2)
    net = Network([4, 3, 2], dtype="float64", seed=0)
    Xv, yv, wv = X[:20], y[:20], np.linspace(0.5, 2.0, 20)
    history = net.fit(X, y, epochs=2, batch_size=10, verbose=0, seed=0, class_weight={1: 2.5},
                      validation_data=(Xv, yv, wv))
    assert history["val_loss"][-1] == pytest.approx(net.evaluate(Xv, yv, sample_weight=wv)["loss"], rel=1e-12)
    assert history["val_accuracy"][-1] == pytest.approx(net.evaluate(Xv, yv, sample_weight=wv)["accuracy"], rel=1e-12)
    mapped = Network([4, 3, 2], dtype="float64", seed=0)
    mapped.fit(X, y, epochs=2, batch_size=10, verbose=0, seed=0, sample_weight=np.where(y == 1, 2.5, 1.0))
    np.testing.assert_allclose(mapped.flat_parameters, net.flat_parameters, rtol=0, atol=1e-14)


@pytest.mark.parametrize(("options", "message"), [
    ({"sample_weight": np.ones(7)}, r"sample_weight has shape \(7,\); expected one weight per example, shape \(30,\)"),
    ({"sample_weight": np.r_[np.ones(29), -1.0]}, "sample_weight has the negative weight -1 at row 29"),
    ({"sample_weight": np.zeros(30)}, "sample_weight is all zero"),
    ({"sample_weight": np.r_[np.ones(5), np.nan, np.ones(24)]}, "sample_weight has a NaN or infinite weight at row 5"),
    ({"class_weight": {3: 1.0}}, r"class_weight names the class 3; the network's classes are 0..2"),
    ({"class_weight": "balance"}, "class_weight must be 'balanced' or a mapping"),
    ({"class_weight": {0: -1.0}}, r"class_weight\[0\] must be a finite number >= 0"),
    ({"validation_data": (np.ones((3, 4)), [0, 1, 2], [1.0, 1.0])}, "validation_data sample_weight has shape"),
])
def test_bad_weights_are_one_line(options, message):
    X, y = _data()
    with pytest.raises(ValueError, match=message) as info:
        _network().fit(X, y, epochs=1, verbose=0, **options)
    assert "\n" not in str(info.value)


def test_class_weight_is_refused_for_regression_and_multilabel():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10, 3))
    with pytest.raises(ValueError, match="class_weight applies to classification and binary tasks, not to a "
                                         "regression network"):
        Network([3, 1], task="regression").fit(X, rng.normal(size=10), class_weight="balanced", verbose=0)
    with pytest.raises(ValueError, match="not to a multilabel network"):
        Network([3, 2], task="multilabel").fit(X, rng.integers(0, 2, (10, 2)), class_weight={0: 2.0}, verbose=0)


# -------------------------------------------------------------------------------------------- hooks
class Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_train_begin(self, network, history):
        super().on_train_begin(network, history)
        self.events.append(("train_begin", self.optimizer))

    def on_epoch_begin(self, epoch):
        self.events.append(("epoch_begin", epoch, self.optimizer.learning_rate))

    def on_batch_end(self, batch, logs):
        self.events.append(("batch_end", batch, dict(logs)))
        self.optimizer.learning_rate *= 0.5  # a callback may change the rate between steps


def test_hooks_are_called_with_the_right_counts_and_logs():
    X, y = _data(25)
    recorder = Recorder()
    optimizer = Adam(0.01)
    _network().fit(X, y, epochs=3, batch_size=10, optimizer=optimizer, verbose=0, seed=0, callbacks=[recorder],
                   schedule=lambda epoch, history: 0.1 * (epoch + 1))
    assert recorder.events[0] == ("train_begin", optimizer)
    begins = [e for e in recorder.events if e[0] == "epoch_begin"]
    batches = [e for e in recorder.events if e[0] == "batch_end"]
    assert begins == [("epoch_begin", e, pytest.approx(0.1 * (e + 1))) for e in range(3)]  # after the schedule
    assert len(batches) == 9
    assert [e[1] for e in batches] == [0, 1, 2] * 3
    assert [e[2]["size"] for e in batches] == [10, 10, 5] * 3
    assert batches[4][2] == {"epoch": 1, "batch": 1, "size": 10, "learning_rate": pytest.approx(0.1)}
    assert batches[5][2]["learning_rate"] == pytest.approx(0.05)


def test_callbacks_without_the_hooks_are_not_called_per_batch(monkeypatch):
    calls = []
    monkeypatch.setattr(Callback, "on_batch_end", lambda self, batch, logs: calls.append(batch))
    X, y = _data(20)
    _network().fit(X, y, epochs=2, batch_size=5, verbose=0, callbacks=[Callback()])
    assert calls == []
